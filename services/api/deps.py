"""Request dependencies: the transaction, who is calling, and what they may do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from services.api.admission import admitted
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


async def _admitted() -> AsyncIterator[None]:
    async with admitted():
        yield


def _db(_: Annotated[None, Depends(_admitted, scope="function")]) -> Iterator[Session]:
    with unit_of_work() as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client never
# reads a success that was not saved. The admission is taken first, on the event loop.
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


def invite_token(request: Request) -> str:
    """The caller's invite token, or 401 invalid_invite without one."""
    token = request.headers.get(INVITE_HEADER)
    if not token:
        raise NotAuthenticated(
            "Open the interview from your invitation link.", code="invalid_invite"
        )
    return token


def _candidate_interview(
    request: Request, session: DbSession, x_invite_token: Annotated[str | None, Header()] = None
) -> Interview:
    # The header parameter documents X-Invite-Token in the OpenAPI schema.
    return invitations.open_interview(
        session, token=invite_token(request), client=client_of(request)
    )


CandidateInterview = Annotated[Interview, Depends(_candidate_interview)]


async def _invite_token_given(
    request: Request, x_invite_token: Annotated[str | None, Header()] = None
) -> str:
    return invite_token(request)


# For an async route that calls as_candidate: 401 without a token, before the body is read or
# validated, and without a thread or a connection.
InviteToken = Annotated[str, Depends(_invite_token_given)]

T = TypeVar("T")


async def as_candidate(
    request: Request,
    token: str,
    work: Callable[[Session, Interview], T],
    *,
    assembly: bool = False,
) -> T:
    """`work` on the interview that `token` (an InviteToken) opens, in one worker thread and
    one unit of work.

    For an async route: the connection is taken and given back inside that one call, so the
    request never holds it while it waits for a thread or for its body (the pool-and-thread
    stall of docs/performance.md, issue 9). `assembly`: `work` reads a whole answer, and waits
    for one of the few slots for that (services/api/admission.py).
    """
    client = client_of(request)

    def run() -> T:
        with unit_of_work() as session:
            return work(session, invitations.open_interview(session, token=token, client=client))

    async with admitted(assembly=assembly):
        return await run_in_threadpool(run)


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
