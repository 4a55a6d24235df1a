"""Retakes within the allowance, recruiter-granted accommodations and typed answers."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.interviews.orm import Answer, Transcript
from tests.services.conftest import World, tone_wav


def _put(client, question_id: str, data: bytes, index: int = 0, final: bool = False):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "audio/wav", "X-Chunk-SHA256": hashlib.sha256(data).hexdigest()}
    if final:
        headers["X-Final-Chunk"] = "true"
    return client.put(
        f"/api/v1/candidate/answers/{question_id}/chunks/{index}", content=data, headers=headers
    )


def _record_whole_take(client, question_id: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    half = len(data) // 2
    assert _put(client, question_id, data[:half], index=0).status_code == 200
    assert _put(client, question_id, data[half:], index=1, final=True).status_code == 200


def _actions(subject: str) -> list[tuple[str, dict[str, object]]]:
    with unit_of_work() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.seq)
        )
        return [(e.action, e.data) for e in events]


def test_a_whole_take_may_be_recorded_again_only_within_the_retake_allowance(
    sqlite_world: World,
) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    first = tone_wav(2.0)
    _record_whole_take(client, q1, first)
    state = client.get(f"/api/v1/candidate/answers/{q1}").json()
    assert state["recorded"] is True and state["retakes_left"] == 1  # the role allows one
    # The recording has ended: a chunk past its end is refused, not appended.
    late = _put(client, q1, b"RIFF-late", index=2)
    assert late.status_code == 409 and late.json()["error"]["code"] == "recording_ended"

    again = client.post(f"/api/v1/candidate/answers/{q1}/restart")
    assert again.status_code == 200, again.text
    assert again.json() | {"answer_id": ""} == {
        "answer_id": "",
        "state": "receiving",
        "failure_code": None,
        "failure_reason": None,
        "received_chunks": [],
        "recorded": False,
        "retakes_left": 0,
    }
    second = tone_wav(3.0)
    _record_whole_take(client, q1, second)
    refused = client.post(f"/api/v1/candidate/answers/{q1}/restart")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_retakes_left"
    # The refused retake kept the take: keeping it stores exactly its bytes.
    kept = client.post(
        f"/api/v1/candidate/answers/{q1}/complete",
        json={"chunk_count": 2, "sha256": hashlib.sha256(second).hexdigest()},
    )
    assert kept.status_code == 200 and kept.json()["state"] == "uploaded"
    answer_id = kept.json()["answer_id"]
    assert [a for a, _ in _actions(f"answer:{answer_id}")] == ["answer.retaken", "answer.uploaded"]


def test_a_cut_off_take_is_recorded_again_without_using_a_retake(sqlite_world: World) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    data = tone_wav(2.0)
    assert _put(client, q1, data[:30000]).status_code == 200  # no final chunk: cut off
    for _ in range(3):  # however often the connection drops
        restarted = client.post(f"/api/v1/candidate/answers/{q1}/restart")
        assert restarted.status_code == 200 and restarted.json()["retakes_left"] == 1
        assert _put(client, q1, data[:30000]).status_code == 200


def test_accommodations_are_granted_by_a_recruiter_logged_and_seen_by_the_candidate(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    granted = {
        "extra_think_seconds": 30,
        "extra_answer_seconds": 60,
        "extra_retakes": 2,
        "typed_answers": True,
    }
    before = sqlite_world.candidate(a).get("/api/v1/candidate/interview").json()
    assert before["typed_answers"] is False
    refused = sqlite_world.staff(a, "psychologist").put(
        f"/api/v1/interviews/{a.interview_id}/accommodations", json=granted
    )
    assert refused.status_code == 403
    recruiter = sqlite_world.staff(a, "recruiter")
    response = recruiter.put(
        f"/api/v1/interviews/{a.interview_id}/accommodations",
        json={**granted, "reason": "Asked for by email: dyslexia."},
    )
    assert response.status_code == 200 and response.json() == granted
    detail = recruiter.get(f"/api/v1/interviews/{a.interview_id}").json()
    assert detail["accommodations"] == granted

    after = sqlite_world.candidate(a).get("/api/v1/candidate/interview").json()
    assert after["think_seconds"] == before["think_seconds"] + 30
    assert after["answer_seconds"] == before["answer_seconds"] + 60
    assert after["retakes"] == before["retakes"] + 2
    assert after["typed_answers"] is True
    assert [q["retakes_left"] for q in after["questions"]] == [3, 3]

    changes = [
        d for act, d in _actions(f"interview:{a.interview_id}") if act == "accommodations.changed"
    ]
    assert len(changes) == 1
    assert (
        changes[0]["after"] == granted and changes[0]["reason"] == "Asked for by email: dyslexia."
    )
    assert changes[0]["before"] == {
        "extra_think_seconds": 0,
        "extra_answer_seconds": 0,
        "extra_retakes": 0,
        "typed_answers": False,
    }
    too_many = recruiter.put(
        f"/api/v1/interviews/{a.interview_id}/accommodations", json={"extra_retakes": 9}
    )
    assert too_many.status_code == 422


def test_a_typed_answer_is_stored_as_its_transcript_and_queued_for_scoring(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    client, q1 = sqlite_world.candidate(a), a.question_ids[1]
    text = "When our release slipped, I told the client myself and we agreed a new plan."
    not_granted = client.post(f"/api/v1/candidate/answers/{q1}/text", json={"text": text})
    assert not_granted.status_code == 409
    assert not_granted.json()["error"]["code"] == "typed_not_allowed"
    recruiter = sqlite_world.staff(a, "recruiter")
    recruiter.put(
        f"/api/v1/interviews/{a.interview_id}/accommodations", json={"typed_answers": True}
    )
    empty = client.post(f"/api/v1/candidate/answers/{q1}/text", json={"text": "  \n "})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_answer"

    typed = client.post(f"/api/v1/candidate/answers/{q1}/text", json={"text": text})
    assert typed.status_code == 201 and typed.json()["state"] == "transcribed"
    answer_id = typed.json()["answer_id"]
    assert sqlite_world.publisher.published[-1] == ("answer.score", (answer_id,))
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None and answer.media_key is None
        transcript = session.scalars(
            select(Transcript).where(Transcript.answer_id == answer_id)
        ).one()
    assert (transcript.text, transcript.asr_version) == (text, "typed")
    assert [act for act, _ in _actions(f"answer:{answer_id}")] == ["answer.typed"]
    again = client.post(f"/api/v1/candidate/answers/{q1}/text", json={"text": "Another go."})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    assert client.post("/api/v1/candidate/finish").json()["state"] == "completed"


def test_a_finished_interview_takes_no_more_chunks_and_keeps_its_answers(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    client, q1 = sqlite_world.candidate(a), a.question_ids[1]
    data = tone_wav(2.0)
    _record_whole_take(client, q1, data)
    client.post(
        f"/api/v1/candidate/answers/{q1}/complete",
        json={"chunk_count": 2, "sha256": hashlib.sha256(data).hexdigest()},
    )
    assert client.post("/api/v1/candidate/finish").json()["state"] == "completed"
    late = _put(client, q1, tone_wav(), index=0)
    assert late.status_code == 409 and late.json()["error"]["code"] == "interview_not_open"
    retake = client.post(f"/api/v1/candidate/answers/{q1}/restart")
    assert retake.status_code == 409 and retake.json()["error"]["code"] == "interview_not_open"
    with unit_of_work() as session:
        answers = session.scalars(select(Answer).where(Answer.interview_id == a.interview_id))
        assert sorted(x.state.value for x in answers) == ["uploaded", "uploaded"]
    closed = sqlite_world.staff(a, "recruiter").put(
        f"/api/v1/interviews/{a.interview_id}/accommodations", json={"extra_retakes": 1}
    )
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "interview_closed"
