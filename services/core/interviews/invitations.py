"""Invitations: the unguessable link that is a candidate's only key to their own interview."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, lazyload

from services.core import mail, security
from services.core.audit import service as audit
from services.core.db import ORG_SCOPE, after_commit, new_id, utcnow
from services.core.errors import Gone, NotAuthenticated
from services.core.interviews.orm import Candidate, Interview, Invitation
from services.core.interviews.states import InterviewState
from services.core.ratelimit import service as ratelimit
from services.core.roles import service as roles
from services.core.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedInvitation:
    interview: Interview
    token: str  # shown once; only its hash is stored
    expires_at: dt.datetime


def invite_candidate(
    session: Session,
    *,
    org_id: str,
    actor_id: str | None,
    role_id: str,
    name: str,
    email: str,
    ttl_days: int,
    is_synthetic: bool = False,
    token: str | None = None,
    open_link_id: str | None = None,
) -> IssuedInvitation:
    """Create a candidate's interview for a role and the link that opens it.

    The token is derived from the invitation's id and the secret key, so a reminder can carry
    the link again (`rebuilt_token`). `token` is for the demo loader only, whose link must be
    printable at every start.
    """
    role = roles.get_role(session, role_id=role_id)
    invitation_id = new_id()
    token = token or personal_token(invitation_id)
    expires_at = utcnow() + dt.timedelta(days=ttl_days)
    candidate = Candidate(
        org_id=org_id, name=name.strip(), email=email.strip().lower(), is_synthetic=is_synthetic
    )
    invitation = Invitation(
        id=invitation_id,
        org_id=org_id,
        token_hash=security.token_hash(token),
        expires_at=expires_at,
        created_by_id=actor_id,
        open_link_id=open_link_id,
    )
    session.add_all([candidate, invitation])
    session.flush()
    interview = Interview(
        org_id=org_id, candidate_id=candidate.id, role_id=role.id, invitation_id=invitation.id
    )
    session.add(interview)
    session.flush()
    audit.record(
        session,
        org_id=org_id,
        actor=f"user:{actor_id}" if actor_id else "system",
        action="invitation.create",
        subject=f"interview:{interview.id}",
        data={
            "role_id": role.id,
            "expires_at": expires_at.isoformat(),
            **({"open_link_id": open_link_id} if open_link_id else {}),
        },
    )
    return IssuedInvitation(interview=interview, token=token, expires_at=expires_at)


def personal_token(invitation_id: str) -> str:
    secret = get_settings().secret_key.get_secret_value()
    return security.derived_token(secret, f"parley-invite:{invitation_id}")


def rebuilt_token(invitation: Invitation) -> str | None:
    """The invitation's token again, or None for one issued at random (before tokens were
    derived, or by the demo) or under another secret key: only its first email holds it."""
    token = personal_token(invitation.id)
    return token if security.same(security.token_hash(token), invitation.token_hash) else None


def guessing_limit(settings: Settings) -> ratelimit.Limit:
    """Wrong invite or open-link tokens per client address (both are the same guessing)."""
    return ratelimit.Limit(
        "token_guess",
        settings.token_guess_max_failures,
        dt.timedelta(seconds=settings.token_guess_window_seconds),
    )


_GUESSING = (
    "Too many links that do not work were tried from this network. "
    "Wait a few minutes, then open your link again."
)


def check_guessing(session: Session, *, client: str | None) -> None:
    """Refuse a client that sent too many wrong tokens, before looking the token up: a guesser
    over the limit learns nothing, not even when a guess would have been right."""
    if client is not None:
        ratelimit.check(session, limit=guessing_limit(get_settings()), subject=client,
                        message=_GUESSING)


def count_wrong_token(session: Session, *, client: str | None) -> None:
    if client is not None:
        ratelimit.record(session, limit=guessing_limit(get_settings()), subject=client)


def open_interview(
    session: Session, *, token: str, allow_expired: bool = False, client: str | None = None
) -> Interview:
    """The interview behind an invite token; scopes the session to its organisation.

    `allow_expired` is for the candidate's data rights, which outlast the time to answer.
    `client` (the caller's address) counts wrong tokens against the guessing limit.
    """
    # One statement: the interview, its invitation and (for a client) the wrong tokens it
    # sent lately, which refuse a guesser over the limit whether or not this token is right.
    # The answers and the candidate load when a caller reads them, not for every chunk.
    found = (
        select(Interview)
        .join(Interview.invitation)
        .where(Invitation.token_hash == security.token_hash(token))
        .options(
            contains_eager(Interview.invitation),
            lazyload(Interview.answers),
            lazyload(Interview.candidate),
        )
    )
    limit = guessing_limit(get_settings())
    if client is not None:
        found = found.add_columns(*ratelimit.counted(limit, client))
    row = session.execute(found).one_or_none()
    if row is None:
        check_guessing(session, client=client)
        count_wrong_token(session, client=client)
        raise NotAuthenticated(
            "This interview link is not valid.", code="invalid_invite", keep_changes=True
        )
    if client is not None:
        ratelimit.refuse_over(limit, events=row[1], oldest=row[2], message=_GUESSING)
    interview = row[0]
    invitation = interview.invitation
    session.info[ORG_SCOPE] = invitation.org_id
    if not allow_expired and invitation.expires_at <= utcnow() and interview.state in (
        InterviewState.INVITED,
        InterviewState.CONSENTED,
        InterviewState.IN_PROGRESS,
    ):
        raise Gone(
            "This interview link has expired. Ask the recruiter for a new one.",
            code="invite_expired",
        )
    return interview


def invite_url(settings: Settings, token: str) -> str:
    """The link a candidate opens; the token is in the fragment, never sent to a server log."""
    return f"{settings.public_url}/interview/#{token}"


def invitation_email(
    *, organisation: str, role_title: str, name: str, url: str, expires_at: dt.datetime
) -> tuple[str, str]:
    """Subject and plain-text body of the email that carries an invite link."""
    subject = f"Your interview for {role_title} at {organisation}"
    body = (
        f"Hello {name},\n\n"
        f"{organisation} invites you to a short structured interview for the {role_title} role. "
        "You answer a few questions by speaking, at a time that suits you, on a phone or a "
        "computer; it takes about 15 minutes. An AI interviewer asks the questions, and an AI "
        "assesses the content of your answers; a person at "
        f"{organisation} reviews them and makes every decision.\n\n"
        f"Open your interview here (the link is yours alone; keep it private):\n{url}\n\n"
        f"The link works until {expires_at:%d %B %Y}. The first page explains what is recorded "
        "and how it is assessed, and how to ask for an adjustment or a review by a person "
        "only.\n"
    )
    return subject, body


def count_email(session: Session, *, settings: Settings, org_id: str) -> None:
    """One more invitation email from the organisation this hour, or 429 (a CSV of a thousand
    fits; a loop that invites without end, or a stolen session, does not)."""
    limit = ratelimit.Limit(
        "invitation_email", settings.invitation_emails_per_hour, dt.timedelta(hours=1)
    )
    ratelimit.spend(
        session,
        limit=limit,
        subject=org_id,
        message=f"This organisation has sent {limit.max_events} invitation emails in the last "
        "hour, the most it may. Try again later.",
    )


def email_invitation(
    session: Session, *, settings: Settings, issued: IssuedInvitation, organisation: str
) -> str:
    """Email the link once the invitation is committed; returns the link (shown once)."""
    url = invite_url(settings, issued.token)
    interview = issued.interview
    count_email(session, settings=settings, org_id=interview.org_id)
    role = roles.get_role(session, role_id=interview.role_id)
    subject, body = invitation_email(
        organisation=organisation,
        role_title=role.title,
        name=interview.candidate.name,
        url=url,
        expires_at=issued.expires_at,
    )
    email_after_commit(
        session,
        settings=settings,
        interview=interview,
        subject=subject,
        body=body,
    )
    return url


def email_after_commit(
    session: Session, *, settings: Settings, interview: Interview, subject: str, body: str
) -> None:
    """Email the candidate once the transaction that decided it has committed."""
    to, interview_id = interview.candidate.email, interview.id

    def send() -> None:
        try:
            mail.send_email(settings, to=to, subject=subject, body=body)
        except (OSError, smtplib.SMTPException):
            # What the email was about stands (the recruiter has the link); the log says why.
            log.exception("an email to the candidate of interview %s was not sent", interview_id)

    after_commit(session, send)
