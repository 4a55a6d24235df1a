"""Job roles, their thresholds, invitations and candidate lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
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
from services.core.interviews import invitations, reminders, speech
from services.core.interviews.orm import Interview
from services.core.organisations import service as organisations
from services.core.roles import service as roles
from services.core.roles.orm import JobRole
from services.core.scoring import standings
from services.core.settings import Settings

router = APIRouter(tags=["roles"])
_EMAIL = TypeAdapter(EmailStr)


def _thresholds(items: list[schemas.ThresholdIO]) -> list[roles.Threshold]:
    return [roles.Threshold(t.competency_key, t.required_level, t.exceeds_level) for t in items]


def _role_fields(body: schemas.RoleIn) -> dict[str, object]:
    """A role's settings as the form sends them, for creating or editing it."""
    return {
        "title": body.title,
        "description": body.description,
        "rubric_version_id": body.rubric_version_id,
        "question_ids": body.question_ids,
        "thresholds": _thresholds(body.thresholds),
        "think_seconds": body.think_seconds,
        "answer_seconds": body.answer_seconds,
        "retakes": body.retakes,
    }


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
        **_role_fields(body),
    )
    # Spoken ahead, so the avatar's audio is usually ready before the first candidate arrives.
    speech.prepare_role(
        session, storage=storage, publisher=publisher, voice=settings.tts_voice, role=role
    )
    return role


def _detail(session: Session, role: JobRole) -> schemas.RoleDetailOut:
    return schemas.RoleDetailOut(
        **schemas.RoleOut.model_validate(role).model_dump(),
        candidates_started=roles.candidates_started(session, role_id=role.id),
    )


@router.get("/roles/{role_id}", response_model=schemas.RoleDetailOut)
def get_role(role_id: str, staff: AnyStaff, session: DbSession) -> schemas.RoleDetailOut:
    return _detail(session, roles.get_role(session, role_id=role_id))


@router.put("/roles/{role_id}", response_model=schemas.RoleDetailOut)
def update_role(
    role_id: str,
    body: schemas.RoleIn,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
    storage: StorageDep,
    publisher: PublisherDep,
) -> schemas.RoleDetailOut:
    """Edit a role; once a candidate has started, its script, rubric version and retakes stay."""
    role = roles.update_role(
        session,
        actor=staff.actor,
        role_id=role_id,
        **_role_fields(body),
    )
    speech.prepare_role(
        session, storage=storage, publisher=publisher, voice=settings.tts_voice, role=role
    )
    return _detail(session, role)


@router.get("/roles/{role_id}/score-distribution", response_model=schemas.ScoreDistributionOut)
def score_distribution(role_id: str, staff: Recruiting, session: DbSession) -> dict[str, object]:
    """Per competency, the candidates' current scores in 20 bins of 5 points (band preview)."""
    role = roles.get_role(session, role_id=role_id)
    counts = standings.distribution(session, role_id=role.id)
    return {
        "role_id": role.id,
        "competencies": [
            {"competency_key": key, "counts": bins, "candidates": sum(bins)}
            for key, bins in sorted(counts.items())
        ],
    }


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
    pages = list(_all_pages(session, role_id))
    keys = sorted({t.competency_key for t in role.thresholds} | {
        s.competency_key for page in pages for rows in page.standings.values() for s in rows
    })
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(["rank", "candidate", "email", "interview_state", "status", "fit",
                  *(f"{k}_score" for k in keys), *(f"{k}_band" for k in keys), "interview_id"])
    rank = 0
    for page in pages:
        for interview in page.interviews:
            by_key = {s.competency_key: s for s in page.standings[interview.id]}
            rank += 1
            out.writerow([
                rank if interview.fit is not None else "",
                _safe_cell(interview.candidate.name),
                _safe_cell(interview.candidate.email),
                interview.state.value,
                interview.status,
                "" if interview.fit is None else interview.fit,
                *("" if k not in by_key else by_key[k].score for k in keys),
                *("" if k not in by_key else by_key[k].band or "" for k in keys),
                interview.id,
            ])
    audit.record(
        session,
        org_id=role.org_id,
        actor=staff.actor,
        action="ranking.exported",
        subject=f"role:{role.id}",
        data={"candidates": rank},
    )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="candidates-{role.id}.csv"'},
    )


def _all_pages(session: Session, role_id: str) -> Iterator[standings.Page]:
    cursor = None
    while True:
        page = standings.page(session, role_id=role_id, cursor=cursor, limit=1000)
        yield page
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _filters(
    state: Annotated[list[str], Query(description="Interview states to show.")] = [],  # noqa: B006
    status: Annotated[list[str], Query(description="Statuses to show.")] = [],  # noqa: B006
    band: Annotated[
        list[str], Query(description="competency:band, e.g. communication:exceeds; all must hold.")
    ] = [],  # noqa: B006
    q: Annotated[str, Query(max_length=200, description="Part of a name or email.")] = "",
    scored: bool | None = None,
    attention: Annotated[
        str | None, Query(description="human_review, deletion or failed")
    ] = None,
) -> standings.Filters:
    return standings.Filters(
        states=state, statuses=status, bands=[standings.parse_band(b) for b in band],
        search=q, scored=scored, attention=attention,
    )


CandidateFilters = Annotated[standings.Filters, Depends(_filters)]


@router.get("/roles/{role_id}/candidates", response_model=schemas.CandidatePage)
def list_candidates(
    role_id: str,
    staff: Recruiting,
    session: DbSession,
    filters: CandidateFilters,
    sort: Annotated[str, Query(description="fit (best first), newest or name")] = "fit",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, object]:
    """A role's candidates, best overall fit first, a page at a time; none is ever left out.

    Filters narrow what one page shows on request; without any the pages hold every candidate.
    `next_cursor` fetches the following page. The first page counts the matches up to 1,000
    (`total_capped` when there are more); `.../candidates/count` counts them all.
    """
    roles.get_role(session, role_id=role_id)
    page = standings.page(
        session, role_id=role_id, filters=filters, sort=sort, cursor=cursor, limit=limit
    )
    return {
        "total": page.total,
        "total_capped": page.total_capped,
        "next_cursor": page.next_cursor,
        "items": [_row(interview, page) for interview in page.interviews],
    }


@router.get("/roles/{role_id}/candidates/count", response_model=schemas.CandidateCount)
def count_candidates(role_id: str, staff: Recruiting, session: DbSession,
                     filters: CandidateFilters) -> dict[str, int]:
    """How many of the role's candidates match the filters (the same as the list's), exactly."""
    roles.get_role(session, role_id=role_id)
    return {"total": standings.count(session, role_id=role_id, filters=filters)}


def _row(interview: Interview, page: standings.Page) -> dict[str, object]:
    return {
        "interview_id": interview.id,
        "candidate_name": interview.candidate.name,
        "candidate_email": interview.candidate.email,
        "is_synthetic": interview.candidate.is_synthetic,
        "state": interview.state.value,
        "status": interview.status,
        "answers": page.answers[interview.id],
        "competencies": [
            {
                "key": s.competency_key,
                "score": s.score,
                "band": s.band,
                "required_level": page.thresholds.get(s.competency_key, (None, None))[0],
                "exceeds_level": page.thresholds.get(s.competency_key, (None, None))[1],
                "answers": s.answers,
                "model_score": s.model_score,
                "overridden": s.overridden,
            }
            for s in page.standings[interview.id]
        ],
        "fit": interview.fit,
        "deletion_due_at": interview.deletion_due_at,
        "human_review_requested_at": interview.human_review_requested_at,
        "invitation_expires_at": interview.invitation.expires_at,
        "invitation_expired": reminders.status_of(interview).expired,
    }
