"""What staff see of candidates, and the decisions only a person can make."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Conflict, Invalid, NotFound
from services.core.interviews.orm import Answer, Decision, Interview, Transcript
from services.core.interviews.states import InterviewState
from services.core.roles import service as roles
from services.core.roles.orm import Question

STATUSES = ("new", "in_review", "advanced", "on_hold", "not_progressed")


def without_identity(text: str, interview: Interview) -> str:
    """Staff's words as the permanent audit log keeps them: without the candidate's name or email.

    The log outlives a deletion (interviews/privacy.py), so a person's name must never enter it.
    """
    person = interview.candidate
    for value in (person.email, person.name, *person.name.split()):
        if len(value) >= 2:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "[candidate]", text, flags=re.I)
    return text


def list_interviews(session: Session, *, role_id: str) -> list[Interview]:
    roles.get_role(session, role_id=role_id)
    return list(
        session.scalars(
            select(Interview).where(Interview.role_id == role_id).order_by(Interview.created_at)
        )
    )


def get_interview(session: Session, *, interview_id: str) -> Interview:
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise NotFound("No such interview.")
    return interview


def open_interview(session: Session, *, actor: str, interview_id: str) -> Interview:
    """An interview a staff member opens; the view is logged."""
    interview = get_interview(session, interview_id=interview_id)
    audit.record(
        session,
        org_id=interview.org_id,
        actor=actor,
        action="interview.view",
        subject=f"interview:{interview.id}",
    )
    return interview


def decisions_of(session: Session, *, interview: Interview) -> list[Decision]:
    """Every status change of the candidate, oldest first."""
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.interview_id == interview.id)
            .order_by(Decision.created_at)
        )
    )


def transcripts_of(session: Session, *, interview: Interview) -> dict[str, Transcript]:
    """The newest transcript of each answer, by answer id."""
    answer_ids = [a.id for a in interview.answers]
    rows = session.scalars(
        select(Transcript)
        .where(Transcript.answer_id.in_(answer_ids))
        .order_by(Transcript.created_at)
    )
    return {t.answer_id: t for t in rows}


def open_answer_media(session: Session, *, actor: str, answer_id: str) -> Answer:
    """The answer whose recording a staff member is about to play; the view is logged."""
    answer = session.get(Answer, answer_id)
    if answer is None or answer.media_key is None:
        raise NotFound("No recording for this answer.")
    audit.record(
        session,
        org_id=answer.org_id,
        actor=actor,
        action="answer.media.view",
        subject=f"answer:{answer.id}",
    )
    return answer


def decide(
    session: Session,
    *,
    actor_id: str,
    interview_id: str,
    status: str,
    reason: str,
    viewed: list[str],
) -> Decision:
    """Change one candidate's status: always a named person, always with a reason."""
    interview = get_interview(session, interview_id=interview_id)
    if status not in STATUSES:
        raise Invalid(
            f"Status must be one of {', '.join(STATUSES)}.", code="bad_status", field="status"
        )
    if len(reason.strip()) < 5:
        raise Invalid("Give a reason for this decision.", code="reason_required", field="reason")
    decision = Decision(
        org_id=interview.org_id,
        interview_id=interview.id,
        actor_id=actor_id,
        from_status=interview.status,
        to_status=status,
        reason=reason.strip(),
        viewed=viewed[:100],
    )
    interview.status = status
    session.add(decision)
    session.flush()
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"user:{actor_id}",
        action="decision",
        subject=f"interview:{interview.id}",
        data={
            "from": decision.from_status,
            "to": status,
            "reason": without_identity(decision.reason, interview),
            "viewed": decision.viewed,
        },
    )
    return decision


def questions_of(session: Session, *, interview: Interview) -> dict[str, Question]:
    """The questions of an interview's answers, by id."""
    ids = [a.question_id for a in interview.answers]
    return {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(ids)))}


@dataclass(frozen=True)
class Accommodations:
    """What a recruiter grants one candidate on top of the role's settings."""

    extra_think_seconds: int = 0
    extra_answer_seconds: int = 0
    extra_retakes: int = 0
    typed_answers: bool = False


def accommodations_of(interview: Interview) -> Accommodations:
    return Accommodations(
        extra_think_seconds=interview.extra_think_seconds,
        extra_answer_seconds=interview.extra_answer_seconds,
        extra_retakes=interview.extra_retakes,
        typed_answers=interview.typed_answers,
    )


def set_accommodations(
    session: Session, *, actor_id: str, interview_id: str, granted: Accommodations, reason: str
) -> Interview:
    """Grant or change a candidate's accommodations; every change is logged with its reason."""
    interview = get_interview(session, interview_id=interview_id)
    if interview.state in (InterviewState.COMPLETED, InterviewState.EXPIRED):
        raise Conflict(
            f"This interview is {interview.state.value}; its accommodations can no longer change.",
            code="interview_closed",
        )
    before = accommodations_of(interview)
    if granted == before:
        return interview
    interview.extra_think_seconds = granted.extra_think_seconds
    interview.extra_answer_seconds = granted.extra_answer_seconds
    interview.extra_retakes = granted.extra_retakes
    interview.typed_answers = granted.typed_answers
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"user:{actor_id}",
        action="accommodations.changed",
        subject=f"interview:{interview.id}",
        data={
            "before": asdict(before),
            "after": asdict(granted),
            "reason": without_identity(reason.strip(), interview),
        },
    )
    return interview
