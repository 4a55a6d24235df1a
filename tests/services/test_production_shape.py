"""A candidate's interview through Parley in its production shape (tests/production.py):
PostgreSQL, Redis as the broker, `parley api --workers 2`, one worker process per queue and the
beat, all started with infra/compose.yaml's commands, spoken to over real HTTP only."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.asr import decode_audio
from services.core.db import get_engine
from tests.conftest import IN_CI, reset_caches
from tests.production import (
    ProductionStack,
    browser_webm,
    missing_services,
    timeslices,
    upload_answer,
)
from tests.services.conftest import PASSWORD, seed_organisation
from tests.services.pipeline import SPEECH

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

# One spoken answer per question of the seeded role (two questions).
CLIPS = ("jfk.flac", "librispeech_2412-153948-0000.flac")


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProductionStack]:
    """The running stack; this test process reaches its database and media like a worker."""
    problem = missing_services()
    if problem:
        pytest.fail(f"CI=true: {problem}") if IN_CI else pytest.skip(problem)
    with ProductionStack(tmp_path / "stack", extra_env={"PARLEY_ASR_MODEL": "tiny.en"}) as running:
        for key, value in running.settings_env().items():
            monkeypatch.setenv(key, value)
        reset_caches()
        try:
            yield running
        finally:
            get_engine().dispose()
            print(running.log_tails())


async def _interview(url: str, token: str) -> list[str]:
    """The candidate's page: open, consent, hear the first question, answer each, finish."""
    async with httpx.AsyncClient(
        base_url=url, headers={"X-Invite-Token": token}, timeout=30
    ) as page:
        interview = (await page.get("/api/v1/candidate/interview")).raise_for_status().json()
        consent = {"accepted": True, "notice_version": interview["notice_version"]}
        (await page.post("/api/v1/candidate/consent", json=consent)).raise_for_status()
        first = interview["questions"][0]["question_id"]
        await _poll(lambda: page.get(f"/api/v1/candidate/speech/q:{first}"), 200)
        answer_ids = []
        for question, clip in zip(interview["questions"], CLIPS, strict=True):
            audio = decode_audio(SPEECH / clip)
            chunks = timeslices(browser_webm(audio.samples), audio.duration)
            uploaded = await upload_answer(page, token, question["question_id"], chunks)
            assert uploaded.complete["state"] == "uploaded" and len(chunks) >= 3
            answer_ids.append(uploaded.answer_id)
        finished = (await page.post("/api/v1/candidate/finish")).raise_for_status().json()
        assert finished["state"] == "completed"
        return answer_ids


async def _poll(request, status: int, timeout: float = 90) -> httpx.Response:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while (response := await request()).status_code != status:
        assert time.monotonic() < deadline, f"still {response.status_code}: {response.text[:200]}"
        await asyncio.sleep(0.5)
    return response


def _until_scored(recruiter: httpx.Client, interview_id: str) -> dict[str, Any]:
    """The recruiter's view of the interview once every answer is transcribed and scored."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        detail = recruiter.get(f"/api/v1/interviews/{interview_id}").raise_for_status().json()
        if all(a["transcript"] and a["scores"] for a in detail["answers"]):
            return dict(detail)
        time.sleep(1)
    raise AssertionError(f"interview {interview_id} was not scored within 120 s: {detail}")


def test_a_candidate_interview_runs_end_to_end_through_the_production_shape(
    stack: ProductionStack,
) -> None:
    org = seed_organisation("a")
    with httpx.Client(base_url=stack.api_url, timeout=30) as recruiter:
        signed_in = recruiter.post(
            "/api/v1/auth/login", json={"email": org.emails["recruiter"], "password": PASSWORD}
        ).raise_for_status()
        recruiter.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
        invitation = (
            recruiter.post(
                f"/api/v1/roles/{org.role_id}/invitations",
                json={"name": "Grace Candidate", "email": "grace@example.com"},
            )
            .raise_for_status()
            .json()
        )
        token = invitation["invite_url"].split("#", 1)[1]

        answer_ids = asyncio.run(_interview(stack.api_url, token))

        detail = _until_scored(recruiter, invitation["interview_id"])
        ranked = recruiter.get(f"/api/v1/roles/{org.role_id}/candidates").json()["items"]

    first = ranked[0]  # the only scored candidate of the role, so first
    assert first["interview_id"] == invitation["interview_id"] and first["fit"] is not None
    assert first["candidate_name"] == "Grace Candidate" and first["state"] == "completed"
    assert all(c["score"] is not None for c in first["competencies"])
    transcripts = {a["id"]: a["transcript"]["text"].lower() for a in detail["answers"]}
    assert "ask not what your country" in transcripts[answer_ids[0]]
    assert "reader will excuse me" in transcripts[answer_ids[1]]

    # Each queue's tasks ran in that queue's own worker process, and nowhere else.
    ran = {q: _tasks_run(w.log_text()) for q, w in stack.workers.items()}
    assert ran["asr"] == {"answer.transcribe"}, ran
    assert ran["scoring"] == {"answer.score"}, ran
    assert "speech.synthesize" in ran["default"] and not ran["default"] & {
        "answer.transcribe",
        "answer.score",
    }, ran
    assert len({w.pid for w in stack.workers.values()}) == 3
    assert len(stack.api_worker_pids()) == 2  # uvicorn's master and its two workers


def _tasks_run(log: str) -> set[str]:
    return set(re.findall(r"Task ([\w.]+)\[[0-9a-f-]+\] succeeded", log))
