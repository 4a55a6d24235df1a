"""The avatar's spoken lines: queued by the API, spoken once by a real worker, served from storage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.core import jobs
from services.core.db import unit_of_work
from services.core.interviews import speech
from services.core.interviews.orm import Interview
from services.core.settings import get_settings
from services.core.storage import get_storage
from services.worker import speech as worker_speech
from tests.conftest import reset_caches
from tests.services.conftest import World, seed_organisation
from tests.services.pipeline import RealWorker

VOICE = "en_US-joe-medium"
URL = "/api/v1/candidate/speech"


def _synthesis_jobs(world: World) -> list[tuple[str, ...]]:
    return [args for name, args in world.publisher.published if name == jobs.SYNTHESIZE_SPEECH]


@pytest.fixture
def worker(sqlite_database: str, tmp_path: Path) -> Iterator[RealWorker]:
    """A real worker process on the embedded database and broker."""
    process = RealWorker(tmp_path / "worker.log")
    yield process
    process.stop()
    print(process.log_tail())


def _poll(client: TestClient, line_id: str, timeout: float = 180) -> tuple[int, list[int]]:
    """GET a line until it is served, as the page does; returns the final and earlier statuses."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{URL}/{line_id}")
        if response.status_code != 202:
            return response.status_code, seen
        seen.append(202)
        time.sleep(float(response.headers["Retry-After"]))
    raise AssertionError(f"{line_id} was not spoken within {timeout} s")


@pytest.mark.slow
def test_a_line_is_pending_then_spoken_once_by_the_real_worker_and_then_cached(
    worker: RealWorker,
) -> None:
    org = seed_organisation("a")
    client = TestClient(create_app())
    client.headers["X-Invite-Token"] = org.invite_token

    pending = client.get(f"{URL}/intro")
    assert pending.status_code == 202 and pending.json() == {"state": "pending"}
    assert pending.headers["Retry-After"] == "1"

    worker.start()
    status, _ = _poll(client, "intro")
    assert status == 200, worker.log_tail()
    spoken = client.get(f"{URL}/intro")
    assert spoken.headers["content-type"] == "audio/wav"
    assert spoken.content[:4] == b"RIFF" and len(spoken.content) > 100_000
    assert spoken.headers["cache-control"].startswith("private")
    etag = spoken.headers["etag"]

    again = client.get(f"{URL}/intro")
    assert again.content == spoken.content and again.headers["etag"] == etag
    assert client.get(f"{URL}/intro", headers={"If-None-Match": etag}).status_code == 304

    question = f"q:{org.question_ids[0]}"
    assert _poll(client, question)[0] == 200
    # Every poll queued the line again; the worker spoke it once and skipped the rest.
    files = sorted((get_settings().media_dir / "speech" / VOICE).iterdir())  # type: ignore[operator]
    assert [f.name for f in files] == sorted(
        Path(speech.speech_key(text, VOICE)).name
        for text in (speech.FIXED_LINES["intro"], _question_text(org.interview_id, question))
    )
    assert "speech.synthesize" in worker.log_tail()


def _question_text(interview_id: str, line_id: str) -> str:
    with unit_of_work() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        return speech.line_text(session, interview=interview, line_id=line_id)


def test_a_missing_line_queues_its_synthesis_after_the_request(sqlite_world: World) -> None:
    response = sqlite_world.candidate(sqlite_world.a).get(f"{URL}/next")

    assert response.status_code == 202
    assert response.headers["cache-control"] == "no-store"
    assert _synthesis_jobs(sqlite_world) == [(speech.FIXED_LINES["next"], VOICE)]


def test_a_stored_line_is_served_without_queueing_anything(sqlite_world: World) -> None:
    wav = b"RIFF\x00\x00\x00\x00WAVEfmt stored"
    get_storage().put(speech.speech_key(speech.FIXED_LINES["last"], VOICE), wav)

    response = sqlite_world.candidate(sqlite_world.a).get(f"{URL}/last")

    assert response.status_code == 200 and response.content == wav
    assert response.headers["vary"] == "X-Invite-Token"
    assert _synthesis_jobs(sqlite_world) == []


def test_an_unknown_line_or_another_interviews_question_is_not_found(sqlite_world: World) -> None:
    client = sqlite_world.candidate(sqlite_world.a)
    foreign = f"q:{sqlite_world.b.question_ids[0]}"

    for line_id in ("nope", "q:", foreign):
        response = client.get(f"{URL}/{line_id}")
        assert response.status_code == 404, line_id
        assert response.json()["error"]["code"] == "unknown_line"
    assert _synthesis_jobs(sqlite_world) == []


def test_a_line_without_an_invite_token_is_refused(sqlite_world: World) -> None:
    response = sqlite_world.client().get(f"{URL}/intro")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_invite"
    bad = sqlite_world.client().get(f"{URL}/intro", headers={"X-Invite-Token": "forged"})
    assert bad.status_code == 401


def test_the_storage_key_is_per_voice_and_normalised_text() -> None:
    key = speech.speech_key("Thank you.  Here is\nthe next question.", VOICE)

    assert key == speech.speech_key("Thank you. Here is the next question.", VOICE)
    assert key.startswith(f"speech/{VOICE}/") and key.endswith(".wav")
    assert key != speech.speech_key("Thank you. Here is the next question.", "en_US-other-low")
    assert key != speech.speech_key("Thank you. Here is the last question.", VOICE)
    with pytest.raises(ValueError):
        speech.speech_key("Hello.", "../escape")


def test_the_voice_setting_chooses_the_key_and_the_job(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_TTS_VOICE", "en_US-other-low")
    reset_caches()
    client = TestClient(create_app(publisher=sqlite_world.publisher))
    client.headers["X-Invite-Token"] = sqlite_world.a.invite_token
    get_storage().put(speech.speech_key(speech.FIXED_LINES["finish"], VOICE), b"RIFF joe")

    assert client.get(f"{URL}/finish").status_code == 202  # joe's file is not this voice's
    assert _synthesis_jobs(sqlite_world) == [(speech.FIXED_LINES["finish"], "en_US-other-low")]


def test_the_lines_are_the_fixed_ones_then_each_question_in_order(sqlite_world: World) -> None:
    with unit_of_work() as session:
        interview = session.get(Interview, sqlite_world.a.interview_id)
        assert interview is not None
        lines = speech.lines_for(session, interview=interview)

    ids = [line["id"] for line in lines]
    assert ids == [
        "intro",
        "practice",
        "next",
        "last",
        "finish",
        *(f"q:{q}" for q in sqlite_world.a.question_ids),
    ]
    assert all(line["text"] for line in lines)
    assert len(speech.FIXED_LINES["intro"].split()) <= 30
    assert "AI interviewer" in speech.FIXED_LINES["intro"]


def test_creating_a_role_queues_every_line_it_will_say(sqlite_world: World) -> None:
    a = sqlite_world.a
    response = sqlite_world.staff(a, "recruiter").post(
        "/api/v1/roles",
        json={
            "title": "Spoken role",
            "rubric_version_id": a.rubric_version_id,
            "question_ids": list(reversed(a.question_ids)),
            "thresholds": [
                {"competency_key": "communication", "required_level": 3, "exceeds_level": 4}
            ],
        },
    )

    assert response.status_code == 201, response.text
    texts = [text for text, voice in _synthesis_jobs(sqlite_world) if voice == VOICE]
    assert texts[:5] == list(speech.FIXED_LINES.values())
    assert len(texts) == 5 + len(a.question_ids)


@pytest.mark.slow
def test_the_worker_speaks_a_line_once_and_refuses_an_unknown_voice(
    sqlite_database: str,
) -> None:
    text = speech.FIXED_LINES["next"]

    assert worker_speech.synthesize_line(text, VOICE) == "synthesized"
    assert worker_speech.synthesize_line(f"  {text} ", VOICE) == "cached"
    assert get_storage().get(speech.speech_key(text, VOICE))[:4] == b"RIFF"
    with pytest.raises(worker_speech.UnknownVoiceError, match=VOICE):
        worker_speech.synthesize_line(text, "en_GB-nobody-low")
