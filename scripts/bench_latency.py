"""Time from an answer's completed upload to its stored transcript, through the real chain.

    .venv/bin/python scripts/bench_latency.py [--model base] [--runs 3] [--seconds 120]

Starts a throw-away embedded Parley (SQLite, SQLAlchemy broker, local media) in a temp folder
with one real Celery worker process, uploads a synthesised-speech answer of about two minutes
(the demo's answers joined) through the candidate API in 3-second-sized chunks, and prints the
latency from the `complete` call to the `transcribed` state, per run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _answer_wav(seconds: float) -> bytes:
    from models.asr import decode_audio

    audio_dir = ROOT / "services/core/demo/data/audio/amara"
    parts, total = [], 0.0
    for path in sorted(audio_dir.glob("*.ogg")) * 4:
        samples = decode_audio(path).samples
        parts.append(samples)
        total += samples.size / 16000
        if total >= seconds:
            break
    pcm = (np.concatenate(parts)[: int(seconds * 16000)] * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    os.environ.update(PARLEY_DATA_DIR=str(folder), PARLEY_ASR_MODEL=args.model)

    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from services.core import migrate
    from services.core.db import unit_of_work
    from services.core.demo import loader
    from services.core.interviews import candidate, invitations
    from services.core.interviews.orm import Answer
    from services.core.roles.orm import JobRole

    class NoPublisher:
        def publish(self, task_name: str, *task_args: str) -> None:
            """The demo's own answers are not the subject here."""

    migrate.upgrade()
    loader.load_demo(publisher=NoPublisher(), password="bench-password-123")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "services.worker.app:celery_app",
            "worker",
            "-Q",
            "asr",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
        ],
        env=dict(os.environ),
        cwd=ROOT,
    )
    client = TestClient(create_app())
    data = _answer_wav(args.seconds)
    chunk = 3 * 16000 * 2  # about what MediaRecorder sends every 3 s, uncompressed here
    latencies = []
    try:
        for run in range(args.runs + 1):  # the first run warms the model up and is not counted
            with unit_of_work() as session:
                role = session.query(JobRole).one()
                issued = invitations.invite_candidate(
                    session,
                    org_id=role.org_id,
                    actor_id=None,
                    role_id=role.id,
                    name="Bench",
                    email="bench@example.com",
                    ttl_days=1,
                )
                candidate.record_consent(
                    session,
                    interview=issued.interview,
                    accepted=True,
                    notice_version=candidate.NOTICE_VERSION,
                    client="bench",
                )
                question_id = role.script[0].question_id
            headers = {"X-Invite-Token": issued.token}
            parts = [data[i : i + chunk] for i in range(0, len(data), chunk)]
            for index, part in enumerate(parts):
                client.put(
                    f"/api/v1/candidate/answers/{question_id}/chunks/{index}",
                    content=part,
                    headers={
                        **headers,
                        "Content-Type": "audio/wav",
                        "X-Chunk-SHA256": hashlib.sha256(part).hexdigest(),
                    },
                )
            started = time.perf_counter()
            answer_id = client.post(
                f"/api/v1/candidate/answers/{question_id}/complete",
                headers=headers,
                json={"chunk_count": len(parts), "sha256": hashlib.sha256(data).hexdigest()},
            ).json()["answer_id"]
            while True:
                with unit_of_work() as session:
                    state = session.get(Answer, answer_id).state.value  # type: ignore[union-attr]
                if state in ("transcribed", "no_speech", "failed"):
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            label = "warm-up" if run == 0 else f"run {run}"
            print(f"{label:>8}: {args.seconds:.0f} s answer -> {state} in {elapsed:.2f} s")
            if run:
                latencies.append(elapsed)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(
        f"\nmodel {args.model}: upload complete -> stored transcript, {args.seconds:.0f} s answer: "
        f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
        f"(target under 10 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
