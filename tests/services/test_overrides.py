"""A person may override a competency's score, with a reason; the model's score stays."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.fairness.report import outcomes_for_role
from services.core.interviews.orm import Interview, Score
from tests.services.conftest import World, complete_with_score


def test_an_override_needs_a_reason_changes_the_ranking_and_keeps_the_model_score(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    complete_with_score(sqlite_world.a, value=30.0, level=2.0)  # below the role's required level 3 (50/100)
    recruiter = sqlite_world.staff(a, "recruiter")
    url = f"/api/v1/interviews/{a.interview_id}/overrides"
    body = {"competency_key": "communication", "value": 70.0, "viewed": ["transcript"]}
    assert recruiter.post(url, json={**body, "reason": ""}).status_code == 422
    assert sqlite_world.staff(a, "psychologist").post(
        url, json={**body, "reason": "Heard it myself."}
    ).status_code == 403
    unknown = recruiter.post(
        url, json={**body, "competency_key": "juggling", "reason": "Heard it myself."}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_competency"

    done = recruiter.post(url, json={**body, "reason": "The transcript missed her example."})
    assert done.status_code == 201, done.text
    [result] = done.json()["competencies"]
    assert (result["score"], result["band"], result["model_score"]) == (70.0, "meets", 30.0)
    assert result["override"]["reason"] == "The transcript missed her example."
    row = recruiter.get(f"/api/v1/roles/{a.role_id}/candidates").json()["items"][0]
    assert row["fit"] == 70.0 and row["competencies"][0]["band"] == "meets"
    with unit_of_work() as session:
        scores = session.scalars(select(Score.value)).all()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "score.overridden")
        ).one()
        outcomes, _ = outcomes_for_role(session, role_id=a.role_id)
    assert scores == [30.0]  # the model's score is never changed
    assert event.data == {
        "competency_key": "communication",
        "model_score": 30.0,
        "from": 30.0,
        "to": 70.0,
        "reason": "The transcript missed her example.",
        "viewed": ["transcript"],
    }
    assert outcomes[0].scores["communication"] == 30.0  # the bias audit sees the tool's output

    cleared = recruiter.post(url, json={**body, "value": None, "reason": "Back to the model."})
    [result] = cleared.json()["competencies"]
    assert (result["score"], result["override"]) == (30.0, None)


def test_the_ranking_exports_as_csv_with_every_candidate_and_no_formulas(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    complete_with_score(sqlite_world.a, value=64.0, level=2.0)
    with unit_of_work() as session:
        interview = session.get(Interview, a.interview_id)
        assert interview is not None
        interview.candidate.name = "=HYPERLINK(\"http://evil\")"
    url = f"/api/v1/roles/{a.role_id}/candidates.csv"
    assert sqlite_world.staff(a, "psychologist").get(url).status_code == 403
    response = sqlite_world.staff(a, "recruiter").get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:6] == ["rank", "candidate", "email", "interview_state", "status", "fit"]
    assert "communication_score" in rows[0] and "communication_band" in rows[0]
    assert rows[1][0] == "1" and rows[1][1].startswith("'=") and rows[1][5] == "64.0"
    assert len(rows) == 2  # the role's one candidate, never filtered
    with unit_of_work() as session:
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ranking.exported")
        ).one()


def test_ai_scoring_is_paused_and_resumed_by_a_person_with_a_reason(sqlite_world: World) -> None:
    a = sqlite_world.a
    recruiter = sqlite_world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/ai-scoring"
    assert recruiter.put(url, json={"paused": True, "reason": ""}).status_code == 422
    paused = recruiter.put(url, json={"paused": True, "reason": "Checking the rubric first."})
    assert paused.status_code == 200 and paused.json()["ai_scoring_paused"] is True
    assert ("scoring.rescore", ()) not in sqlite_world.publisher.published
    resumed = recruiter.put(url, json={"paused": False, "reason": "Rubric checked."})
    assert resumed.json()["ai_scoring_paused"] is False
    # What arrived while paused is scored now.
    assert sqlite_world.publisher.published[-1] == ("scoring.rescore", ())
    with unit_of_work() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.subject == f"role:{a.role_id}")
            .order_by(AuditEvent.seq)
        ).all()
    assert [(e.action, e.data["reason"]) for e in events[-2:]] == [
        ("role.ai_scoring_paused", "Checking the rubric first."),
        ("role.ai_scoring_resumed", "Rubric checked."),
    ]
