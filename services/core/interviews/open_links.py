"""Open links: one link per role that anyone may open to get an interview of their own.

The link's token is derived from its id and the secret key (only its hash is stored), so the
role page can show it again. Whoever opens it gives a name and an email and gets a normal
invitation; an email already invited to the role gets its own link emailed instead, so a
stranger who knows someone's address never reaches their interview.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.core import security
from services.core.audit import service as audit
from services.core.db import ORG_SCOPE, new_id, utcnow
from services.core.errors import Gone, NotFound, RateLimited
from services.core.interviews import invitations
from services.core.interviews.orm import Candidate, Interview, Invitation, OpenLink
from services.core.organisations import service as organisations
from services.core.ratelimit import service as ratelimit
from services.core.roles import service as roles
from services.core.settings import Settings, get_settings

FRAGMENT_PREFIX = "open="  # /interview/#open=TOKEN: the candidate page tells the two links apart
RESEND_EVERY = dt.timedelta(minutes=10)  # an open link never floods someone's inbox
_HOUR = dt.timedelta(hours=1)
_FULL = "This link has reached the number of candidates it was opened for."
_CLOSED = {
    "disabled": "This link has been closed by the organisation that shared it.",
    "expired": "This link has expired.",
    "full": _FULL,
}


@dataclass(frozen=True)
class Joined:
    """The new interview's token, or None when the email was already invited (its link was
    emailed to it, and only to it)."""

    invite_token: str | None


def link_token(link_id: str) -> str:
    secret = get_settings().secret_key.get_secret_value()
    return security.derived_token(secret, f"parley-open-link:{link_id}")


def link_url(settings: Settings, link: OpenLink) -> str | None:
    """The link to share (the token is in the fragment, which browsers never send to a server);
    None when it was made under another secret key: it still works, but cannot be shown again."""
    token = link_token(link.id)
    if not security.same(security.token_hash(token), link.token_hash):
        return None
    return f"{settings.public_url}/interview/#{FRAGMENT_PREFIX}{token}"


def state_of(link: OpenLink) -> str:
    """active, or why it no longer admits anyone: disabled, expired or full."""
    if not link.active:
        return "disabled"
    if link.expires_at is not None and link.expires_at <= utcnow():
        return "expired"
    if link.max_candidates is not None and link.candidates >= link.max_candidates:
        return "full"
    return "active"


def current_link(session: Session, *, role_id: str) -> OpenLink | None:
    """The role's latest open link, active or not."""
    roles.get_role(session, role_id=role_id)
    return session.scalars(
        select(OpenLink)
        .where(OpenLink.role_id == role_id)
        .order_by(OpenLink.created_at.desc())
        .limit(1)
    ).first()


def create_link(
    session: Session,
    *,
    org_id: str,
    actor_id: str | None,
    role_id: str,
    expires_in_days: int | None,
    max_candidates: int | None,
) -> OpenLink:
    """A new open link for the role; the one it had before stops working."""
    role = roles.get_role(session, role_id=role_id)
    expires_at = utcnow() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    _disable_active(session, actor_id=actor_id, role_id=role.id)
    link_id = new_id()
    link = OpenLink(
        id=link_id,
        org_id=org_id,
        role_id=role.id,
        token_hash=security.token_hash(link_token(link_id)),
        expires_at=expires_at,
        max_candidates=max_candidates,
        created_by_id=actor_id,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        org_id=org_id,
        actor=_actor(actor_id),
        action="open_link.created",
        subject=f"open_link:{link.id}",
        data={
            "role_id": role.id,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "max_candidates": max_candidates,
        },
    )
    return link


def disable_link(session: Session, *, actor_id: str, role_id: str) -> None:
    """Close the role's open link; interviews already made through it carry on."""
    role = roles.get_role(session, role_id=role_id)
    _disable_active(session, actor_id=actor_id, role_id=role.id)


def _actor(actor_id: str | None) -> str:
    return f"user:{actor_id}" if actor_id else "system"


def _disable_active(session: Session, *, actor_id: str | None, role_id: str) -> None:
    for link in session.scalars(
        select(OpenLink).where(OpenLink.role_id == role_id, OpenLink.active)
    ):
        link.active, link.disabled_at = False, utcnow()
        audit.record(
            session,
            org_id=link.org_id,
            actor=_actor(actor_id),
            action="open_link.disabled",
            subject=f"open_link:{link.id}",
            data={"role_id": role_id, "candidates": link.candidates},
        )


def resolve(session: Session, *, token: str, client: str | None = None) -> OpenLink:
    """The open link behind a token, if it still admits people; scopes the session to its
    organisation. `client` counts a wrong token against the guessing limit."""
    invitations.check_guessing(session, client=client)
    link = session.scalar(
        select(OpenLink).where(OpenLink.token_hash == security.token_hash(token))
    )
    if link is None:
        invitations.count_wrong_token(session, client=client)
        raise NotFound("This link is not valid. Check that you copied all of it.",
                       code="open_link_invalid", keep_changes=True)
    session.info[ORG_SCOPE] = link.org_id
    state = state_of(link)
    if state != "active":
        raise Gone(_CLOSED[state], code=f"open_link_{state}")
    return link


def join(
    session: Session, *, settings: Settings, token: str, name: str, email: str,
    client: str | None = None,
) -> Joined:
    """An interview of their own for whoever opened the link, its link emailed to them.

    `client` (the caller's address) may join `open_link_joins_per_client_per_hour` times: each
    join sends an email, and the limit stops a script from mailing strangers through the link.
    """
    link = resolve(session, token=token, client=client)
    if client is not None:
        ratelimit.spend(
            session,
            limit=ratelimit.Limit("open_link_join", settings.open_link_joins_per_client_per_hour,
                                  _HOUR),
            subject=client,
            message="Many interviews were asked for from this network in the last hour. "
            "Please try again later.",
        )
    email = email.strip().lower()
    organisation = organisations.get_organisation(session, org_id=link.org_id)
    existing = _invited(session, role_id=link.role_id, email=email)
    if existing is not None:
        _email_link_again(session, settings=settings, interview=existing,
                          organisation=organisation.name, link=link)
        return Joined(invite_token=None)
    _count_in(session, settings=settings, link=link)
    issued = invitations.invite_candidate(
        session,
        org_id=link.org_id,
        actor_id=None,
        role_id=link.role_id,
        name=name,
        email=email,
        ttl_days=settings.invite_ttl_days,
        open_link_id=link.id,
    )
    invitations.email_invitation(
        session, settings=settings, issued=issued, organisation=organisation.name
    )
    return Joined(invite_token=issued.token)


def _invited(session: Session, *, role_id: str, email: str) -> Interview | None:
    return session.scalars(
        select(Interview)
        .join(Candidate, Candidate.id == Interview.candidate_id)
        .where(Interview.role_id == role_id, Candidate.email == email)
        .order_by(Interview.created_at.desc())
        .limit(1)
    ).first()


def _count_in(session: Session, *, settings: Settings, link: OpenLink) -> None:
    """One more interview through the link, within its cap and the hourly limit."""
    now = utcnow()
    recent, oldest = session.execute(
        select(func.count(), func.min(Invitation.created_at))
        .where(Invitation.open_link_id == link.id, Invitation.created_at > now - _HOUR)
    ).one()
    if recent >= settings.open_link_joins_per_hour:
        free_in = (oldest + _HOUR - now).total_seconds() if oldest is not None else 60
        raise RateLimited("Many people have joined through this link in the last hour. "
                          "Please try again in a little while.", code="open_link_busy",
                          retry_after=max(1, math.ceil(free_in)))
    # A conditional UPDATE, so two people arriving together cannot both take the last place.
    claimed = session.execute(
        update(OpenLink)
        .where(
            OpenLink.id == link.id,
            or_(OpenLink.max_candidates.is_(None), OpenLink.candidates < OpenLink.max_candidates),
        )
        .values(candidates=OpenLink.candidates + 1)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise Gone(_FULL, code="open_link_full")


def _email_link_again(
    session: Session, *, settings: Settings, interview: Interview, organisation: str,
    link: OpenLink,
) -> None:
    """The existing interview's link, to its own address, at most every few minutes."""
    invitation = interview.invitation
    now = utcnow()
    if interview.deletion_requested_at is not None or (
        invitation.resent_at is not None and now - invitation.resent_at < RESEND_EVERY
    ):
        return
    invitation.resent_at = now
    role = roles.get_role(session, role_id=interview.role_id)
    token = invitations.rebuilt_token(invitation)
    subject, body = link_again_email(
        organisation=organisation,
        role_title=role.title,
        name=interview.candidate.name,
        url=invitations.invite_url(settings, token) if token else None,
        invited_on=invitation.created_at,
    )
    invitations.email_after_commit(
        session, settings=settings, interview=interview, subject=subject, body=body
    )
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"open_link:{link.id}",
        action="invitation.link_resent",
        subject=f"interview:{interview.id}",
        data={"with_link": token is not None},
    )


def link_again_email(
    *, organisation: str, role_title: str, name: str, url: str | None, invited_on: dt.datetime
) -> tuple[str, str]:
    """Subject and body for someone who asked again for an interview they already have."""
    subject = f"Your interview link for {role_title} at {organisation}"
    where = (
        f"Here is your personal link again (it is yours alone; keep it private):\n{url}\n"
        if url
        else f"Open it from the link in the email {organisation} sent you on "
        f"{invited_on:%d %B %Y}; for your privacy that link cannot be sent again.\n"
    )
    body = (
        f"Hello {name},\n\n"
        f"Someone, probably you, asked for an interview for the {role_title} role at "
        f"{organisation} with this email address. You already have one, so no new interview "
        f"was made.\n\n{where}\n"
        "If you did not ask for this, you can ignore this email.\n"
    )
    return subject, body
