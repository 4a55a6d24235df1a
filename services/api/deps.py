"""Request dependencies: the transaction, who is calling, and what they may do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from services.core import security
from services.core.db import ORG_SCOPE, unit_of_work
from services.core.errors import Forbidden, NotAuthenticated
from services.core.interviews import invitations
from services.core.interviews.orm import Interview
from services.core.jobs import JobPublisher
from services.core.organisations import service as organisations
from services.core.organisations.orm import StaffRole, StaffSession, User
from services.core.settings import Settings, get_settings
from services.core.storage import MediaStorage, get_storage

SESSION_COOKIE = "parley_session"
CSRF_HEADER = "X-CSRF-Token"
INVITE_HEADER = "X-Invite-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _db() -> Iterator[Session]:
    with unit_of_work() as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client never
# reads a success that was not saved.
DbSession = Annotated[Session, Depends(_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[MediaStorage, Depends(get_storage)]


def _publisher(request: Request) -> JobPublisher:
    publisher: JobPublisher = request.app.state.publisher
    return publisher


PublisherDep = Annotated[JobPublisher, Depends(_publisher)]


@dataclass(frozen=True)
class Staff:
    user: User
    session: StaffSession

    @property
    def actor(self) -> str:
        return f"user:{self.user.id}"

    @property
    def org_id(self) -> str:
        return self.user.org_id


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _current_staff(
    request: Request,
    session: DbSession,
    authorization: Annotated[str | None, Header()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Staff:
    bearer = _bearer(authorization)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Sign in to continue.")
    user, staff_session = organisations.resolve_session(session, token=token)
    # A cookie is sent by the browser on its own; a header proves the page itself made the call.
    if (
        bearer is None
        and request.method not in _SAFE_METHODS
        and not (x_csrf_token and security.same(x_csrf_token, staff_session.csrf_token))
    ):
        raise Forbidden("The request lacks its CSRF token. Reload the page.", code="csrf_failed")
    session.info[ORG_SCOPE] = user.org_id
    return Staff(user=user, session=staff_session)


CurrentStaff = Annotated[Staff, Depends(_current_staff)]


def require(*roles: StaffRole) -> object:
    """A dependency that admits only the given staff roles."""

    def check(staff: CurrentStaff) -> Staff:
        if staff.user.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return staff

    return Depends(check)


def _candidate_interview(
    request: Request, session: DbSession, x_invite_token: Annotated[str | None, Header()] = None
) -> Interview:
    if not x_invite_token:
        raise NotAuthenticated(
            "Open the interview from your invitation link.", code="invalid_invite"
        )
    return invitations.open_interview(session, token=x_invite_token, client=client_of(request))


CandidateInterview = Annotated[Interview, Depends(_candidate_interview)]


def _candidate_data_subject(
    request: Request, session: DbSession, x_invite_token: Annotated[str | None, Header()] = None
) -> Interview:
    if not x_invite_token:
        raise NotAuthenticated("Open this page from your invitation link.", code="invalid_invite")
    return invitations.open_interview(
        session, token=x_invite_token, allow_expired=True, client=client_of(request)
    )


# The candidate's data rights (see, download, delete, human review) outlast an expired link.
CandidateDataSubject = Annotated[Interview, Depends(_candidate_data_subject)]

ADMIN = StaffRole.ADMIN
RECRUITER = StaffRole.RECRUITER
PSYCHOLOGIST = StaffRole.PSYCHOLOGIST
Recruiting = Annotated[Staff, require(ADMIN, RECRUITER)]
AnyStaff = Annotated[Staff, require(ADMIN, RECRUITER, PSYCHOLOGIST)]
RubricEditors = Annotated[Staff, require(ADMIN, PSYCHOLOGIST)]
AdminOnly = Annotated[Staff, require(ADMIN)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
