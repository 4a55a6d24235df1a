"""Helpers for tests that run the real chain: a Celery worker process, uploads, waiting."""

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
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from services.core.db import unit_of_work
from services.core.interviews import candidate, invitations
from services.core.interviews.orm import Answer
from tests.servers import stop_group

if TYPE_CHECKING:
    from tests.services.conftest import Org

SPEECH = Path(__file__).parents[1] / "data" / "speech"
FINAL = {"transcribed", "no_speech", "failed"}


class RealWorker:
    """A `celery worker` process of Parley's app, started and killed like a real deployment's."""

    def __init__(self, log_path: Path, *, with_beat: bool = False) -> None:
        self.log_path = log_path
        self.with_beat = with_beat
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
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
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--loglevel",
            "INFO",
        ]
        if self.with_beat:
            command += ["-B", "-s", str(self.log_path.parent / "beat-schedule")]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL, no goodbye: what an OOM killer or a lost node does."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, timeout=30)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def reference(name: str) -> str:
    with (SPEECH / "manifest.csv").open(encoding="utf-8") as f:
        return next(row["text"] for row in csv.DictReader(f) if row["file"] == name)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def upload(
    client: TestClient,
    token: str,
    question_id: str,
    data: bytes,
    content_type: str,
    chunk_size: int = 256 * 1024,
) -> str:
    """Upload a recording in chunks through the candidate API, as the page does."""
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


def answer_row(answer_id: str) -> Answer:
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        return answer


def wait_for_state(
    answer_id: str, states: set[str], timeout: float = 180, poll: float = 0.5
) -> Answer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = answer_row(answer_id)
        if answer.state.value in states:
            return answer
        time.sleep(poll)
    raise AssertionError(f"answer {answer_id} did not reach {states} within {timeout} s")


def new_interview(org: Org) -> str:
    """A second consented interview of the organisation's role; returns its invite token."""
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
        candidate.record_consent(
            session,
            interview=issued.interview,
            accepted=True,
            notice_version=candidate.NOTICE_VERSION,
            client="test",
        )
        return issued.token


def silence_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))
    return buffer.getvalue()
