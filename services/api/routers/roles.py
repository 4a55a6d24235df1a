"""Job roles, their thresholds, invitations and candidate lists."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from services.api import schemas
from services.api.deps import (
    AnyStaff,
    DbSession,
    PublisherDep,
    Recruiting,
    SettingsDep,
    Staff,
    StorageDep,
)
from services.api.uploads import read_body
from services.core import jobs
from services.core.audit import service as audit
from services.core.errors import Invalid
from services.core.interviews import invitations, review, speech
from services.core.organisations import service as organisations
from services.core.roles import service as roles
from services.core.roles.orm import JobRole
from services.core.scoring import review as scores
from services.core.settings import Settings

router = APIRouter(tags=["roles"])
_EMAIL = TypeAdapter(EmailStr)


def _thresholds(items: list[schemas.ThresholdIO]) -> list[roles.Threshold]:
    return [roles.Threshold(t.competency_key, t.required_level, t.exceeds_level) for t in items]


@router.get("/roles", response_model=list[schemas.RoleOut])
def list_roles(staff: AnyStaff, session: DbSession) -> list[JobRole]:
    return roles.list_roles(session)


@router.post("/roles", response_model=schemas.RoleOut, status_code=201)
def create_role(
    body: schemas.RoleIn,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
    storage: StorageDep,
    publisher: PublisherDep,
) -> JobRole:
    role = roles.create_role(
        session,
        org_id=staff.org_id,
        actor=staff.actor,
        title=body.title,
        description=body.description,
        rubric_version_id=body.rubric_version_id,
        question_ids=body.question_ids,
        thresholds=_thresholds(body.thresholds),
        think_seconds=body.think_seconds,
        answer_seconds=body.answer_seconds,
        retakes=body.retakes,
    )
    # Spoken ahead, so the avatar's audio is usually ready before the first candidate arrives.
    speech.prepare_role(
        session, storage=storage, publisher=publisher, voice=settings.tts_voice, role=role
    )
    return role


@router.get("/roles/{role_id}", response_model=schemas.RoleOut)
def get_role(role_id: str, staff: AnyStaff, session: DbSession) -> JobRole:
    return roles.get_role(session, role_id=role_id)


@router.put("/roles/{role_id}/thresholds", response_model=schemas.RoleOut)
def set_thresholds(
    role_id: str, body: schemas.ThresholdsIn, staff: Recruiting, session: DbSession
) -> JobRole:
    return roles.set_thresholds(
        session, actor=staff.actor, role_id=role_id, thresholds=_thresholds(body.thresholds)
    )


@router.put("/roles/{role_id}/ai-scoring", response_model=schemas.RoleOut)
def set_ai_scoring(
    role_id: str,
    body: schemas.AiScoringIn,
    staff: Recruiting,
    session: DbSession,
    publisher: PublisherDep,
) -> JobRole:
    """Pause AI scoring for a role, or resume it (what arrived meanwhile is then scored)."""
    role = roles.set_ai_scoring_paused(
        session, actor=staff.actor, role_id=role_id, paused=body.paused, reason=body.reason
    )
    if not body.paused:
        jobs.publish_after_commit(session, publisher, jobs.RESCORE_ALL)
    return role


@router.put("/roles/{role_id}/feedback", response_model=schemas.RoleOut)
def set_feedback(
    role_id: str, body: schemas.FeedbackSettingIn, staff: Recruiting, session: DbSession
) -> JobRole:
    """Offer candidates a report of the strengths their answers showed, some days later."""
    return roles.set_feedback(
        session,
        actor=staff.actor,
        role_id=role_id,
        enabled=body.enabled,
        delay_days=body.delay_days,
    )


@router.post("/roles/{role_id}/invitations", response_model=schemas.InvitationOut, status_code=201)
def invite(
    role_id: str,
    body: schemas.InvitationIn,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
) -> dict[str, object]:
    """Invite one candidate; the link is emailed to them and shown here once."""
    organisation = organisations.get_organisation(session, org_id=staff.org_id)
    return _invite(
        session, settings, staff, role_id, organisation.name, name=body.name, email=str(body.email)
    )


def _invite(
    session: Session,
    settings: Settings,
    staff: Staff,
    role_id: str,
    organisation: str,
    *,
    name: str,
    email: str,
) -> dict[str, object]:
    issued = invitations.invite_candidate(
        session,
        org_id=staff.org_id,
        actor_id=staff.user.id,
        role_id=role_id,
        name=name,
        email=email,
        ttl_days=settings.invite_ttl_days,
    )
    # The token travels in the URL fragment, which browsers never send to the server or its logs.
    url = invitations.email_invitation(
        session, settings=settings, issued=issued, organisation=organisation
    )
    return {"interview_id": issued.interview.id, "expires_at": issued.expires_at, "invite_url": url}


MAX_BATCH = 1000


@router.post(
    "/roles/{role_id}/invitations/batch",
    response_model=list[schemas.BatchInvitationOut],
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def invite_many(
    role_id: str, request: Request, staff: Recruiting, session: DbSession, settings: SettingsDep
) -> list[dict[str, object]]:
    """Invite everyone in a CSV with a `name` and an `email` column; all or nothing."""
    data = await read_body(request, limit=2 * 1024 * 1024)
    people = _people(data)
    organisation = await run_in_threadpool(
        organisations.get_organisation, session, org_id=staff.org_id
    )
    rows = []
    for name, email in people:
        out = await run_in_threadpool(
            _invite, session, settings, staff, role_id, organisation.name, name=name, email=email
        )
        rows.append({"name": name, "email": email, **out})
    return rows


def _people(data: bytes) -> list[tuple[str, str]]:
    """The CSV's rows, each checked; every problem is named with its line before anything is made."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("The file is not UTF-8 text.", code="bad_csv") from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"name", "email"} <= fields:
        raise Invalid("The CSV needs a header row with name and email columns.", code="bad_csv")
    people, problems = [], []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            email = _EMAIL.validate_python(row.get("email", ""))
        except ValidationError:
            problems.append(f"line {line}: not an email address")
            continue
        if not row.get("name"):
            problems.append(f"line {line}: no name")
            continue
        people.append((row["name"][:200], str(email).lower()))
    if problems:
        raise Invalid("Some rows cannot be invited; nothing was sent.", code="bad_rows",
                      problems=problems[:50])
    if not people:
        raise Invalid("The CSV has no one to invite.", code="empty_csv")
    if len(people) > MAX_BATCH:
        raise Invalid(f"At most {MAX_BATCH} invitations at a time.", code="too_many")
    return people


def _safe_cell(text: str) -> str:
    """No spreadsheet formula from a candidate's own text (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/roles/{role_id}/candidates.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_candidates(role_id: str, staff: Recruiting, session: DbSession) -> Response:
    """The ranking as a spreadsheet: every candidate, best fit first, a column per competency."""
    role = roles.get_role(session, role_id=role_id)
    ranked = scores.ranked(session, interviews=review.list_interviews(session, role_id=role_id))
    keys = sorted({t.competency_key for t in role.thresholds} | {
        c.key for row in ranked for c in row.competencies
    })
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(["rank", "candidate", "email", "interview_state", "status", "fit",
                  *(f"{k}_score" for k in keys), *(f"{k}_band" for k in keys), "interview_id"])
    for rank, row in enumerate(ranked, start=1):
        by_key = {c.key: c for c in row.competencies}
        out.writerow([
            rank if row.fit is not None else "",
            _safe_cell(row.interview.candidate.name),
            _safe_cell(row.interview.candidate.email),
            row.interview.state.value,
            row.interview.status,
            "" if row.fit is None else row.fit,
            *("" if k not in by_key else by_key[k].score for k in keys),
            *("" if k not in by_key else by_key[k].band or "" for k in keys),
            row.interview.id,
        ])
    audit.record(
        session,
        org_id=role.org_id,
        actor=staff.actor,
        action="ranking.exported",
        subject=f"role:{role.id}",
        data={"candidates": len(ranked)},
    )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="candidates-{role.id}.csv"'},
    )


@router.get("/roles/{role_id}/candidates", response_model=list[schemas.CandidateRow])
def list_candidates(role_id: str, staff: Recruiting, session: DbSession) -> list[dict[str, object]]:
    """Every candidate of the role, best overall fit first; none is ever left out."""
    return [
        {
            "interview_id": row.interview.id,
            "candidate_name": row.interview.candidate.name,
            "candidate_email": row.interview.candidate.email,
            "is_synthetic": row.interview.candidate.is_synthetic,
            "state": row.interview.state.value,
            "status": row.interview.status,
            "answers": row.interview.answers,
            "competencies": row.competencies,
            "fit": row.fit,
            "deletion_due_at": row.interview.deletion_due_at,
            "human_review_requested_at": row.interview.human_review_requested_at,
        }
        for row in scores.ranked(session, interviews=review.list_interviews(session, role_id=role_id))
    ]
