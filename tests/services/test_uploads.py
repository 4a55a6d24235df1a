"""Bad input at the upload API gets a clear 4xx and loses nothing already saved."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select, update

from services.core.db import unit_of_work
from services.core.interviews.orm import Answer, Invitation
from services.core.storage import get_storage
from tests.services.conftest import World, tone_wav
from tests.services.pipeline import silence_wav


def _put(
    client,
    question_id: str,
    data: bytes,
    index: int = 0,
    content_type: str = "audio/wav",
    sha: str | None = None,
):  # type: ignore[no-untyped-def]
    return client.put(
        f"/api/v1/candidate/answers/{question_id}/chunks/{index}",
        content=data,
        headers={
            "Content-Type": content_type,
            "X-Chunk-SHA256": sha or hashlib.sha256(data).hexdigest(),
        },
    )


def _complete(client, question_id: str, data: bytes, count: int = 1):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/candidate/answers/{question_id}/complete",
        json={"chunk_count": count, "sha256": hashlib.sha256(data).hexdigest()},
    )


def _saved_answer(world: World) -> tuple[str, bytes]:
    with unit_of_work() as session:
        answer = session.get(Answer, world.a.answer_id)
        assert answer is not None and answer.media_key
        return answer.state.value, get_storage().get(answer.media_key)


def test_chunks_are_idempotent_and_assemble_byte_for_byte(sqlite_world: World) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    data = tone_wav(2.0)
    parts = [data[:20000], data[20000:40000], data[40000:]]
    for i, part in reversed(list(enumerate(parts))):  # out of order is fine
        assert _put(client, q1, part, index=i).json()["duplicate"] is False
    assert _put(client, q1, parts[1], index=1).json()["duplicate"] is True  # a retried chunk
    response = _complete(client, q1, data, count=3)
    assert response.status_code == 200 and response.json()["state"] == "uploaded"
    assert sqlite_world.publisher.published[-1] == (
        "answer.transcribe",
        (response.json()["answer_id"],),
    )
    with unit_of_work() as session:
        answer = session.get(Answer, response.json()["answer_id"])
        assert answer is not None and answer.media_key
        assert get_storage().get(answer.media_key) == data
        assert answer.sha256 == hashlib.sha256(data).hexdigest()
    assert _complete(client, q1, data, count=3).status_code == 200  # completing twice is harmless


def test_damaged_or_conflicting_chunks_are_refused(sqlite_world: World) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    data = tone_wav()
    bad = _put(client, q1, data, sha="0" * 64)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "checksum_mismatch"
    assert _put(client, q1, data).status_code == 200
    other = _put(client, q1, data[:-2] + b"xx")
    assert other.status_code == 409 and other.json()["error"]["code"] == "chunk_conflict"
    missing = _complete(client, q1, data, count=2)
    assert missing.status_code == 409 and missing.json()["error"]["details"]["missing"] == [1]


def test_non_audio_and_empty_uploads_are_refused_and_earlier_answers_stay(
    sqlite_world: World,
) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    before = _saved_answer(sqlite_world)
    text = b"%PDF-1.7 this is a document, not a recording" * 10
    assert _put(client, q1, text, content_type="audio/webm").status_code == 200
    refused = _complete(client, q1, text)
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "not_media"
    # The refused chunks are gone, so the candidate can record this answer again.
    state = client.get(f"/api/v1/candidate/answers/{q1}").json()
    assert state["state"] == "receiving" and state["received_chunks"] == []
    assert state["failure_code"] == "not_media" and state["failure_reason"]
    wrong_type = _put(client, q1, tone_wav(), content_type="application/pdf")
    assert wrong_type.status_code == 415
    empty = _put(client, q1, b"")
    assert empty.status_code == 200
    refused_empty = _complete(client, q1, b"")
    assert (
        refused_empty.status_code == 422 and refused_empty.json()["error"]["code"] == "empty_upload"
    )
    assert _saved_answer(sqlite_world) == before


def test_oversized_chunks_are_refused_before_the_body_is_read(
    sqlite_world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import reset_caches

    monkeypatch.setenv("PARLEY_MAX_CHUNK_BYTES", "4096")
    reset_caches()
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    response = _put(client, q1, b"\x00" * 5000)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_an_answered_question_cannot_be_overwritten(sqlite_world: World) -> None:
    client, q0 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[0]
    before = _saved_answer(sqlite_world)
    response = _put(client, q0, tone_wav(3.0))
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_answered"
    assert _saved_answer(sqlite_world) == before


def test_expired_and_unknown_invites_are_refused(sqlite_world: World) -> None:
    client = sqlite_world.candidate(sqlite_world.a)
    with unit_of_work() as session:
        session.execute(
            update(Invitation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )
    response = client.get("/api/v1/candidate/interview")
    assert response.status_code == 410 and response.json()["error"]["code"] == "invite_expired"
    client.headers["X-Invite-Token"] = "not-a-token"
    assert client.get("/api/v1/candidate/interview").status_code == 401


def test_invite_tokens_are_long_and_stored_only_as_hashes(sqlite_world: World) -> None:
    token = sqlite_world.a.invite_token
    assert len(token) >= 43  # 256 bits in URL-safe base64
    with unit_of_work() as session:
        hashes = session.scalars(select(Invitation.token_hash)).all()
    assert token not in hashes and hashlib.sha256(token.encode()).hexdigest() in hashes


def test_validation_errors_name_the_fields(sqlite_world: World) -> None:
    client = sqlite_world.staff(sqlite_world.a, "recruiter")
    response = client.post(
        f"/api/v1/roles/{sqlite_world.a.role_id}/invitations",
        json={"name": "", "email": "not-an-email"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["details"]["fields"]} == {"body.name", "body.email"}
    malformed = client.post(
        f"/api/v1/roles/{sqlite_world.a.role_id}/invitations",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 422


def test_a_nul_character_in_a_body_query_or_path_is_refused_before_the_database(
    world: World,
) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    invitations = f"/api/v1/roles/{a.role_id}/invitations"
    refused = {
        "body": recruiter.post(invitations, json={"name": "A\x00B", "email": "nul@a.example.com"}),
        "query": recruiter.get(f"/api/v1/roles/{a.role_id}/candidates", params={"q": "A\x00B"}),
        "path": recruiter.get("/api/v1/roles/role%00id"),
    }
    for where, response in refused.items():
        assert response.status_code == 422, (where, response.text)
        error = response.json()["error"]
        assert (error["code"], error["details"]) == ("invalid_character", {"where": where})
    escaped = b'{"name": "A\\\\u0000B", "email": "backslash@a.example.com"}'  # text, not a NUL
    assert recruiter.post(
        invitations, content=escaped, headers={"Content-Type": "application/json"}
    ).status_code == 201
    audio = tone_wav()  # binary bodies pass untouched, NUL bytes and all
    assert b"\x00" in audio
    assert _put(world.candidate(a), a.question_ids[1], audio).status_code == 200


def test_a_declared_type_longer_than_its_column_is_refused(world: World) -> None:
    long_type = "audio/wav; codecs=" + "x" * 100
    response = _put(world.candidate(world.a), world.a.question_ids[1], tone_wav(),
                    content_type=long_type)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "header.content-type"


def test_decisions_need_a_reason_and_are_a_persons(sqlite_world: World) -> None:
    client = sqlite_world.staff(sqlite_world.a, "recruiter")
    url = f"/api/v1/interviews/{sqlite_world.a.interview_id}/decisions"
    assert client.post(url, json={"status": "advanced", "reason": ""}).status_code == 422
    made = client.post(
        url,
        json={
            "status": "advanced",
            "reason": "Strong, specific answers.",
            "viewed": ["answer:1:transcript"],
        },
    )
    assert made.status_code == 201
    decision = made.json()
    assert decision["from_status"] == "new" and decision["to_status"] == "advanced"
    assert decision["actor_id"]


def test_a_cut_off_upload_can_be_recorded_again_from_the_start(sqlite_world: World) -> None:
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    first = tone_wav(2.0)
    assert _put(client, q1, first[:30000]).status_code == 200  # then the connection was lost
    second = tone_wav(3.0)
    assert _put(client, q1, second[:30000]).status_code == 409  # a new take clashes at chunk 0
    restarted = client.post(f"/api/v1/candidate/answers/{q1}/restart")
    assert restarted.status_code == 200 and restarted.json()["received_chunks"] == []
    assert _put(client, q1, second).status_code == 200
    assert _complete(client, q1, second).json()["state"] == "uploaded"


def test_a_silent_answer_may_be_recorded_again_and_a_heard_one_may_not(
    sqlite_world: World,
) -> None:
    from services.worker import transcription

    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    silence = silence_wav(3.0)
    assert _put(client, q1, silence).status_code == 200
    answer_id = _complete(client, q1, silence).json()["answer_id"]
    assert transcription.transcribe_answer(answer_id) == "no_speech"
    assert client.get(f"/api/v1/candidate/answers/{q1}").json()["state"] == "no_speech"
    again = client.post(f"/api/v1/candidate/answers/{q1}/restart")
    assert again.status_code == 200 and again.json()["state"] == "receiving"
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None and answer.media_key is None and answer.attempts == 0
    q0 = sqlite_world.a.question_ids[0]  # uploaded and waiting: not restartable
    refused = client.post(f"/api/v1/candidate/answers/{q0}/restart")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "already_answered"


def test_the_accepted_types_and_the_answer_size_are_settings(
    sqlite_world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import reset_caches

    monkeypatch.setenv("PARLEY_ACCEPTED_MEDIA_TYPES", '["audio/webm", "video/webm"]')
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "60000")
    reset_caches()
    client, q1 = sqlite_world.candidate(sqlite_world.a), sqlite_world.a.question_ids[1]
    data = tone_wav(3.0)  # about 96 kB of WAV
    wav = _put(client, q1, data[:30000], content_type="audio/wav")
    assert wav.status_code == 415
    assert wav.json()["error"]["details"]["accepted"] == ["audio/webm", "video/webm"]
    assert _put(client, q1, data[:40000], content_type="audio/webm").status_code == 200
    over = _put(client, q1, data[40000:80000], index=1, content_type="audio/webm")
    assert over.status_code == 413 and over.json()["error"]["code"] == "too_large"
    # The refused recording is dropped whole, so a new take starts cleanly at chunk 0.
    state = client.get(f"/api/v1/candidate/answers/{q1}").json()
    assert state["received_chunks"] == [] and state["failure_code"] == "too_large"
    assert _saved_answer(sqlite_world)[0] == "uploaded"  # question 0's answer is untouched
