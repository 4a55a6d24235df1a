"""The feedback report names strengths the answers showed, later, and never a score."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work, utcnow
from tests.services.conftest import Org, World, complete_with_score

QUOTE = "I rang the client myself and explained the new date."


def _complete(org: Org, *, value: float, days_ago: float) -> None:
    complete_with_score(
        org,
        value=value,
        level=4.0,
        completed_at=utcnow() - dt.timedelta(days=days_ago),
        evidence=[{"text": "We met.", "weight": 1.0}, {"text": QUOTE, "weight": 6.5}],
    )


def test_feedback_is_offered_only_when_the_role_enables_it_and_only_later(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    candidate, recruiter = sqlite_world.candidate(a), sqlite_world.staff(a, "recruiter")
    _complete(sqlite_world.a, value=82.0, days_ago=1)
    off = candidate.get("/api/v1/candidate/feedback")
    assert off.status_code == 409 and off.json()["error"]["code"] == "feedback_not_offered"
    assert candidate.get("/api/v1/candidate/interview").json()["feedback_offered"] is False

    turned_on = recruiter.put(
        f"/api/v1/roles/{a.role_id}/feedback", json={"enabled": True, "delay_days": 3}
    )
    assert turned_on.status_code == 200 and turned_on.json()["feedback_enabled"] is True
    assert sqlite_world.staff(a, "psychologist").put(
        f"/api/v1/roles/{a.role_id}/feedback", json={"enabled": False}
    ).status_code == 403
    waiting = candidate.get("/api/v1/candidate/feedback").json()
    assert waiting["strengths"] is None  # completed a day ago; ready two days from now
    ready = dt.datetime.fromisoformat(waiting["available_at"])
    assert dt.timedelta(days=1.9) < ready - utcnow() < dt.timedelta(days=2.1)

    recruiter.put(f"/api/v1/roles/{a.role_id}/feedback", json={"enabled": True, "delay_days": 0})
    response = candidate.get("/api/v1/candidate/feedback")
    report = response.json()
    assert [s["competency"] for s in report["strengths"]] == ["Communication"]
    assert report["strengths"][0]["example"] == QUOTE  # the sentence that weighed most
    # Nothing numeric about the assessment, and no band or score words.
    shown = " ".join(f"{s['competency']} {s['description']}" for s in report["strengths"])
    assert not re.search(r"\d|score|band|meets|exceeds|below", shown, re.IGNORECASE)
    # (the timestamp may hold any digits; the strengths must hold none of the score)
    assert "82" not in json.dumps(report["strengths"])
    with unit_of_work() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions.count("role.feedback_changed") == 2 and "feedback.viewed" in actions


def test_a_competency_below_the_role_level_is_never_named(sqlite_world: World) -> None:
    a = sqlite_world.a
    _complete(sqlite_world.a, value=20.0, days_ago=10)
    sqlite_world.staff(a, "recruiter").put(
        f"/api/v1/roles/{a.role_id}/feedback", json={"enabled": True, "delay_days": 3}
    )
    report = sqlite_world.candidate(a).get("/api/v1/candidate/feedback").json()
    assert report["strengths"] == []
