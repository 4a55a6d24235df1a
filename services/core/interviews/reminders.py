"""Following up on invitations: one reminder before expiry, and a recruiter's extension."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.core import security
from services.core.audit import service as audit
from services.core.db import utcnow
from services.core.errors import Conflict
from services.core.interviews import invitations, review
from services.core.interviews.orm import Candidate, Interview, Invitation
from services.core.interviews.states import InterviewState
from services.core.organisations import service as organisations
from services.core.roles import service as roles
from services.core.settings import Settings

UNFINISHED = (InterviewState.INVITED, InterviewState.CONSENTED, InterviewState.IN_PROGRESS)


@dataclass(frozen=True)
class InvitationStatus:
    """What staff see of a candidate's invitation."""

    expires_at: dt.datetime
    expired: bool  # the link no longer opens the interview for answering
    reminded_at: dt.datetime | None
    via_open_link: bool


def status_of(interview: Interview, *, now: dt.datetime | None = None) -> InvitationStatus:
    invitation = interview.invitation
    return InvitationStatus(
        expires_at=invitation.expires_at,
        expired=interview.state in UNFINISHED and invitation.expires_at <= (now or utcnow()),
        reminded_at=invitation.reminded_at,
        via_open_link=invitation.open_link_id is not None,
    )


def send_due_reminders(session: Session, *, settings: Settings, now: dt.datetime) -> list[str]:
    """Remind every unfinished candidate whose link expires within the configured days, once.

    An invitation issued inside that window (a short-lived one) gets no reminder: its first
    email is recent enough. Returns the interviews reminded; the emails go after the commit.
    """
    days = settings.reminder_days_before_expiry
    if days == 0:
        return []
    window = dt.timedelta(days=days)
    due = session.scalars(
        select(Interview)
        .join(Invitation, Invitation.id == Interview.invitation_id)
        .join(Candidate, Candidate.id == Interview.candidate_id)
        .where(
            Invitation.reminded_at.is_(None),
            Invitation.expires_at > now,
            Invitation.expires_at <= now + window,
            Interview.state.in_(UNFINISHED),
            Interview.deletion_requested_at.is_(None),
            Candidate.is_synthetic.is_(False),
        )
        .order_by(Invitation.expires_at)
    ).all()
    reminded = []
    for interview in due:
        invitation = interview.invitation
        if invitation.created_at > invitation.expires_at - window or not _claim(
            session, invitation_id=invitation.id, now=now
        ):
            continue
        _remind(session, settings=settings, interview=interview)
        reminded.append(interview.id)
    return reminded


def _claim(session: Session, *, invitation_id: str, now: dt.datetime) -> bool:
    """Mark the reminder sent; a conditional UPDATE, so two sweeps never both send it."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


def _remind(session: Session, *, settings: Settings, interview: Interview) -> None:
    invitation = interview.invitation
    token = invitations.rebuilt_token(invitation)
    organisation = organisations.get_organisation(session, org_id=interview.org_id)
    role = roles.get_role(session, role_id=interview.role_id)
    subject, body = reminder_email(
        organisation=organisation.name,
        role_title=role.title,
        name=interview.candidate.name,
        url=invitations.invite_url(settings, token) if token else None,
        expires_at=invitation.expires_at,
        invited_on=invitation.created_at,
    )
    invitations.email_after_commit(
        session, settings=settings, interview=interview, subject=subject, body=body
    )
    audit.record(
        session,
        org_id=interview.org_id,
        actor="system",
        action="invitation.reminded",
        subject=f"interview:{interview.id}",
        data={"expires_at": invitation.expires_at.isoformat(), "with_link": token is not None},
    )


def reminder_email(
    *,
    organisation: str,
    role_title: str,
    name: str,
    url: str | None,
    expires_at: dt.datetime,
    invited_on: dt.datetime,
) -> tuple[str, str]:
    """Subject and body of the one reminder; a link issued at random cannot be rebuilt, so
    that reminder points to the first email instead."""
    subject = f"Reminder: your interview for {role_title} at {organisation}"
    where = (
        f"Open your interview here (the link is yours alone; keep it private):\n{url}\n"
        if url
        else f"Open it from the link in the email {organisation} sent you on "
        f"{invited_on:%d %B %Y}.\n"
    )
    body = (
        f"Hello {name},\n\n"
        f"This is a reminder that your interview for the {role_title} role at {organisation} "
        f"is still open until {expires_at:%d %B %Y}. It takes about 15 minutes; if you started "
        "it already, you continue at the next unanswered question.\n\n"
        f"{where}\n"
        "This is the only reminder you will get.\n"
    )
    return subject, body


@dataclass(frozen=True)
class Extended:
    expires_at: dt.datetime
    invite_url: str


def extend_invitation(
    session: Session,
    *,
    settings: Settings,
    actor_id: str,
    interview_id: str,
    days: int,
    reason: str,
) -> Extended:
    """More time to answer, counted from the later of now and the old expiry; the link is
    emailed again, and the change is logged with its reason."""
    interview = review.get_interview(session, interview_id=interview_id)
    if interview.state not in UNFINISHED:
        raise Conflict(
            f"This interview is {interview.state.value}; its invitation cannot be extended.",
            code="interview_closed",
        )
    if interview.deletion_requested_at is not None:
        raise Conflict("The candidate asked for their data to be deleted.",
                       code="deletion_requested")
    invitation = interview.invitation
    before = invitation.expires_at
    invitation.expires_at = max(before, utcnow()) + dt.timedelta(days=days)
    token = invitations.rebuilt_token(invitation)
    if token is None:
        # A link issued at random cannot be sent again: the email carries a new one instead.
        token = invitations.personal_token(invitation.id)
        invitation.token_hash = security.token_hash(token)
    url = invitations.invite_url(settings, token)
    organisation = organisations.get_organisation(session, org_id=interview.org_id)
    role = roles.get_role(session, role_id=interview.role_id)
    subject, body = invitations.invitation_email(
        organisation=organisation.name,
        role_title=role.title,
        name=interview.candidate.name,
        url=url,
        expires_at=invitation.expires_at,
    )
    invitations.count_email(session, settings=settings, org_id=interview.org_id)
    invitations.email_after_commit(
        session, settings=settings, interview=interview, subject=subject, body=body
    )
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"user:{actor_id}",
        action="invitation.extended",
        subject=f"interview:{interview.id}",
        data={
            "days": days,
            "before": before.isoformat(),
            "after": invitation.expires_at.isoformat(),
            "reason": review.without_identity(reason.strip(), interview),
        },
    )
    return Extended(expires_at=invitation.expires_at, invite_url=url)
