"""Staff sign-in: passwords, sessions, CSRF and the login rate limit."""

from __future__ import annotations

from sqlalchemy import select

from services.core.db import unit_of_work
from services.core.organisations.orm import StaffSession, User
from tests.services.conftest import PASSWORD, World


def test_login_sets_an_httponly_cookie_and_stores_only_hashes(world: World) -> None:
    client = world.client()
    response = client.post(
        "/api/v1/auth/login", json={"email": world.a.emails["recruiter"], "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == world.a.emails["recruiter"]))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        stored = session.scalars(select(StaffSession.token_hash)).all()
    assert token not in stored and len(stored) == 1
    assert client.get("/api/v1/me").json()["user"]["role"] == "recruiter"


def test_wrong_password_is_refused_without_saying_which_part(world: World) -> None:
    client = world.client()
    for email in (world.a.emails["admin"], "nobody@nowhere.example.com"):
        response = client.post("/api/v1/auth/login", json={"email": email, "password": "wrong"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "bad_credentials"


def test_login_is_rate_limited_after_repeated_failures(world: World) -> None:
    client = world.client()
    email = world.a.emails["admin"]
    codes = [
        client.post("/api/v1/auth/login", json={"email": email, "password": "nope"}).status_code
        for _ in range(5)
    ]
    assert codes == [401] * 5
    # Even the right password is refused while the limit holds: guessing cannot continue.
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_cookie_session_needs_the_csrf_header_for_changes(world: World) -> None:
    client = world.staff(world.a, "recruiter")
    del client.headers["X-CSRF-Token"]
    response = client.post(
        f"/api/v1/roles/{world.a.role_id}/invitations", json={"name": "X", "email": "x@example.com"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_bearer_token_clients_need_no_csrf_header(world: World) -> None:
    token = (
        world.client()
        .post(
            "/api/v1/auth/login", json={"email": world.a.emails["recruiter"], "password": PASSWORD}
        )
        .json()["token"]
    )
    client = world.client()
    response = client.post(
        f"/api/v1/roles/{world.a.role_id}/invitations",
        json={"name": "X", "email": "x@example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_logout_revokes_the_session_token_itself(world: World) -> None:
    client = world.staff(world.a, "admin")
    token = client.cookies["parley_session"]
    assert client.post("/api/v1/auth/logout").status_code == 204
    replay = world.client()
    replay.cookies.set("parley_session", token)
    response = replay.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"
