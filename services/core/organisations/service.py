"""Staff accounts and sign-in: argon2 passwords, hashed session tokens, rate-limited logins."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core import security
from services.core.audit import service as audit
from services.core.db import utcnow
from services.core.errors import Conflict, NotAuthenticated, NotFound
from services.core.organisations.orm import Organisation, StaffRole, StaffSession, User
from services.core.ratelimit import service as ratelimit
from services.core.settings import Settings


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # shown once, in the session cookie or to the API client
    csrf_token: str


def login_limits(settings: Settings) -> tuple[ratelimit.Limit, ratelimit.Limit]:
    """Failed sign-ins per email, and (more of them) per client address."""
    window = dt.timedelta(seconds=settings.login_window_seconds)
    limit = settings.login_max_failures
    return (ratelimit.Limit("login_email", limit, window),
            ratelimit.Limit("login_client", limit * 4, window))


def login(
    session: Session, *, settings: Settings, email: str, password: str, client: str
) -> SignedIn:
    """Sign a staff member in, or refuse without saying whether the email exists."""
    email = email.strip().lower()
    per_email, per_client = login_limits(settings)
    message = "Too many failed sign-ins. Wait a few minutes and try again."
    ratelimit.check(session, limit=per_email, subject=email, message=message)
    ratelimit.check(session, limit=per_client, subject=client, message=message)
    user = session.scalar(select(User).where(User.email == email))
    if not security.verify_password(user.password_hash if user else None, password) or not (
        user and user.is_active
    ):
        ratelimit.record(session, limit=per_email, subject=email)
        ratelimit.record(session, limit=per_client, subject=client)
        raise NotAuthenticated(
            "The email or password is not right.", code="bad_credentials", keep_changes=True
        )
    token, csrf = security.new_token(), secrets.token_urlsafe(24)
    session.add(
        StaffSession(
            org_id=user.org_id,
            user_id=user.id,
            token_hash=security.token_hash(token),
            csrf_token=csrf,
            expires_at=utcnow() + dt.timedelta(hours=settings.session_ttl_hours),
        )
    )
    audit.record(
        session,
        org_id=user.org_id,
        actor=f"user:{user.id}",
        action="auth.login",
        subject=f"user:{user.id}",
    )
    return SignedIn(user=user, token=token, csrf_token=csrf)


def resolve_session(session: Session, *, token: str) -> tuple[User, StaffSession]:
    """The signed-in user behind a session token, or NotAuthenticated."""
    staff_session = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == security.token_hash(token))
    )
    if (
        staff_session is None
        or staff_session.revoked_at is not None
        or staff_session.expires_at <= utcnow()
    ):
        raise NotAuthenticated("Your session has ended. Sign in again.", code="session_expired")
    user = session.get(User, staff_session.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("This account is disabled.", code="account_disabled")
    return user, staff_session


def logout(session: Session, *, staff_session: StaffSession) -> None:
    staff_session.revoked_at = utcnow()


def create_organisation(
    session: Session, *, name: str, slug: str, contact_email: str | None = None
) -> Organisation:
    organisation = Organisation(name=name, slug=slug, contact_email=contact_email)
    session.add(organisation)
    session.flush()
    return organisation


def create_user(
    session: Session,
    *,
    org_id: str,
    email: str,
    name: str,
    role: StaffRole,
    password: str,
    actor: str = "system",
) -> User:
    user = User(
        org_id=org_id,
        email=email.strip().lower(),
        name=name,
        role=role,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("A user with this email already exists.", code="email_taken") from exc
    audit.record(
        session,
        org_id=org_id,
        actor=actor,
        action="user.create",
        subject=f"user:{user.id}",
        data={"role": role.value},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def get_organisation(session: Session, *, org_id: str) -> Organisation:
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation
