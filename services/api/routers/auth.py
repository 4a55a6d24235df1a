"""Staff sign-in and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from services.api import schemas
from services.api.deps import SESSION_COOKIE, AnyStaff, DbSession, SettingsDep, client_of
from services.core.organisations import service as organisations
from services.core.scoring import review as scores

router = APIRouter(tags=["auth"])


def _me(session: Session, staff_user: object, organisation: str, csrf: str) -> dict[str, object]:
    return {"user": staff_user, "organisation": organisation, "csrf_token": csrf,
            "scoring_model": scores.model_in_use(session)}


@router.post("/auth/login", response_model=schemas.LoginOut)
def login(
    body: schemas.LoginIn,
    request: Request,
    response: Response,
    session: DbSession,
    settings: SettingsDep,
) -> dict[str, object]:
    signed_in = organisations.login(
        session,
        settings=settings,
        email=body.email,
        password=body.password,
        client=client_of(request),
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=settings.session_ttl_hours * 3600,
        path="/",
    )
    organisation = organisations.get_organisation(session, org_id=signed_in.user.org_id)
    return {
        **_me(session, signed_in.user, organisation.name, signed_in.csrf_token),
        "token": signed_in.token,
    }


@router.post("/auth/logout", status_code=204)
def logout(staff: AnyStaff, response: Response, session: DbSession) -> None:
    organisations.logout(session, staff_session=staff.session)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=schemas.MeOut)
def me(staff: AnyStaff, session: DbSession) -> dict[str, object]:
    organisation = organisations.get_organisation(session, org_id=staff.org_id)
    return _me(session, staff.user, organisation.name, staff.session.csrf_token)
