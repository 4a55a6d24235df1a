"""Administration: the organisation's staff and its audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.api import schemas
from services.api.deps import AdminOnly, DbSession
from services.core.audit import service as audit
from services.core.audit.orm import AuditEvent
from services.core.organisations import service as organisations
from services.core.organisations.orm import StaffRole, User

router = APIRouter(tags=["admin"])


@router.get("/users", response_model=list[schemas.UserOut])
def list_users(staff: AdminOnly, session: DbSession) -> list[User]:
    return organisations.list_users(session)


@router.post("/users", response_model=schemas.UserOut, status_code=201)
def create_user(body: schemas.UserIn, staff: AdminOnly, session: DbSession) -> User:
    return organisations.create_user(
        session,
        org_id=staff.org_id,
        email=str(body.email),
        name=body.name,
        role=StaffRole(body.role),
        password=body.password,
        actor=staff.actor,
    )


@router.get("/audit", response_model=list[schemas.AuditOut])
def list_audit(
    staff: AdminOnly,
    session: DbSession,
    after: int = Query(0, ge=0, le=2**31 - 1),  # an audit sequence number is a 32-bit integer
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditEvent]:
    return audit.list_events(session, after=after, limit=limit)


@router.get("/audit/verify", response_model=schemas.AuditVerifyOut)
def verify_audit(staff: AdminOnly, session: DbSession) -> dict[str, object]:
    problems = audit.verify(session, org_id=staff.org_id)
    return {"intact": not problems, "problems": [f"entry {p.seq}: {p.problem}" for p in problems]}
