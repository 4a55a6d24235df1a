"""Attacks on the app itself: headers on every response, CSRF on every change, rate limits,
tokens. The same attacks against a real uvicorn server are in test_security_live.py;
docs/security.md lists each attack and its outcome."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import String, Text, select, update

from services.api.app import API_PREFIX, WEB_DIR, create_app
from services.core import security
from services.core.db import unit_of_work
from services.core.interviews.orm import Interview, Invitation
from services.core.interviews.states import InterviewState
from services.core.organisations.orm import StaffSession
from services.core.orm import Base
from services.core.settings import Settings
from tests.conftest import reset_caches
from tests.services.conftest import PASSWORD, RecordingPublisher, World
from tests.services.test_invitations import Inbox, inbox  # noqa: F401 (a fixture)

ID = "0" * 32  # shaped like an id; names nothing
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Changes that a staff session cookie does not authorise, so CSRF does not apply to them. Each
# is checked below to refuse the cookie alone; a new route missing here fails the CSRF test.
CSRF_EXEMPT = {
    ("POST", "/api/v1/auth/login"),  # no session yet; JSON only, so no cross-site form posts it
    ("POST", "/api/v1/candidate/consent"),  # candidate routes: X-Invite-Token, never a cookie
    ("PUT", "/api/v1/candidate/answers/{question_id}/chunks/{index}"),
    ("POST", "/api/v1/candidate/answers/{question_id}/complete"),
    ("POST", "/api/v1/candidate/answers/{question_id}/restart"),
    ("POST", "/api/v1/candidate/answers/{question_id}/text"),
    ("POST", "/api/v1/candidate/finish"),
    ("POST", "/api/v1/candidate/deletion"),
    ("POST", "/api/v1/candidate/human-review"),
    ("POST", "/api/v1/candidate/self-identification"),
    ("POST", "/api/v1/candidate/open-link"),  # the open link's token is in the JSON body
    ("POST", "/api/v1/candidate/open-link/join"),
}
OPEN_LINK_ROUTES = {"/api/v1/candidate/open-link", "/api/v1/candidate/open-link/join"}


# ------------------------------------------------------------------------------- the routes


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers' routes too."""
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            prefix = route.include_context.prefix  # type: ignore[attr-defined]
            for inner in included.routes:
                assert isinstance(inner, APIRoute), inner
                yield from ((m, prefix + inner.path) for m in inner.methods)
        elif isinstance(route, APIRoute) or hasattr(route, "methods"):
            yield from ((m, route.path) for m in route.methods)  # type: ignore[attr-defined]


def _concrete(path: str) -> str:
    return re.sub(r"\{index\}", "0", re.sub(r"\{(?!index)[^}]+\}", ID, path))


@pytest.fixture
def app(sqlite_world: World) -> FastAPI:
    return sqlite_world.app  # type: ignore[return-value]


def test_the_route_walk_finds_every_documented_route(app: FastAPI) -> None:
    walked = {(m, p) for m, p in _routes(app) if m != "HEAD"}
    documented = {
        (m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops
    }
    assert documented <= walked and len(documented) > 60
    hidden = {p for m, p in walked - documented}
    assert hidden == {"/healthz", "/api/docs", "/api/v1/openapi.json"}, hidden


# ------------------------------------------------------------------ headers on every response


def _policy(response: Response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy", "")
    return {
        parts[0]: parts[1:]
        for parts in (d.split() for d in header.split(";"))
        if parts
    }


def _header_problems(response: Response, where: str) -> list[str]:
    problems = []
    headers = response.headers
    expected = {
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    }
    for name, value in expected.items():
        if headers.get(name) != value:
            problems.append(f"{where}: {name} is {headers.get(name)!r}")
    policy = _policy(response)
    scripts = policy.get("script-src", policy.get("default-src", []))
    if not policy or "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts or "*" in scripts:
        policy_text = headers.get("content-security-policy")
        problems.append(f"{where}: scripts not locked down: {policy_text}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{where}: frame-ancestors {policy.get('frame-ancestors')}")
    if policy.get("base-uri") != ["'none'"] or "object-src" in policy:
        problems.append(f"{where}: base-uri or object-src loosened")
    if "strict-transport-security" in headers:
        problems.append(f"{where}: HSTS over plain HTTP")
    if where.split()[1].startswith(API_PREFIX) and headers.get("cache-control") != "no-store":
        problems.append(f"{where}: an API answer may be cached")
    return problems


def _web_paths() -> list[str]:
    files = [f"/{p.relative_to(WEB_DIR).as_posix()}" for p in WEB_DIR.rglob("*") if p.is_file()]
    folders = ["/", "/staff/", "/interview/", "/staff", "/interview"]
    return folders + files


def test_every_route_page_and_error_carries_the_security_headers(sqlite_world: World) -> None:
    app: FastAPI = sqlite_world.app  # type: ignore[assignment]
    anonymous = TestClient(app, follow_redirects=False)
    admin = sqlite_world.staff(sqlite_world.a, "admin")
    candidate = sqlite_world.candidate(sqlite_world.a)
    no_csrf = sqlite_world.staff(sqlite_world.a, "recruiter")
    del no_csrf.headers["X-CSRF-Token"]
    problems, kinds = [], set()
    calls = [(anonymous, m, _concrete(p)) for m, p in _routes(app)]
    calls += [(admin, m, _concrete(p)) for m, p in _routes(app) if m == "GET"]
    calls += [(candidate, "GET", f"{API_PREFIX}/candidate/{p}") for p in ("interview", "rights")]
    calls += [(anonymous, "GET", p) for p in _web_paths()]
    calls += [
        (anonymous, "GET", "/no-such-page.html"),  # 404 from the static files
        (anonymous, "GET", f"{API_PREFIX}/no-such-route"),  # 404 from the API
        (anonymous, "DELETE", f"{API_PREFIX}/me"),  # 405
        (admin, "POST", f"{API_PREFIX}/roles"),  # the validation error handler (422)
        (no_csrf, "POST", f"{API_PREFIX}/auth/logout"),  # 403 csrf_failed
        (anonymous, "GET", "/../../etc/passwd"),
    ]
    for client, method, path in calls:
        if path == "/api/docs":
            continue  # its own policy: test_the_api_docs_page_allows_its_inline_script_by_hash
        response = client.request(method, path)
        kinds.add(response.status_code)
        problems += _header_problems(response, f"{method} {path} ({response.status_code})")
    assert not problems, "\n".join(problems[:40])
    assert {200, 401, 403, 404, 405, 422} <= kinds, kinds


def test_a_crash_is_a_json_500_with_the_security_headers_and_no_trace(
    sqlite_world: World,
) -> None:
    app: FastAPI = sqlite_world.app  # type: ignore[assignment]

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, APIRoute(f"{API_PREFIX}/boom", boom))
    response = TestClient(app, raise_server_exceptions=False).get(f"{API_PREFIX}/boom")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in response.text
    assert not _header_problems(response, f"GET {API_PREFIX}/boom")


def test_a_rate_limited_answer_carries_the_headers_and_retry_after(sqlite_world: World) -> None:
    client = sqlite_world.client()
    for _ in range(6):
        response = client.post(
            "/api/v1/auth/login", json={"email": sqlite_world.a.emails["admin"], "password": "x"}
        )
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 900
    assert not _header_problems(response, "POST /api/v1/auth/login")


def test_the_api_docs_page_allows_its_inline_script_by_hash(app: FastAPI) -> None:
    response = TestClient(app).get("/api/docs")
    policy = _policy(response)
    inline = re.search(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"] and policy["frame-ancestors"] == [
        "'none'"
    ]


def test_the_cv_is_served_sandboxed_with_no_script(sqlite_world: World) -> None:
    recruiter = sqlite_world.staff(sqlite_world.a, "recruiter")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    path = f"{API_PREFIX}/interviews/{sqlite_world.a.interview_id}/cv"
    put = recruiter.put(path, content=pdf, headers={"Content-Type": "application/pdf"})
    assert put.status_code == 200, put.text
    response = recruiter.get(f"{path}/file")
    policy = _policy(response)
    assert "sandbox" in policy and policy["default-src"] == ["'none'"]
    assert "script-src" not in policy and response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("public_url", "base_url", "hsts"),
    [
        ("http://127.0.0.1:8000", "http://testserver", False),
        ("https://parley.example.com", "http://testserver", True),  # TLS ends at the proxy
        ("http://127.0.0.1:8000", "https://testserver", True),  # the request came over TLS
    ],
)
def test_hsts_only_where_the_site_is_served_over_https(
    sqlite_database: str, public_url: str, base_url: str, hsts: bool
) -> None:
    settings = Settings(public_url=public_url)
    client = TestClient(create_app(settings, RecordingPublisher()), base_url=base_url)
    for path in ("/", "/healthz", f"{API_PREFIX}/me"):
        header = client.get(path).headers.get("strict-transport-security")
        assert (header == "max-age=31536000; includeSubDomains") if hsts else header is None


def test_no_cross_origin_caller_is_allowed(app: FastAPI) -> None:
    response = TestClient(app).options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


# ------------------------------------------------------------------------------------- CSRF


def test_every_change_made_with_a_session_cookie_needs_its_csrf_token(sqlite_world: World) -> None:
    app: FastAPI = sqlite_world.app  # type: ignore[assignment]
    admin = sqlite_world.staff(sqlite_world.a, "admin")
    del admin.headers["X-CSRF-Token"]
    other = sqlite_world.staff(sqlite_world.b, "admin").headers["X-CSRF-Token"]
    changes = sorted({(m, p) for m, p in _routes(app) if m in STATE_CHANGING})
    assert set(changes) >= CSRF_EXEMPT, CSRF_EXEMPT - set(changes)
    wrong = []
    for method, path in changes:
        if (method, path) in CSRF_EXEMPT:
            continue
        for token in (None, other, ""):
            headers = {"X-CSRF-Token": token} if token is not None else {}
            response = admin.request(method, _concrete(path), headers=headers)
            code = response.json().get("error", {}).get("code")
            if response.status_code != 403 or code != "csrf_failed":
                wrong.append(f"{method} {path} with {token!r}: {response.status_code} {code}")
    assert not wrong, "\n".join(wrong)
    assert len(changes) - len(CSRF_EXEMPT) > 30


def test_the_csrf_exempt_changes_do_not_accept_a_session_cookie(sqlite_world: World) -> None:
    admin = sqlite_world.staff(sqlite_world.a, "admin")
    del admin.headers["X-CSRF-Token"]
    for method, path in sorted(CSRF_EXEMPT):
        if path == "/api/v1/auth/login":
            continue
        body = ({"token": "x" * 43, "name": "N", "email": "n@example.com"}
                if path in OPEN_LINK_ROUTES else None)
        response = admin.request(method, _concrete(path), json=body)
        # The cookie alone is nobody to these: no invite token, no valid link token.
        assert response.status_code in (401, 404), (method, path, response.text)


def test_a_cross_site_form_cannot_sign_anyone_in(sqlite_world: World) -> None:
    client = sqlite_world.client()
    body = f'{{"email": "{sqlite_world.a.emails["admin"]}", "password": "{PASSWORD}"}}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post(
            "/api/v1/auth/login", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 422, (content_type, response.text)
        assert "set-cookie" not in response.headers


# ----------------------------------------------------------------------------- rate limits


def _guess(client: TestClient, token: str) -> Response:
    return client.get("/api/v1/candidate/interview", headers={"X-Invite-Token": token})


def test_guessing_invite_tokens_is_refused_even_when_a_guess_is_right(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_TOKEN_GUESS_MAX_FAILURES", "3")
    reset_caches()
    guesser = sqlite_world.client()
    codes = [_guess(guesser, secrets.token_urlsafe(32)).status_code for _ in range(3)]
    assert codes == [401] * 3
    refused = _guess(guesser, sqlite_world.a.invite_token)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 600
    # The open link's page counts as the same guessing; another address is not affected.
    link = guesser.post("/api/v1/candidate/open-link", json={"token": "y" * 43})
    assert link.status_code == 429
    elsewhere = TestClient(sqlite_world.app, client=("203.0.113.9", 4000))  # type: ignore[arg-type]
    assert _guess(elsewhere, sqlite_world.a.invite_token).status_code == 200


def test_guessing_counts_hold_across_api_processes(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two app instances share nothing but the database, as two uvicorn workers do."""
    monkeypatch.setenv("PARLEY_TOKEN_GUESS_MAX_FAILURES", "4")
    reset_caches()
    first = TestClient(create_app(publisher=RecordingPublisher()))
    second = TestClient(create_app(publisher=RecordingPublisher()))
    for client in (first, second, first, second):
        assert _guess(client, secrets.token_urlsafe(32)).status_code == 401
    assert _guess(first, secrets.token_urlsafe(32)).status_code == 429
    assert _guess(second, secrets.token_urlsafe(32)).status_code == 429


def _open_link_token(world: World) -> str:
    response = world.staff(world.a, "recruiter").post(
        f"/api/v1/roles/{world.a.role_id}/open-link", json={}
    )
    return str(response.json()["url"]).split("#open=", 1)[1]


def test_one_address_cannot_mail_strangers_through_an_open_link(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch, inbox: Inbox  # noqa: F811
) -> None:
    monkeypatch.setenv("PARLEY_OPEN_LINK_JOINS_PER_CLIENT_PER_HOUR", "2")
    reset_caches()
    token, client = _open_link_token(sqlite_world), sqlite_world.client()
    statuses = [
        client.post(
            "/api/v1/candidate/open-link/join",
            json={"token": token, "name": "Spam Target", "email": f"victim{n}@example.com"},
        )
        for n in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].json()["error"]["code"] == "rate_limited"
    assert 3500 <= int(statuses[2].headers["retry-after"]) <= 3600
    assert len(inbox.messages) == 2


def test_an_open_link_busy_answer_says_when_to_come_back(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_OPEN_LINK_JOINS_PER_HOUR", "1")
    reset_caches()
    token = _open_link_token(sqlite_world)
    for n, expected in enumerate((200, 429)):
        address = (f"198.51.100.{n}", 1)
        client = TestClient(sqlite_world.app, client=address)  # type: ignore[arg-type]
        response = client.post(
            "/api/v1/candidate/open-link/join",
            json={"token": token, "name": "Busy", "email": f"busy{n}@example.com"},
        )
        assert response.status_code == expected
    assert response.json()["error"]["code"] == "open_link_busy"
    assert 3500 <= int(response.headers["retry-after"]) <= 3600


def test_invitation_emails_are_limited_per_organisation_and_a_csv_is_all_or_nothing(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch, inbox: Inbox  # noqa: F811
) -> None:
    monkeypatch.setenv("PARLEY_INVITATION_EMAILS_PER_HOUR", "3")
    reset_caches()
    a, b = sqlite_world.a, sqlite_world.b
    recruiter = sqlite_world.staff(a, "recruiter")
    csv = "name,email\n" + "".join(f"P{n},p{n}@example.com\n" for n in range(4))
    batch = recruiter.post(f"/api/v1/roles/{a.role_id}/invitations/batch", content=csv,
                           headers={"Content-Type": "text/csv"})
    assert batch.status_code == 429 and batch.json()["error"]["code"] == "rate_limited"
    assert inbox.messages == []
    for n in range(3):
        one = recruiter.post(f"/api/v1/roles/{a.role_id}/invitations",
                             json={"name": f"S{n}", "email": f"s{n}@example.com"})
        assert one.status_code == 201
    fourth = recruiter.post(f"/api/v1/roles/{a.role_id}/invitations",
                            json={"name": "S3", "email": "s3@example.com"})
    assert fourth.status_code == 429 and "retry-after" in fourth.headers
    extend = recruiter.post(f"/api/v1/interviews/{a.interview_id}/invitation/extend",
                            json={"days": 3, "reason": "asked for more time"})
    assert extend.status_code == 429
    other = sqlite_world.staff(b, "recruiter").post(
        f"/api/v1/roles/{b.role_id}/invitations", json={"name": "B", "email": "b@example.com"}
    )
    assert other.status_code == 201 and len(inbox.messages) == 4


# ---------------------------------------------------------------------------------- tokens


def test_random_tokens_come_from_secrets_with_256_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        asked.append(nbytes or 0)
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", spy)
    token = security.new_token()
    assert asked == [32] and len(base64.urlsafe_b64decode(token + "=")) == 32


def test_invite_tokens_are_hmacs_under_the_secret_key_and_never_repeat(
    sqlite_world: World,
) -> None:
    from services.core.interviews import invitations, open_links

    secret = Settings().secret_key.get_secret_value()
    tokens = {invitations.personal_token(secrets.token_hex(16)) for _ in range(2000)}
    assert len(tokens) == 2000
    for token in [*list(tokens)[:5], open_links.link_token(ID)]:
        assert len(base64.urlsafe_b64decode(token + "=")) == 32  # 256 bits
    expected = hmac.new(secret.encode(), f"parley-invite:{ID}".encode(), hashlib.sha256).digest()
    assert invitations.personal_token(ID) == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    # Without the key they are as unguessable as random ones: production refuses a weak key.
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="production", secret_key="short", database_url="postgresql://x/y")


def test_no_token_is_stored_in_plain_text_anywhere(sqlite_world: World) -> None:
    a = sqlite_world.a
    recruiter = sqlite_world.staff(a, "recruiter")
    link = _open_link_token(sqlite_world)
    session_token = recruiter.cookies["parley_session"]
    invite = recruiter.post(f"/api/v1/roles/{a.role_id}/invitations",
                            json={"name": "Plain", "email": "plain@example.com"})
    fresh = str(invite.json()["invite_url"]).split("#", 1)[1]
    found = []
    with unit_of_work() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in session.execute(select(*columns)) if columns else []:
                text = " ".join(str(v) for v in row if v is not None)
                for name, token in (("invite", a.invite_token), ("new invite", fresh),
                                    ("open link", link), ("session", session_token)):
                    if token in text:
                        found.append(f"{name} token in {table.name}")
    assert not found, found


def test_an_expired_staff_session_is_refused(sqlite_world: World) -> None:
    admin = sqlite_world.staff(sqlite_world.a, "admin")
    with unit_of_work() as session:
        session.execute(update(StaffSession).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    response = admin.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


def test_a_finished_interviews_token_uploads_nothing_more_but_keeps_the_data_rights(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    with unit_of_work() as session:
        session.execute(update(Interview).where(Interview.id == a.interview_id)
                        .values(state=InterviewState.COMPLETED))
        session.execute(update(Invitation).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    client = sqlite_world.candidate(a)
    upload = client.put(
        f"/api/v1/candidate/answers/{a.question_ids[1]}/chunks/0", content=b"x",
        headers={"Content-Type": "audio/webm", "X-Chunk-SHA256": hashlib.sha256(b"x").hexdigest()},
    )
    assert upload.status_code == 409 and upload.json()["error"]["code"] == "interview_not_open"
    assert client.get("/api/v1/candidate/rights").status_code == 200


def test_the_static_files_cannot_be_left(app: FastAPI) -> None:
    client = TestClient(app)
    secret = Path(__file__).resolve()
    for path in ("/../services/core/settings.py", "/%2e%2e/services/core/settings.py",
                 "/staff/..%2f..%2fservices%2fcore%2fsettings.py", f"/{secret}"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "class Settings" not in response.text


def test_counted_events_no_limit_looks_at_are_forgotten(sqlite_database: str) -> None:
    from services.core.ratelimit import service as ratelimit
    from services.core.ratelimit.orm import RateEvent

    now = dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        for age in (dt.timedelta(days=2), dt.timedelta(0)):
            session.add(RateEvent(scope="token_guess", subject="198.51.100.1",
                                  created_at=now - age))
    with unit_of_work() as session:
        assert ratelimit.forget_old(session) == 1
    with unit_of_work() as session:
        assert len(session.scalars(select(RateEvent)).all()) == 1
