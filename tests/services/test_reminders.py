"""One reminder before an invitation expires, with a working link; a recruiter's extension."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from services.core import jobs, security
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work, utcnow
from services.core.interviews import invitations, reminders
from services.core.interviews.orm import Interview
from services.core.interviews.states import InterviewState
from services.core.settings import get_settings
from tests.conftest import reset_caches
from tests.services.conftest import Org, World
from tests.services.test_invitations import Inbox, inbox  # noqa: F401 (a fixture)


def _invite(world: World, org: Org, email: str) -> dict[str, str]:
    out = world.staff(org, "recruiter").post(
        f"/api/v1/roles/{org.role_id}/invitations", json={"name": "Kit Reid", "email": email}
    )
    assert out.status_code == 201, out.text
    return out.json()


def _remind(now: dt.datetime) -> list[str]:
    with unit_of_work() as session:
        return reminders.send_due_reminders(session, settings=get_settings(), now=now)


def _expiry(interview_id: str) -> dt.datetime:
    with unit_of_work() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        return interview.invitation.expires_at


def _body(message: object) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[attr-defined]


def _audit(org: Org, action: str) -> list[AuditEvent]:
    with unit_of_work() as session:
        return list(session.scalars(
            select(AuditEvent).where(AuditEvent.org_id == org.org_id, AuditEvent.action == action)
        ))


def test_one_reminder_goes_days_before_expiry_with_a_link_that_works(
    world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = world.a
    out = _invite(world, a, "kit@example.com")
    expires = _expiry(out["interview_id"])
    inbox.messages.clear()
    assert _remind(expires - dt.timedelta(days=2, minutes=1)) == []  # not due yet
    due = expires - dt.timedelta(days=2) + dt.timedelta(minutes=1)
    assert _remind(due) == [out["interview_id"]]
    [message] = inbox.messages
    assert message["Subject"] == "Reminder: your interview for Role a at Org a"
    assert out["invite_url"] in _body(message)
    candidate = world.client()
    candidate.headers["X-Invite-Token"] = out["invite_url"].split("#", 1)[1]
    assert candidate.get("/api/v1/candidate/interview").status_code == 200
    # Once per invitation, however often the job runs.
    assert _remind(due) == [] and _remind(due + dt.timedelta(hours=20)) == []
    assert len(inbox.messages) == 1
    [event] = _audit(a, "invitation.reminded")
    assert event.actor == "system" and event.data["with_link"] is True


def test_no_reminder_after_completion_a_human_review_a_deletion_request_or_expiry(
    world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = world.a
    done, human, deleting, lapsed = (
        _invite(world, a, f"{who}@example.com")
        for who in ("done", "human", "deleting", "lapsed")
    )
    client = world.client()
    client.headers["X-Invite-Token"] = deleting["invite_url"].split("#", 1)[1]
    assert client.post("/api/v1/candidate/deletion").status_code == 202
    with unit_of_work() as session:
        for out, state in ((done, InterviewState.COMPLETED), (human, InterviewState.HUMAN_REVIEW)):
            interview = session.get(Interview, out["interview_id"])
            assert interview is not None
            interview.state = state
        interview = session.get(Interview, lapsed["interview_id"])
        assert interview is not None
        interview.invitation.expires_at = utcnow() - dt.timedelta(hours=1)
    inbox.messages.clear()
    # Within two days of the four's expiry: the seed's invitation (7 days) is not due either.
    assert _remind(_expiry(done["interview_id"]) - dt.timedelta(days=1)) == []
    assert _remind(utcnow()) == [] and inbox.messages == []


def test_a_link_issued_at_random_gets_a_reminder_pointing_to_the_first_email(
    sqlite_world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = sqlite_world.a
    token = security.new_token()
    with unit_of_work() as session:
        issued = invitations.invite_candidate(
            session, org_id=a.org_id, actor_id=None, role_id=a.role_id, name="Old Link",
            email="old@example.com", ttl_days=14, token=token,
        )
        interview_id = issued.interview.id
    assert _remind(_expiry(interview_id) - dt.timedelta(days=1)) == [interview_id]
    [message] = inbox.messages
    body = _body(message)
    assert token not in body and "Open it from the link in the email Org a sent you on" in body


def test_no_reminders_when_the_setting_is_zero(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _invite(sqlite_world, sqlite_world.a, "zero@example.com")
    monkeypatch.setenv("PARLEY_REMINDER_DAYS_BEFORE_EXPIRY", "0")
    reset_caches()
    assert _remind(_expiry(out["interview_id"]) - dt.timedelta(hours=1)) == []


def test_the_beat_runs_the_reminder_job(sqlite_world: World, inbox: Inbox) -> None:  # noqa: F811
    from services.worker import tasks
    from services.worker.app import celery_app

    assert jobs.SEND_REMINDERS in {e["task"] for e in celery_app.conf.beat_schedule.values()}
    out = _invite(sqlite_world, sqlite_world.a, "beat@example.com")
    with unit_of_work() as session:  # invited ten days ago, expiring tomorrow
        invitation = session.get(Interview, out["interview_id"]).invitation  # type: ignore[union-attr]
        invitation.created_at = utcnow() - dt.timedelta(days=10)
        invitation.expires_at = utcnow() + dt.timedelta(days=1)
    assert tasks.send_reminders() == [out["interview_id"]]
    assert out["invite_url"] in _body(inbox.messages[-1])


def test_a_recruiter_extends_an_expired_invitation_and_the_link_is_emailed_again(
    sqlite_world: World, inbox: Inbox  # noqa: F811
) -> None:
    a = sqlite_world.a
    out = _invite(sqlite_world, a, "kit@example.com")
    with unit_of_work() as session:
        invitation = session.get(Interview, out["interview_id"]).invitation  # type: ignore[union-attr]
        invitation.expires_at = utcnow() - dt.timedelta(days=1)
    candidate = sqlite_world.client()
    candidate.headers["X-Invite-Token"] = out["invite_url"].split("#", 1)[1]
    assert candidate.get("/api/v1/candidate/interview").status_code == 410
    recruiter = sqlite_world.staff(a, "recruiter")
    detail = recruiter.get(f"/api/v1/interviews/{out['interview_id']}").json()
    assert detail["invitation"]["expired"] is True
    rows = recruiter.get(f"/api/v1/roles/{a.role_id}/candidates").json()["items"]
    [row] = [r for r in rows if r["interview_id"] == out["interview_id"]]
    assert row["invitation_expired"] is True

    inbox.messages.clear()
    extended = recruiter.post(
        f"/api/v1/interviews/{out['interview_id']}/invitation/extend",
        json={"days": 5, "reason": "Kit Reid was ill and asked for more time."},
    )
    assert extended.status_code == 200, extended.text
    new_expiry = dt.datetime.fromisoformat(extended.json()["expires_at"])
    assert abs(new_expiry - (utcnow() + dt.timedelta(days=5))) < dt.timedelta(minutes=1)
    assert extended.json()["invite_url"] == out["invite_url"]
    [message] = inbox.messages
    assert message["To"] == "kit@example.com" and out["invite_url"] in _body(message)
    assert candidate.get("/api/v1/candidate/interview").status_code == 200
    assert recruiter.get(f"/api/v1/interviews/{out['interview_id']}"
                         ).json()["invitation"]["expired"] is False
    [event] = _audit(a, "invitation.extended")
    assert event.actor.startswith("user:") and event.data["days"] == 5
    assert event.data["reason"] == "[candidate] was ill and asked for more time."


def test_extending_a_link_issued_at_random_sends_a_new_one(sqlite_world: World) -> None:
    a = sqlite_world.a
    old = security.new_token()
    with unit_of_work() as session:
        issued = invitations.invite_candidate(
            session, org_id=a.org_id, actor_id=None, role_id=a.role_id, name="Old Link",
            email="old@example.com", ttl_days=14, token=old,
        )
        interview_id = issued.interview.id
    extended = sqlite_world.staff(a, "recruiter").post(
        f"/api/v1/interviews/{interview_id}/invitation/extend",
        json={"days": 3, "reason": "More time to answer."},
    ).json()
    new = extended["invite_url"].split("#", 1)[1]
    assert new != old
    for token, status in ((old, 401), (new, 200)):
        client = sqlite_world.client()
        client.headers["X-Invite-Token"] = token
        assert client.get("/api/v1/candidate/interview").status_code == status


def test_a_completed_interview_cannot_be_extended(sqlite_world: World) -> None:
    a = sqlite_world.a
    with unit_of_work() as session:
        interview = session.get(Interview, a.interview_id)
        assert interview is not None
        interview.state = InterviewState.COMPLETED
    before = _expiry(a.interview_id)
    refused = sqlite_world.staff(a, "recruiter").post(
        f"/api/v1/interviews/{a.interview_id}/invitation/extend",
        json={"days": 3, "reason": "More time to answer."},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "interview_closed"
    assert _expiry(a.interview_id) == before
