"""Editing a role (PUT /roles/{id}), custom questions (POST /questions), and the band preview's
score distribution (GET /roles/{id}/score-distribution)."""

from __future__ import annotations

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work, utcnow
from services.core.interviews import invitations
from services.core.interviews.orm import Answer
from services.core.interviews.states import AnswerState
from services.core.roles import service as roles
from services.core.rubrics import service as rubrics
from services.core.scoring import service as scoring
from services.core.scoring import standings
from services.core.scoring.standings import BINS
from tests.services.conftest import Org, World

COMMUNICATION = {"competency_key": "communication", "required_level": 3, "exceeds_level": 4}


def _role_body(org: Org, **changes: object) -> dict[str, object]:
    return {
        "title": "Role a",
        "description": "",
        "rubric_version_id": org.rubric_version_id,
        "question_ids": list(org.question_ids),
        "thresholds": [COMMUNICATION],
        "think_seconds": 30,
        "answer_seconds": 150,
        "retakes": 1,
        **changes,
    }


def _audit(action: str) -> list[AuditEvent]:
    with unit_of_work() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_role_nobody_has_started_changes_in_full_and_the_log_keeps_before_and_after(
    world: World,
) -> None:
    a = world.a
    q0, q1 = a.question_ids
    recruiter = world.staff(a, "recruiter")
    created = recruiter.post("/api/v1/roles", json=_role_body(a, question_ids=[q0]))
    assert created.status_code == 201, created.text
    role_id = created.json()["id"]
    invited = recruiter.post(
        f"/api/v1/roles/{role_id}/invitations", json={"name": "Ada", "email": "ada@example.com"}
    )
    assert invited.status_code == 201  # invited, not started: the script may still change
    assert recruiter.get(f"/api/v1/roles/{role_id}").json()["candidates_started"] is False

    body = _role_body(
        a,
        title="Warehouse lead",
        description="Runs the night shift.",
        question_ids=[q1, q0],
        thresholds=[
            {"competency_key": "communication", "required_level": 2, "exceeds_level": 4.5},
            {"competency_key": "problem_solving", "required_level": 3, "exceeds_level": 5},
        ],
        think_seconds=45,
        answer_seconds=120,
        retakes=2,
    )
    edited = recruiter.put(f"/api/v1/roles/{role_id}", json=body)

    assert edited.status_code == 200, edited.text
    out = edited.json()
    assert (out["title"], out["description"]) == ("Warehouse lead", "Runs the night shift.")
    assert [item["question"]["id"] for item in out["script"]] == [q1, q0]
    assert [item["position"] for item in out["script"]] == [0, 1]
    assert (out["think_seconds"], out["answer_seconds"], out["retakes"]) == (45, 120, 2)
    assert {t["competency_key"]: (t["required_level"], t["exceeds_level"])
            for t in out["thresholds"]} == {"communication": (2, 4.5), "problem_solving": (3, 5)}
    assert recruiter.get(f"/api/v1/roles/{role_id}").json()["script"] == out["script"]
    [event] = _audit("role.update")
    assert event.subject == f"role:{role_id}"
    assert event.data == {
        "before": {
            "title": "Role a", "description": "", "question_ids": [q0], "think_seconds": 30,
            "answer_seconds": 150, "retakes": 1, "thresholds": {"communication": [3.0, 4.0]},
        },
        "after": {
            "title": "Warehouse lead", "description": "Runs the night shift.",
            "question_ids": [q1, q0], "think_seconds": 45, "answer_seconds": 120, "retakes": 2,
            "thresholds": {"communication": [2.0, 4.5], "problem_solving": [3.0, 5.0]},
        },
    }
    assert recruiter.put(f"/api/v1/roles/{role_id}", json=body).status_code == 200
    assert len(_audit("role.update")) == 1  # saving without a change logs nothing


def test_once_a_candidate_has_started_the_script_rubric_and_retakes_are_locked(
    world: World,
) -> None:
    a = world.a  # the seed's candidate has consented
    q0, q1 = a.question_ids
    with unit_of_work() as session:
        newer = rubrics.save_edited(
            session, org_id=a.org_id, actor="system",
            document={**rubrics.default_rubric(), "name": "Another rubric"},
        ).id
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}"
    assert recruiter.get(url).json()["candidates_started"] is True

    for change, fields in [
        ({"question_ids": [q1, q0]}, ["question_ids"]),
        ({"question_ids": [q0]}, ["question_ids"]),
        ({"rubric_version_id": newer}, ["rubric_version_id"]),
        ({"retakes": 0, "question_ids": [q1, q0]}, ["question_ids", "retakes"]),
    ]:
        refused = recruiter.put(url, json=_role_body(a, **change))
        assert refused.status_code == 409, change
        error = refused.json()["error"]
        assert error["code"] == "role_locked"
        assert sorted(error["details"]["fields"]) == fields
        assert "every candidate gets the same interview" in error["message"]

    allowed = recruiter.put(url, json=_role_body(
        a, title="Role a, renamed", description="Now with nights.", think_seconds=60,
        answer_seconds=180,
        thresholds=[{"competency_key": "communication", "required_level": 2, "exceeds_level": 3}],
    ))
    assert allowed.status_code == 200, allowed.text
    out = allowed.json()
    assert (out["title"], out["think_seconds"], out["answer_seconds"]) == ("Role a, renamed", 60, 180)
    assert [item["question"]["id"] for item in out["script"]] == [q0, q1]
    assert out["thresholds"][0]["required_level"] == 2 and out["candidates_started"] is True
    [event] = _audit("role.update")
    assert set(event.data["after"]) == {  # type: ignore[arg-type]
        "title", "description", "think_seconds", "answer_seconds", "thresholds"
    }


def test_bad_thresholds_and_scripts_are_refused_with_422(world: World) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}"
    with unit_of_work() as session:
        juggling = roles.add_question(
            session, org_id=a.org_id, key="juggling-1", competency_key="juggling",
            text="Tell me about a time you kept five balls in the air.",
        ).id
    cases = [
        ({"competency_key": "communication", "required_level": 4, "exceeds_level": 4},
         "bad_thresholds"),
        ({"competency_key": "communication", "required_level": 4, "exceeds_level": 3},
         "bad_thresholds"),
        ({"competency_key": "communication", "required_level": 3, "exceeds_level": 6},
         "validation_error"),
        ({"competency_key": "communication", "required_level": 0, "exceeds_level": 3},
         "validation_error"),
        ({"competency_key": "juggling", "required_level": 2, "exceeds_level": 3},
         "unknown_competency"),
    ]
    for threshold, code in cases:
        refused = recruiter.put(url, json=_role_body(a, thresholds=[threshold]))
        assert refused.status_code == 422, threshold
        assert refused.json()["error"]["code"] == code, refused.text
    created = recruiter.post(
        "/api/v1/roles", json=_role_body(a, question_ids=[a.question_ids[0], juggling])
    )
    assert created.status_code == 422
    assert created.json()["error"]["code"] == "question_outside_rubric"
    assert recruiter.put(url, json=_role_body(a, title="")).status_code == 422
    assert recruiter.put(url, json=_role_body(a, question_ids=[])).status_code == 422
    assert recruiter.get(url).json()["thresholds"] == [COMMUNICATION]  # nothing was changed
    assert _audit("role.update") == []


def test_a_competency_given_two_pairs_of_levels_is_refused_with_duplicate_threshold(
    world: World,
) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    twice = [COMMUNICATION, {**COMMUNICATION, "required_level": 2}]
    for refused in (
        recruiter.post("/api/v1/roles", json=_role_body(a, thresholds=twice)),
        recruiter.put(f"/api/v1/roles/{a.role_id}", json=_role_body(a, thresholds=twice)),
        recruiter.put(f"/api/v1/roles/{a.role_id}/thresholds", json={"thresholds": twice}),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "duplicate_threshold"
    assert recruiter.get(f"/api/v1/roles/{a.role_id}").json()["thresholds"] == [COMMUNICATION]


def test_recruiters_and_psychologists_write_questions_for_a_competency_of_the_rubric(
    world: World,
) -> None:
    a = world.a
    text = "Tell me about a time you had to explain a delay to an unhappy customer."
    body = {"rubric_version_id": a.rubric_version_id, "competency_key": "communication",
            "text": f"  {text.replace(' ', '  ', 2)}\n"}
    recruiter = world.staff(a, "recruiter")

    created = recruiter.post("/api/v1/questions", json=body)

    assert created.status_code == 201, created.text
    question = created.json()
    assert (question["text"], question["competency_key"]) == (text, "communication")
    assert question["key"].startswith("custom-communication-")
    assert question["id"] in {q["id"] for q in recruiter.get("/api/v1/questions").json()}
    [event] = _audit("question.create")
    assert event.subject == f"question:{question['id']}"
    again = recruiter.post("/api/v1/questions", json={**body, "text": text.upper()})
    assert again.status_code == 409
    assert again.json()["error"]["details"]["question_id"] == question["id"]
    refusals = [
        ({"competency_key": "juggling"}, "unknown_competency"),
        ({"text": "Tell me a story."}, "bad_question_length"),
        ({"text": "Tell me about a time " + "and then " * 80}, "bad_question_length"),
        ({"text": "x" * 2001}, "validation_error"),
    ]
    for change, code in refusals:
        refused = recruiter.post("/api/v1/questions", json={**body, **change})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, code), change
    psychologist = world.staff(a, "psychologist")
    other = psychologist.post("/api/v1/questions", json={
        **body, "competency_key": "ownership",
        "text": "Tell me about a time you fixed something nobody had asked you to fix.",
    })
    assert other.status_code == 201
    assert world.staff(world.b, "recruiter").post("/api/v1/questions", json=body).status_code == 404


def scored_candidate(
    org: Org, name: str, scores: dict[str, list[float]]
) -> str:
    """A candidate of the org's role with one transcribed answer per score, scored as the
    worker scores one."""
    with unit_of_work() as session:
        issued = invitations.invite_candidate(
            session, org_id=org.org_id, actor_id=None, role_id=org.role_id, name=name,
            email=f"{name.lower()}@example.com", ttl_days=7,
        )
        pairs = [(key, value) for key, values in scores.items() for value in values]
        for question_id, (key, value) in zip(org.question_ids, pairs, strict=False):
            answer = Answer(
                org_id=org.org_id, interview_id=issued.interview.id, question_id=question_id,
                state=AnswerState.TRANSCRIBED, state_changed_at=utcnow(), content_type="audio/wav",
            )
            session.add(answer)
            session.flush()
            target = scoring.ScoringTarget(
                answer_id=answer.id, org_id=org.org_id, competency_key=key, question_text="",
                transcript_text="", words=[], asr_version="a",
                rubric_version_id=org.rubric_version_id, names_to_redact=(),
            )
            scoring.save_scores(
                session, target=target, model_version="m",
                records=[scoring.ScoreRecord(key, value, 1 + value / 25, [])],
            )
        standings.refresh(session, interview_ids=[issued.interview.id])  # as the worker does
        return issued.interview.id


def test_the_score_distribution_counts_current_scores_in_bins_of_five_points(
    world: World,
) -> None:
    a = world.a
    for name, value in [("Ann", 0.0), ("Bob", 4.9), ("Cy", 5.0), ("Di", 62.5), ("Ed", 100.0)]:
        scored_candidate(a, name, {"communication": [value]})
    scored_candidate(a, "Fay", {"communication": [40.0], "problem_solving": [50.0]})
    overridden = scored_candidate(a, "Gus", {"communication": [30.0, 40.0]})  # mean 35
    recruiter = world.staff(a, "recruiter")
    override = recruiter.post(f"/api/v1/interviews/{overridden}/overrides", json={
        "competency_key": "communication", "value": 81.0, "reason": "Heard it myself.",
    })
    assert override.status_code == 201, override.text

    response = recruiter.get(f"/api/v1/roles/{a.role_id}/score-distribution")

    assert response.status_code == 200, response.text
    communication, problem_solving = [0] * BINS, [0] * BINS
    for bin_index in (0, 0, 1, 12, 19, 8, 16):  # Gus counts as his override, 81
        communication[bin_index] += 1
    problem_solving[10] = 1
    assert response.json() == {
        "role_id": a.role_id,
        "bin_width": 5,
        "competencies": [
            {"competency_key": "communication", "counts": communication, "candidates": 7},
            {"competency_key": "problem_solving", "counts": problem_solving, "candidates": 1},
        ],
    }
    # The seed's own candidate (uploaded, never scored) is in no bin; B's roles see nothing.
    empty = world.staff(world.b, "recruiter").get(f"/api/v1/roles/{world.b.role_id}/score-distribution")
    assert empty.json()["competencies"] == []
