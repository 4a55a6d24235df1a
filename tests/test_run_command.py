"""`parley run`: migrate, demo data through the real pipeline, API + worker + web; Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.cli import DEMO_PASSWORD
from tests.servers import free_port

pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_run_serves_the_demo_transcribes_it_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "parley"), "run", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 120, "the API")
        client = httpx.Client(base_url=base)
        signed_in = client.post(
            "/api/v1/auth/login",
            json={"email": "recruiter@northwind.example.com", "password": DEMO_PASSWORD},
        )
        assert signed_in.status_code == 200, signed_in.text
        role = client.get("/api/v1/roles").json()[0]
        assert len(role["script"]) == 6
        rows = client.get(f"/api/v1/roles/{role['id']}/candidates").json()["items"]
        assert len(rows) == 5 and all(r["is_synthetic"] for r in rows)
        states = sorted((r["candidate_name"], r["state"]) for r in rows)
        assert [s for _, s in states].count("completed") == 4
        assert ("You (demo candidate)", "invited") in states

        # The printed demo invite opens an interview whose avatar gets its voice.
        printed = re.search(r"/interview/#(\S+)", (tmp_path / "run.log").read_text())
        assert printed, (tmp_path / "run.log").read_text()[-2000:]
        candidate = httpx.Client(base_url=base, headers={"X-Invite-Token": printed.group(1)})
        opened = candidate.get("/api/v1/candidate/interview")
        assert opened.status_code == 200 and opened.json()["state"] == "invited"
        spoken = _wait_for(
            lambda: (r := candidate.get("/api/v1/candidate/speech/intro")).status_code == 200
            and r,
            120,
            "the default worker to speak the avatar's first line",
        )
        assert spoken.headers["content-type"] == "audio/wav"

        def one_transcribed() -> dict[str, object] | None:
            for row in client.get(f"/api/v1/roles/{role['id']}/candidates").json()["items"]:
                for answer in row["answers"]:
                    if answer["state"] == "transcribed":
                        return client.get(f"/api/v1/interviews/{row['interview_id']}").json()
            return None

        detail = _wait_for(one_transcribed, 240, "the worker to transcribe a demo answer")
        transcribed = [a for a in detail["answers"] if a["transcript"]]
        assert transcribed[0]["transcript"]["words"]
        assert client.get("/staff/").status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            code = proc.wait(timeout=60)
        finally:
            log.close()
        output = (tmp_path / "run.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "parley: stopped" in output

    def group_gone() -> bool:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    _wait_for(group_gone, 15, "every API and worker process to exit")
