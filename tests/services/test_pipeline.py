"""The first real chain, end to end: upload through the API -> broker -> a real Celery worker
process -> decode -> webrtcvad -> faster-whisper -> transcript with word timestamps stored.

Runs on the embedded defaults (SQLite, SQLAlchemy broker) and on PostgreSQL + Redis.
"""

from __future__ import annotations

import hashlib
import os
import time

import jiwer
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.asr import decode_audio
from services.api.app import create_app
from services.api.publisher import CeleryPublisher
from services.core import jobs
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.interviews import media
from services.core.interviews.orm import Answer, Transcript
from services.core.settings import get_settings
from services.core.storage import get_storage
from tests.production import browser_webm
from tests.services.conftest import seed_organisation
from tests.services.pipeline import (
    FINAL,
    SPEECH,
    RealWorker,
    new_interview,
    normalise,
    reference,
    silence_wav,
    upload,
)
from tests.services.pipeline import wait_for_state as _wait

pytestmark = pytest.mark.slow


def test_a_real_worker_transcribes_speech_once_and_fails_bad_input_with_a_reason(
    stack: RealWorker,
) -> None:
    stack.start()
    org = seed_organisation("a")
    client = TestClient(create_app())
    speech = (SPEECH / "jfk.flac").read_bytes()
    answer_id = upload(client, org.invite_token, org.question_ids[1], speech, "audio/flac")

    answer = _wait(answer_id, FINAL)
    assert answer.state.value == "transcribed", answer.failure_reason
    with unit_of_work() as session:
        transcript = session.scalars(
            select(Transcript).where(Transcript.answer_id == answer_id)
        ).one()
    error = jiwer.wer(normalise(reference("jfk.flac")), normalise(transcript.text))
    assert error <= 0.10, (error, transcript.text)
    starts = [w["start"] for w in transcript.words]
    assert starts == sorted(starts) and starts[0] >= 0 and transcript.words[-1]["end"] <= 11.1
    assert "tiny.en" in transcript.asr_version and transcript.language == "en"

    # The same task delivered twice more: still exactly one transcript, unchanged.
    publisher = CeleryPublisher(get_settings())
    publisher.publish(jobs.TRANSCRIBE_ANSWER, answer_id)
    publisher.publish(jobs.TRANSCRIBE_ANSWER, answer_id)
    # Bad input queued behind the duplicates on the same single-process worker.
    token = new_interview(org)
    truncated = upload(client, token, org.question_ids[0], speech[:3000], "audio/flac")
    silent = upload(client, token, org.question_ids[1], silence_wav(4.0), "audio/wav")
    failed, quiet = _wait(truncated, FINAL), _wait(silent, FINAL)

    assert failed.state.value == "failed"
    assert failed.failure_code in {"corrupt", "too_short", "not_audio"} and failed.failure_reason
    assert quiet.state.value == "no_speech"
    with unit_of_work() as session:
        rows = session.scalars(select(Transcript).where(Transcript.answer_id == answer_id)).all()
        no_text = session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.answer_id == silent)
        )
    assert len(rows) == 1 and rows[0].text == transcript.text
    assert no_text == 0  # never a hallucinated "You You" on silence
    # The kept take's chunks were deleted by the worker (off the request path), the whole
    # file kept; and the worker ran below the API's CPU priority (PARLEY_WORKER_NICE).
    storage = get_storage()
    with unit_of_work() as session:
        kept = session.get(Answer, answer_id)
        assert kept is not None and kept.chunks and kept.media_key
        chunk_keys = [media.chunk_key(answer_id, c.index) for c in kept.chunks]
    deadline = time.monotonic() + 30
    while any(storage.exists(key) for key in chunk_keys) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(storage.exists(key) for key in chunk_keys)
    assert storage.exists(kept.media_key)
    assert stack.process is not None
    assert os.getpriority(os.PRIO_PROCESS, stack.process.pid) >= os.getpriority(
        os.PRIO_PROCESS, 0
    ) + get_settings().worker_nice

    # A browser's WebM is stored again for playback (with a duration and cues); the audit log
    # keeps the hash of the file as uploaded, also on local media, where the worker reads the
    # stored file itself.
    webm = browser_webm(decode_audio(SPEECH / "jfk.flac").samples)
    recorded = upload(client, new_interview(org), org.question_ids[0], webm, "audio/webm")
    assert _wait(recorded, FINAL).state.value == "transcribed"
    with unit_of_work() as session:
        (read,) = [
            e.data["audio_sha256"]
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.subject == f"answer:{recorded}")
            )
            if e.action == "answer.transcribed"
        ]
        stored = storage.get(session.get(Answer, recorded).media_key)  # type: ignore[union-attr]
    assert read == hashlib.sha256(webm).hexdigest()
    assert stored != webm  # rewritten for playback
