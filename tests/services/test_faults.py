"""Faults with a real worker and broker: a worker killed mid-transcription, and ten malformed
inputs, each of which ends in a clear stored outcome (never a crash loop, never a hallucination).
"""

from __future__ import annotations

import hashlib
import io
import struct
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.asr import decode_audio
from services.api.app import create_app
from services.core.db import unit_of_work
from services.core.interviews.orm import Transcript
from tests.conftest import reset_caches
from tests.models.asr.media import encode, video_without_audio, white_noise
from tests.services.conftest import seed_organisation
from tests.services.pipeline import (
    FINAL,
    SPEECH,
    RealWorker,
    answer_row,
    new_interview,
    upload,
    wait_for_state,
)

pytestmark = pytest.mark.slow
RATE = 16000


def wav(samples: np.ndarray, *, rate: int = RATE, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        scale = {1: 127, 2: 32767}[width]
        pcm = np.clip(samples, -1, 1) * scale
        w.writeframes(
            (pcm + 128).astype(np.uint8).tobytes() if width == 1 else pcm.astype(np.int16).tobytes()
        )
    return buffer.getvalue()


def transcript_count(answer_id: str) -> int:
    with unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Transcript)
                .where(Transcript.answer_id == answer_id)
            )
            or 0
        )


def test_a_worker_killed_mid_transcription_loses_nothing_and_transcribes_once(
    stack: RealWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fast sweeping so the test need not wait the production 15 minutes.
    monkeypatch.setenv("PARLEY_STUCK_AFTER_SECONDS", "10")
    monkeypatch.setenv("PARLEY_SWEEP_INTERVAL_SECONDS", "2")
    reset_caches()
    stack.with_beat = True
    stack.start()
    org = seed_organisation("a")
    jfk = decode_audio(SPEECH / "jfk.flac").samples
    gap = np.zeros(RATE // 2, dtype=np.float32)
    long_answer = wav(np.concatenate([np.concatenate([jfk, gap])] * 6))  # about 70 s
    answer_id = upload(
        TestClient(create_app()), org.invite_token, org.question_ids[1], long_answer, "audio/wav"
    )

    wait_for_state(answer_id, {"transcribing"}, timeout=120, poll=0.05)
    stack.kill()
    killed = answer_row(answer_id)
    assert killed.state.value == "transcribing" and transcript_count(answer_id) == 0

    stack.start()
    done = wait_for_state(answer_id, FINAL, timeout=180)
    assert done.state.value == "transcribed", (done.failure_code, stack.log_tail())
    assert done.attempts >= 2
    time.sleep(3)  # let any redelivered copy of the task arrive and be skipped
    assert transcript_count(answer_id) == 1
    with unit_of_work() as session:
        transcript = session.scalars(select(Transcript)).one()
    assert "ask not what your country" in transcript.text.lower()


def _lying_header(samples: np.ndarray) -> bytes:
    """A WAV whose header claims three hours while it carries a few seconds."""
    data = (samples * 32767).astype(np.int16).tobytes()
    claimed = 3 * 3600 * RATE * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + claimed)
        + b"WAVEfmt "
        + fmt
        + b"data"
        + struct.pack("<I", claimed)
        + data
    )


def _malformed(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    jfk = decode_audio(SPEECH / "jfk.flac").samples
    webm = encode(jfk, tmp_path / "a.webm", "webm", "libopus").read_bytes()
    rng = np.random.default_rng(7)
    stereo_float_44k = io.BytesIO()
    with av.open(stereo_float_44k, mode="w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=44100, layout="stereo")
        resampled = np.interp(np.arange(0, jfk.size, RATE / 44100), np.arange(jfk.size), jfk)
        frame = av.AudioFrame.from_ndarray(
            np.stack([resampled, resampled]).astype(np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate = 44100
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return {
        "truncated_webm": (webm[: len(webm) * 2 // 5], "audio/webm;codecs=opus"),
        "zero_bytes": (b"", "audio/webm"),
        "random_bytes": (b"\x00\x01" + rng.bytes(50_000), "audio/webm"),
        "video_without_audio": (
            video_without_audio(tmp_path / "v.mp4", 50).read_bytes(),
            "video/mp4",
        ),
        "a_fifth_of_a_second": (wav(jfk[: RATE // 5]), "audio/wav"),
        "a_minute_of_silence": (wav(np.zeros(60 * RATE, dtype=np.float32)), "audio/wav"),
        "a_minute_of_noise": (wav(white_noise(60, 0.05, seed=3)), "audio/wav"),
        "float_stereo_44k": (stereo_float_44k.getvalue(), "audio/wav"),
        "header_lies_about_length": (_lying_header(jfk[: 5 * RATE]), "audio/wav"),
    }


EXPECTED = {
    "truncated_webm": {"transcribed"},  # the part before the cut is kept and transcribed
    "zero_bytes": {"refused:empty_upload"},
    "random_bytes": {"refused:not_media"},
    "video_without_audio": {"failed:no_audio_track"},
    "a_fifth_of_a_second": {"failed:too_short"},
    "a_minute_of_silence": {"no_speech"},
    "a_minute_of_noise": {"no_speech"},
    "float_stereo_44k": {"transcribed"},
    "header_lies_about_length": {"failed:too_long", "transcribed"},
    "multi_hour_above_the_limit": {"refused:too_large"},
}


def _send(client: TestClient, token: str, question_id: str, data: bytes, kind: str) -> str:
    """Upload like the page; a refusal is returned as 'refused:<code>' after checking it."""
    headers = {
        "X-Invite-Token": token,
        "Content-Type": kind,
        "X-Chunk-SHA256": hashlib.sha256(data).hexdigest(),
    }
    put = client.put(
        f"/api/v1/candidate/answers/{question_id}/chunks/0", content=data, headers=headers
    )
    if put.status_code == 200:
        put = client.post(
            f"/api/v1/candidate/answers/{question_id}/complete",
            headers={"X-Invite-Token": token},
            json={"chunk_count": 1, "sha256": hashlib.sha256(data).hexdigest()},
        )
    if put.status_code == 200:
        return str(put.json()["answer_id"])
    assert 400 <= put.status_code < 500, put.text
    code = put.json()["error"]["code"]
    stored = client.get(
        f"/api/v1/candidate/answers/{question_id}", headers={"X-Invite-Token": token}
    ).json()
    assert stored["failure_code"] == code and stored["failure_reason"], stored
    return f"refused:{code}"


def test_ten_malformed_inputs_each_end_in_a_clear_stored_outcome(
    stack: RealWorker, tmp_path: Path
) -> None:
    stack.start()
    org = seed_organisation("a")
    client = TestClient(create_app())
    inputs = _malformed(tmp_path)
    slots = [(new_interview(org), q) for _ in range(5) for q in org.question_ids]
    sent: dict[str, str] = {}
    for (name, (data, kind)), (token, question_id) in zip(inputs.items(), slots, strict=False):
        sent[name] = _send(client, token, question_id, data, kind)
    token, question_id = slots[-1]
    declared = client.put(
        f"/api/v1/candidate/answers/{question_id}/chunks/0",
        content=b"RIFF" + b"\x00" * 60,
        headers={
            "X-Invite-Token": token,
            "Content-Type": "audio/wav",
            "X-Upload-Length": str(3 * 3600 * RATE * 2),
            "X-Chunk-SHA256": hashlib.sha256(b"RIFF" + b"\x00" * 60).hexdigest(),
        },
    )
    assert declared.status_code == 413
    sent["multi_hour_above_the_limit"] = f"refused:{declared.json()['error']['code']}"

    outcomes = {}
    for name, answer_id in sent.items():
        if answer_id.startswith("refused:"):
            outcomes[name] = answer_id
            continue
        answer = wait_for_state(answer_id, FINAL, timeout=180)
        assert answer.attempts == 1, f"{name} was tried {answer.attempts} times"
        assert (answer.state.value == "failed") == bool(answer.failure_reason)
        outcomes[name] = (
            f"failed:{answer.failure_code}"
            if answer.state.value == "failed"
            else answer.state.value
        )
        if answer.state.value != "transcribed":
            assert transcript_count(answer_id) == 0, f"{name} got a transcript"
    wrong = {n: o for n, o in outcomes.items() if o not in EXPECTED[n]}
    assert not wrong, wrong
