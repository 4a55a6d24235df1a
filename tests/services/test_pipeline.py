"""The first real chain, end to end: upload through the API -> broker -> a real Celery worker
process -> decode -> webrtcvad -> faster-whisper -> transcript with word timestamps stored.

Runs on the embedded defaults (SQLite, SQLAlchemy broker) and on PostgreSQL + Redis.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import jiwer
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.api.app import create_app
from services.api.publisher import CeleryPublisher
from services.core import jobs
from services.core.db import unit_of_work
from services.core.interviews import invitations
from services.core.interviews.orm import Answer, Transcript
from services.core.settings import get_settings
from tests.conftest import (
    REDIS_URL,
    drop_postgres,
    fresh_postgres,
    require_service,
    reset_caches,
)
from tests.services.conftest import Org, seed_organisation

SPEECH = Path(__file__).parents[1] / "data" / "speech"
FINAL = {"transcribed", "no_speech", "failed"}
pytestmark = pytest.mark.slow


def _reference(name: str) -> str:
    with (SPEECH / "manifest.csv").open(encoding="utf-8") as f:
        return next(row["text"] for row in csv.DictReader(f) if row["file"] == name)


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def stack(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    tmp_path: Path,
) -> Iterator[str]:
    """Parley's database and broker of one kind, with a real worker process consuming them."""
    pg_url = None
    if request.param == "embedded":
        monkeypatch.setenv("PARLEY_DATABASE_URL", f"sqlite:///{tmp_path / 'parley.sqlite3'}")
        (tmp_path / "parley.sqlite3").write_bytes(sqlite_template.read_bytes())
    else:
        require_service("Redis", REDIS_URL, 6379, "PARLEY_TEST_REDIS_URL")
        pg_url = fresh_postgres(request.getfixturevalue("postgres_template"))
        monkeypatch.setenv("PARLEY_DATABASE_URL", pg_url)
        monkeypatch.setenv("PARLEY_BROKER_URL", REDIS_URL)
    reset_caches()
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "services.worker.app:celery_app",
            "worker",
            "-Q",
            "asr,scoring,default",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "-n",
            f"test-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    yield request.param
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()
    print((tmp_path / "worker.log").read_text(errors="replace")[-3000:])
    if pg_url:
        from services.core.db import get_engine

        get_engine().dispose()
        drop_postgres(pg_url)


def _upload(
    client: TestClient,
    token: str,
    question_id: str,
    data: bytes,
    content_type: str,
    chunk_size: int = 64 * 1024,
) -> str:
    headers = {"X-Invite-Token": token}
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
    for index, chunk in enumerate(chunks):
        response = client.put(
            f"/api/v1/candidate/answers/{question_id}/chunks/{index}",
            content=chunk,
            headers={
                **headers,
                "Content-Type": content_type,
                "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(),
            },
        )
        assert response.status_code == 200, response.text
    response = client.post(
        f"/api/v1/candidate/answers/{question_id}/complete",
        headers=headers,
        json={"chunk_count": len(chunks), "sha256": hashlib.sha256(data).hexdigest()},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["answer_id"])


def _wait_final(answer_id: str, timeout: float = 180) -> Answer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            answer = session.get(Answer, answer_id)
            assert answer is not None
            if answer.state.value in FINAL:
                return answer
        time.sleep(0.5)
    raise AssertionError(f"answer {answer_id} did not finish within {timeout} s")


def _new_interview(org: Org) -> str:
    with unit_of_work(org_id=org.org_id) as session:
        issued = invitations.invite_candidate(
            session,
            org_id=org.org_id,
            actor_id=None,
            role_id=org.role_id,
            name="Second",
            email="s@x.com",
            ttl_days=1,
        )
        from services.core.interviews import candidate

        candidate.record_consent(
            session,
            interview=issued.interview,
            accepted=True,
            notice_version=candidate.NOTICE_VERSION,
            client="test",
        )
        return issued.token


def _silence_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))
    return buffer.getvalue()


def test_a_real_worker_transcribes_speech_once_and_fails_bad_input_with_a_reason(
    stack: str,
) -> None:
    org = seed_organisation("a")
    client = TestClient(create_app())
    speech = (SPEECH / "jfk.flac").read_bytes()
    answer_id = _upload(client, org.invite_token, org.question_ids[1], speech, "audio/flac")

    answer = _wait_final(answer_id)
    assert answer.state.value == "transcribed", answer.failure_reason
    with unit_of_work() as session:
        transcript = session.scalars(
            select(Transcript).where(Transcript.answer_id == answer_id)
        ).one()
    error = jiwer.wer(_normalise(_reference("jfk.flac")), _normalise(transcript.text))
    assert error <= 0.10, (error, transcript.text)
    starts = [w["start"] for w in transcript.words]
    assert starts == sorted(starts) and starts[0] >= 0 and transcript.words[-1]["end"] <= 11.1
    assert "tiny.en" in transcript.asr_version and transcript.language == "en"

    # The same task delivered twice more: still exactly one transcript, unchanged.
    publisher = CeleryPublisher(get_settings())
    publisher.publish(jobs.TRANSCRIBE_ANSWER, answer_id)
    publisher.publish(jobs.TRANSCRIBE_ANSWER, answer_id)
    # Bad input queued behind the duplicates on the same single-process worker.
    token = _new_interview(org)
    truncated = _upload(client, token, org.question_ids[0], speech[:3000], "audio/flac")
    silent = _upload(client, token, org.question_ids[1], _silence_wav(4.0), "audio/wav")
    failed, quiet = _wait_final(truncated), _wait_final(silent)

    assert failed.state.value == "failed" and failed.failure_code in {
        "corrupt",
        "too_short",
        "not_audio",
    }
    assert failed.failure_reason
    assert quiet.state.value == "no_speech"
    with unit_of_work() as session:
        count = session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.answer_id == answer_id)
        )
        again = session.scalars(select(Transcript).where(Transcript.answer_id == answer_id)).one()
        no_text = session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.answer_id == silent)
        )
    assert count == 1 and again.text == transcript.text
    assert no_text == 0  # never a hallucinated "You You" on silence
