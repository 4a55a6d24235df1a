"""A role's open link: anyone who opens it gets an interview of their own, within its bounds."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work, utcnow
from services.core.interviews.orm import Candidate, Interview, Invitation, OpenLink
from tests.conftest import reset_caches
from tests.services.conftest import Org, World
from tests.services.test_invitations import Inbox, inbox  # noqa: F401 (a fixture)


def _create(world: World, org: Org, **body: object) -> dict[str, object]:
    response = world.staff(org, "recruiter").post(f"/api/v1/roles/{org.role_id}/open-link",
                                                  json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _token(link: dict[str, object]) -> str:
    return str(link["url"]).split("#open=", 1)[1]


def _join(client: TestClient, token: str, email: str, name: str = "Rae Opener") -> TestClient:
    return client.post(  # type: ignore[return-value]
        "/api/v1/candidate/open-link/join", json={"token": token, "name": name, "email": email}
    )


def _interviews_for(email: str) -> int:
    with unit_of_work() as session:
        return int(session.scalar(
            select(func.count()).select_from(Interview)
            .join(Candidate, Candidate.id == Interview.candidate_id)
            .where(Candidate.email == email)
        ) or 0)


def _actions(org: Org) -> list[str]:
    with unit_of_work() as session:
        return list(session.scalars(
            select(AuditEvent.action).where(AuditEvent.org_id == org.org_id)
        ))


def test_an_open_link_is_stored_only_as_a_hash_and_shown_again_to_recruiters(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    link = _create(sqlite_world, a, max_candidates=10)
    token = _token(link)
    assert link["state"] == "active" and link["candidates"] == 0
    with unit_of_work() as session:
        row = session.get(OpenLink, link["id"])
        assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert not any(token in str(getattr(row, c.key)) for c in OpenLink.__table__.columns)
    again = sqlite_world.staff(a, "admin").get(f"/api/v1/roles/{a.role_id}/open-link").json()
    assert again["url"] == link["url"]
    assert "open_link.created" in _actions(a)


def test_someone_who_opens_the_link_gets_their_own_interview_and_its_link_by_email(
    sqlite_world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = sqlite_world.a
    token = _token(_create(sqlite_world, a))
    anyone = sqlite_world.client()
    about = anyone.post("/api/v1/candidate/open-link", json={"token": token})
    assert about.status_code == 200, about.text
    assert about.json()["role_title"] == "Role a" and about.json()["organisation"] == "Org a"

    joined = _join(anyone, token, "Rae@Example.com")
    assert joined.status_code == 200, joined.text
    personal = joined.json()["invite_token"]
    own = sqlite_world.client()
    own.headers["X-Invite-Token"] = personal
    interview = own.get("/api/v1/candidate/interview")
    assert interview.status_code == 200 and interview.json()["state"] == "invited"

    [message] = inbox.messages
    assert message["To"] == "rae@example.com"
    assert f"/interview/#{personal}" in message.get_payload(decode=True).decode()
    with unit_of_work() as session:
        invitation = session.scalars(select(Invitation).where(Invitation.open_link_id.is_not(None))
                                     ).one()
        assert invitation.token_hash == hashlib.sha256(personal.encode()).hexdigest()
    assert sqlite_world.staff(a, "recruiter").get(
        f"/api/v1/roles/{a.role_id}/open-link").json()["candidates"] == 1


def test_an_email_already_invited_gets_its_own_link_emailed_and_no_second_interview(
    sqlite_world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = sqlite_world.a
    recruiter = sqlite_world.staff(a, "recruiter")
    invited = recruiter.post(f"/api/v1/roles/{a.role_id}/invitations",
                             json={"name": "Lin", "email": "lin@example.com"}).json()
    token = _token(_create(sqlite_world, a))
    first = _join(sqlite_world.client(), token, "LIN@example.com", name="Someone Else")
    # The same answer as for a new email, without the key: only the inbox's owner gets in.
    assert first.status_code == 200
    assert first.json() == {"invite_token": None,
                            "message": "We have emailed you the link to your interview."}
    assert _interviews_for("lin@example.com") == 1
    assert [m["To"] for m in inbox.messages] == ["lin@example.com", "lin@example.com"]
    assert invited["invite_url"] in inbox.messages[1].get_payload(decode=True).decode()
    # Asked again at once: no more email, so the link cannot flood anyone's inbox.
    assert _join(sqlite_world.client(), token, "lin@example.com").json()["invite_token"] is None
    assert len(inbox.messages) == 2
    assert "invitation.link_resent" in _actions(a)


def test_a_disabled_link_says_it_is_closed(sqlite_world: World) -> None:
    a = sqlite_world.a
    token = _token(_create(sqlite_world, a))
    recruiter = sqlite_world.staff(a, "recruiter")
    assert recruiter.delete(f"/api/v1/roles/{a.role_id}/open-link").status_code == 204
    about = sqlite_world.client().post("/api/v1/candidate/open-link", json={"token": token})
    assert about.status_code == 410 and about.json()["error"]["code"] == "open_link_disabled"
    assert _join(sqlite_world.client(), token, "x@example.com").status_code == 410
    assert recruiter.get(f"/api/v1/roles/{a.role_id}/open-link").json()["state"] == "disabled"
    assert "open_link.disabled" in _actions(a) and _interviews_for("x@example.com") == 0


def test_a_new_link_replaces_the_old_one(sqlite_world: World) -> None:
    a = sqlite_world.a
    old = _token(_create(sqlite_world, a))
    new = _token(_create(sqlite_world, a))
    anyone = sqlite_world.client()
    assert anyone.post("/api/v1/candidate/open-link", json={"token": old}).status_code == 410
    assert anyone.post("/api/v1/candidate/open-link", json={"token": new}).status_code == 200


def test_an_expired_link_says_it_has_expired(sqlite_world: World) -> None:
    a = sqlite_world.a
    link = _create(sqlite_world, a, expires_in_days=3)
    assert dt.datetime.fromisoformat(str(link["expires_at"])) > utcnow() + dt.timedelta(days=2)
    with unit_of_work() as session:
        row = session.get(OpenLink, link["id"])
        assert row is not None
        row.expires_at = utcnow() - dt.timedelta(minutes=1)
    joined = _join(sqlite_world.client(), _token(link), "late@example.com")
    assert joined.status_code == 410 and joined.json()["error"]["code"] == "open_link_expired"


def test_an_unknown_token_is_not_a_link(sqlite_world: World) -> None:
    about = sqlite_world.client().post("/api/v1/candidate/open-link", json={"token": "x" * 43})
    assert about.status_code == 404 and about.json()["error"]["code"] == "open_link_invalid"


def test_a_capped_link_admits_only_as_many_candidates_as_it_was_opened_for(world: World) -> None:
    a = world.a
    token = _token(_create(world, a, max_candidates=2))
    assert [_join(world.client(), token, f"p{i}@example.com").status_code for i in range(2)] == [
        200, 200
    ]
    third = _join(world.client(), token, "p2@example.com")
    assert third.status_code == 410 and third.json()["error"]["code"] == "open_link_full"
    link = world.staff(a, "recruiter").get(f"/api/v1/roles/{a.role_id}/open-link").json()
    assert (link["state"], link["candidates"]) == ("full", 2)
    assert _interviews_for("p2@example.com") == 0


def test_joins_per_hour_are_bounded(sqlite_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_OPEN_LINK_JOINS_PER_HOUR", "2")
    reset_caches()
    token = _token(_create(sqlite_world, sqlite_world.a))
    assert _join(sqlite_world.client(), token, "h0@example.com").status_code == 200
    assert _join(sqlite_world.client(), token, "h1@example.com").status_code == 200
    busy = _join(sqlite_world.client(), token, "h2@example.com")
    assert busy.status_code == 429 and busy.json()["error"]["code"] == "open_link_busy"


def test_after_a_change_of_secret_key_the_link_still_works_but_is_not_shown_again(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = sqlite_world.a
    token = _token(_create(sqlite_world, a))
    monkeypatch.setenv("PARLEY_SECRET_KEY", "another-secret-key-of-at-least-32-characters")
    reset_caches()
    shown = sqlite_world.staff(a, "recruiter").get(f"/api/v1/roles/{a.role_id}/open-link").json()
    assert shown["url"] is None and shown["state"] == "active"
    about = sqlite_world.client().post("/api/v1/candidate/open-link", json={"token": token})
    assert about.status_code == 200
