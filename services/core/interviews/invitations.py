"""Invitations: the unguessable link that is a candidate's only key to their own interview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import security
from services.core.audit import service as audit
from services.core.db import ORG_SCOPE, utcnow
from services.core.errors import Gone, NotAuthenticated
from services.core.interviews.orm import Candidate, Interview, Invitation
from services.core.interviews.states import InterviewState
from services.core.roles import service as roles


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
) -> IssuedInvitation:
    """Create a candidate's interview for a role and the link that opens it.

    `token` is for the demo loader only, whose link must be printable at every start;
    everyone else gets a new random one.
    """
    role = roles.get_role(session, role_id=role_id)
    token = token or security.new_token()
    expires_at = utcnow() + dt.timedelta(days=ttl_days)
    candidate = Candidate(
        org_id=org_id, name=name.strip(), email=email.strip().lower(), is_synthetic=is_synthetic
    )
    invitation = Invitation(
        org_id=org_id,
        token_hash=security.token_hash(token),
        expires_at=expires_at,
        created_by_id=actor_id,
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
        data={"role_id": role.id, "expires_at": expires_at.isoformat()},
    )
    return IssuedInvitation(interview=interview, token=token, expires_at=expires_at)


def open_interview(session: Session, *, token: str, allow_expired: bool = False) -> Interview:
    """The interview behind an invite token; scopes the session to its organisation.

    `allow_expired` is for the candidate's data rights, which outlast the time to answer.
    """
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == security.token_hash(token))
    )
    if invitation is None:
        raise NotAuthenticated("This interview link is not valid.", code="invalid_invite")
    session.info[ORG_SCOPE] = invitation.org_id
    interview = session.scalars(
        select(Interview).where(Interview.invitation_id == invitation.id)
    ).one()
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
