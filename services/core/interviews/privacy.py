"""A candidate's data rights: ask for a person's review, have everything deleted; retention.

Deletion is a purge, not a flag: the interview, its candidate and invitation, and every row and
file under them go (the database cascades from the interview; media is deleted by folder). What
stays is the hash-chained audit log, which is append-only by design: its entries name the
interview and its answers by random ids only, which point at nothing once the rows are gone, and
never the candidate's name, email or words (reasons are written to it without them). The
download of everything held about the candidate is in export.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from services.core import jobs
from services.core.audit import service as audit
from services.core.db import utcnow
from services.core.interviews import cv, media
from services.core.interviews.orm import Candidate, Interview, Invitation
from services.core.interviews.states import AnswerState
from services.core.organisations.orm import Organisation

MAX_GRACE_DAYS = 30  # what candidates are promised; Settings.deletion_grace_days is capped too
# The sweep runs every 15 minutes and purges what falls due within the next hour, so a request
# is carried out before its due time, never after it.
PURGE_AHEAD = dt.timedelta(hours=1)
CANDIDATE_REQUEST, RETENTION = "candidate_request", "retention"
_MAX_MESSAGE = 2000


def _actor(interview: Interview) -> str:
    return f"candidate:{interview.id}"


@dataclass(frozen=True)
class DataRequests:
    """What the candidate has asked for, as staff and the candidate see it."""

    deletion_requested_at: dt.datetime | None
    deletion_due_at: dt.datetime | None
    human_review_requested_at: dt.datetime | None
    human_review_message: str | None


def requests_of(interview: Interview) -> DataRequests:
    return DataRequests(
        deletion_requested_at=interview.deletion_requested_at,
        deletion_due_at=interview.deletion_due_at,
        human_review_requested_at=interview.human_review_requested_at,
        human_review_message=interview.human_review_message,
    )


def request_deletion(
    session: Session, *, publisher: jobs.JobPublisher, interview: Interview, grace_days: int
) -> Interview:
    """Schedule the purge of everything about the candidate; asking again keeps the first date."""
    if interview.deletion_due_at is not None:
        return interview
    now = utcnow()
    interview.deletion_requested_at = now
    interview.deletion_due_at = now + dt.timedelta(days=min(grace_days, MAX_GRACE_DAYS))
    audit.record(
        session,
        org_id=interview.org_id,
        actor=_actor(interview),
        action="candidate.deletion_requested",
        subject=f"interview:{interview.id}",
        data={"due_at": interview.deletion_due_at.isoformat()},
    )
    if interview.deletion_due_at <= now + PURGE_AHEAD:  # no grace period: purge at once
        jobs.publish_after_commit(session, publisher, jobs.PURGE_INTERVIEW, interview.id)
    return interview


def request_human_review(session: Session, *, interview: Interview, message: str | None) -> Interview:
    """Flag the interview for a person's review; the message is kept with it, not in the log."""
    text = " ".join((message or "").split())[:_MAX_MESSAGE] or None
    interview.human_review_requested_at = utcnow()
    interview.human_review_message = text
    audit.record(
        session,
        org_id=interview.org_id,
        actor=_actor(interview),
        action="candidate.human_review_requested",
        subject=f"interview:{interview.id}",
        data={"with_message": text is not None},
    )
    return interview


@dataclass(frozen=True)
class PurgePlan:
    """What one purge deletes: the interview's rows, its answers' media folders and its own
    (the CV)."""

    interview_id: str
    org_id: str
    reason: str
    folders: tuple[str, ...]
    busy: bool  # an answer is being transcribed right now: wait for the next sweep


def _purge_reason(session: Session, interview: Interview, now: dt.datetime) -> str | None:
    if interview.deletion_due_at is not None and interview.deletion_due_at <= now + PURGE_AHEAD:
        return CANDIDATE_REQUEST
    organisation = session.get(Organisation, interview.org_id)
    assert organisation is not None
    started = interview.completed_at or interview.created_at
    if organisation.retention_days > 0 and started < now - dt.timedelta(
        days=organisation.retention_days
    ):
        return RETENTION
    return None


def due_for_purge(session: Session, *, now: dt.datetime, limit: int = 200) -> list[str]:
    """Interviews due to go: a candidate's request, or past their organisation's retention.

    Retention counts from completion, or from the invitation for an interview never completed.
    """
    due = list(session.scalars(
        select(Interview.id).where(Interview.deletion_due_at <= now + PURGE_AHEAD)
        .order_by(Interview.deletion_due_at).limit(limit)
        .execution_options(include_all_organisations=True)
    ))
    started = func.coalesce(Interview.completed_at, Interview.created_at)
    organisations = session.scalars(select(Organisation).where(Organisation.retention_days > 0))
    for organisation in organisations:
        due += session.scalars(
            select(Interview.id)
            .where(Interview.org_id == organisation.id,
                   started < now - dt.timedelta(days=organisation.retention_days))
            .order_by(started).limit(limit)
            .execution_options(include_all_organisations=True)
        )
    return list(dict.fromkeys(due))[:limit]


def plan_purge(
    session: Session, *, interview_id: str, now: dt.datetime, busy_since: dt.datetime
) -> PurgePlan | None:
    """The purge of one interview if it is due now; None if it is not, or is already gone."""
    interview = session.get(Interview, interview_id)
    if interview is None:
        return None
    reason = _purge_reason(session, interview, now)
    if reason is None:
        return None
    busy = any(
        a.state == AnswerState.TRANSCRIBING and a.state_changed_at > busy_since
        for a in interview.answers
    )
    return PurgePlan(
        interview_id=interview.id,
        org_id=interview.org_id,
        reason=reason,
        folders=(
            *(media.answer_folder(a.id) for a in interview.answers),
            cv.interview_folder(interview.id),
        ),
        busy=busy,
    )


def purge(session: Session, *, plan: PurgePlan, files_deleted: int, now: dt.datetime) -> bool:
    """Delete the interview, its candidate and invitation, and every row under them; log it.

    The media folders are deleted by the caller first, outside this transaction. False if the
    interview is already gone or no longer due.
    """
    interview = session.get(Interview, plan.interview_id)
    if interview is None or _purge_reason(session, interview, now) is None:
        return False
    candidate_id, invitation_id = interview.candidate_id, interview.invitation_id
    answers = len(interview.answers)
    # Consents, decisions, notes, the CV's record, self-identification, answers and everything
    # under the answers (chunks, transcripts, scoring runs, scores) go with the interview:
    # ON DELETE CASCADE.
    for statement in (
        delete(Interview).where(Interview.id == plan.interview_id),
        delete(Invitation).where(Invitation.id == invitation_id),
        delete(Candidate).where(
            Candidate.id == candidate_id,
            ~exists().where(Interview.candidate_id == Candidate.id),
        ),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    audit.record(
        session,
        org_id=plan.org_id,
        actor="system",
        action="candidate.data_deleted",
        subject=f"interview:{plan.interview_id}",
        data={"reason": plan.reason, "answers": answers, "files": files_deleted},
    )
    return True

