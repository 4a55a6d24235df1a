"""Faults against Parley in its production shape (tests/production.py): the API killed in the
middle of uploads, the broker restarted mid-run, PostgreSQL briefly out of reach.

One stack serves the module; its database is reached through a TCP proxy the last test cuts.
Every candidate talks to the API over real HTTP only, and resumes the way the page does: a
chunk that got no answer is sent again (the server keeps each index once), and after a
reconnect the answer's `received_chunks` say what the server already holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from models.asr import decode_audio
from services.core.db import get_engine, unit_of_work
from services.core.interviews.orm import Answer
from services.core.interviews.states import AnswerState
from services.core.storage import get_storage
from tests.conftest import IN_CI, reset_caches
from tests.production import ProductionStack, browser_webm, missing_services, timeslices
from tests.services.conftest import PASSWORD, Org, seed_organisation
from tests.services.pipeline import SPEECH
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

CLIPS = ("jfk.flac", "librispeech_2412-153948-0000.flac")
CANDIDATES = 6


class Stack:
    """The running stack, its database proxy, a seeded organisation and a signed-in recruiter."""

    def __init__(self, stack: ProductionStack, proxy: TcpProxy, org: Org) -> None:
        self.stack, self.proxy, self.org = stack, proxy, org
        self.recruiter = httpx.Client(base_url=stack.api_url, timeout=30)
        signed_in = self.recruiter.post(
            "/api/v1/auth/login", json={"email": org.emails["recruiter"], "password": PASSWORD}
        ).raise_for_status()
        self.recruiter.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]

    def invite(self, count: int) -> list[dict[str, Any]]:
        return [
            self.recruiter.post(
                f"/api/v1/roles/{self.org.role_id}/invitations",
                json={"name": f"Candidate {time.monotonic_ns()}", "email": f"c{i}@example.com"},
            ).raise_for_status().json()
            for i in range(count)
        ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    problem = missing_services()
    if problem:
        pytest.fail(f"CI=true: {problem}") if IN_CI else pytest.skip(problem)
    stack = ProductionStack(
        tmp_path_factory.mktemp("faults") / "stack",
        # Short sweeps so that a task lost with the broker is found again within the test.
        extra_env={"PARLEY_ASR_MODEL": "tiny.en", "PARLEY_STUCK_AFTER_SECONDS": "20",
                   "PARLEY_SWEEP_INTERVAL_SECONDS": "5"},
    )
    database = make_url(stack.database_url)
    proxy = TcpProxy((database.host or "127.0.0.1", database.port or 5432))
    proxied = database.set(port=proxy.port).render_as_string(hide_password=False)
    stack.env["PARLEY_DATABASE_URL"] = proxied
    with pytest.MonkeyPatch.context() as patch, stack:
        _use(stack, patch)
        try:
            yield Stack(stack, proxy, seed_organisation("a"))
        finally:
            get_engine().dispose()
            proxy.close()
            print(stack.log_tails())
    reset_caches()


@pytest.fixture
def running(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The module's stack, with this test process reading its database and media again (each
    test's own settings would point it at a scratch SQLite)."""
    _use(stack.stack, monkeypatch)
    yield stack
    get_engine().dispose()


def _use(stack: ProductionStack, patch: pytest.MonkeyPatch) -> None:
    for key, value in stack.settings_env().items():
        patch.setenv(key, value)
    patch.setenv("PARLEY_DATABASE_URL", stack.database_url)  # this process: not proxied
    reset_caches()


def _recording(clip: str) -> list[bytes]:
    audio = decode_audio(SPEECH / clip)
    return timeslices(browser_webm(audio.samples), audio.duration)


class Candidate:
    """One candidate's page: it records, sends chunks as they come, and resumes after faults."""

    def __init__(self, url: str, invitation: dict[str, Any]) -> None:
        self.token = invitation["invite_url"].split("#", 1)[1]
        self.interview_id = invitation["interview_id"]
        self.client = httpx.AsyncClient(
            base_url=url, headers={"X-Invite-Token": self.token}, timeout=10
        )
        self.failures = 0  # requests that got no answer or a 5xx, then were sent again
        self.sent: dict[str, bytes] = {}  # answer id -> the recording, as the browser has it

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The request, sent again until the server answers it with something other than 5xx."""
        deadline = time.monotonic() + 120
        while True:
            try:
                response = await self.client.request(method, path, **kwargs)
                if response.status_code < 500:
                    return response.raise_for_status()
            except httpx.TransportError:
                pass
            self.failures += 1
            assert time.monotonic() < deadline, f"{method} {path}: no answer for 120 s"
            await asyncio.sleep(0.5)

    async def start(self) -> list[str]:
        interview = (await self.call("GET", "/api/v1/candidate/interview")).json()
        consent = {"accepted": True, "notice_version": interview["notice_version"]}
        await self.call("POST", "/api/v1/candidate/consent", json=consent)
        return [q["question_id"] for q in interview["questions"]]

    async def answer(self, question_id: str, chunks: list[bytes], *, pace: float = 0.0) -> str:
        base = f"/api/v1/candidate/answers/{question_id}"
        answer_id, index = "", 0
        while index < len(chunks):
            if index and pace:
                await asyncio.sleep(pace)
            try:
                response = await self._put(base, chunks, index)
            except httpx.TransportError:
                # The connection broke: ask what the server holds, go on from the first gap.
                self.failures += 1
                held = set((await self.call("GET", base)).json().get("received_chunks") or [])
                index = next((i for i in range(len(chunks)) if i not in held), len(chunks))
                continue
            answer_id = response.json()["answer_id"]
            index += 1
        body = {"chunk_count": len(chunks), "sha256": hashlib.sha256(b"".join(chunks)).hexdigest()}
        completed = (await self.call("POST", f"{base}/complete", json=body)).json()
        assert completed["state"] in {"uploaded", "transcribing", "transcribed", "scored"}
        answer_id = answer_id or completed["answer_id"]
        self.sent[answer_id] = b"".join(chunks)
        return answer_id

    async def _put(self, base: str, chunks: list[bytes], index: int) -> httpx.Response:
        chunk = chunks[index]
        headers = {
            "Content-Type": "audio/webm;codecs=opus",
            "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(),
            **({"X-Final-Chunk": "true"} if index == len(chunks) - 1 else {}),
        }
        response = await self.client.put(f"{base}/chunks/{index}", content=chunk, headers=headers)
        if response.status_code >= 500:
            raise httpx.RemoteProtocolError(f"{response.status_code}: {response.text[:200]}")
        return response.raise_for_status()

    async def finish(self) -> None:
        finished = (await self.call("POST", "/api/v1/candidate/finish")).json()
        assert finished["state"] == "completed"

    async def close(self) -> None:
        await self.client.aclose()


def _stored(answer_id: str) -> bytes:
    with unit_of_work() as session:
        key = session.get(Answer, answer_id).media_key
    return get_storage().get(key)


def _until_scored(running: Stack, interview_ids: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    pending = set(interview_ids)
    while pending and time.monotonic() < deadline:
        for interview_id in sorted(pending):
            response = running.recruiter.get(f"/api/v1/interviews/{interview_id}")
            answers = response.raise_for_status().json()["answers"]
            if answers and all(a["transcript"] and a["scores"] for a in answers):
                pending.discard(interview_id)
        time.sleep(1)
    assert not pending, f"not scored within {timeout:.0f} s: {pending}\n{running.stack.log_tails()}"


def _transcribed_once(answer_ids: list[str]) -> None:
    """Each answer is transcribed, once."""
    from services.core.interviews.orm import Transcript

    with unit_of_work() as session:
        for answer_id in answer_ids:
            assert session.get(Answer, answer_id).state == AnswerState.TRANSCRIBED
            count = session.query(Transcript).filter_by(answer_id=answer_id).count()
            assert count == 1, f"answer {answer_id} has {count} transcripts"


def test_the_api_killed_mid_upload_every_candidate_resumes_and_every_answer_is_whole(
    running: Stack,
) -> None:
    recordings = [_recording(clip) for clip in CLIPS]
    candidates = [Candidate(running.stack.api_url, i) for i in running.invite(CANDIDATES)]

    async def interview(candidate: Candidate) -> None:
        questions = await candidate.start()
        for question_id, chunks in zip(questions, recordings, strict=True):
            await candidate.answer(question_id, chunks, pace=0.3)
        await candidate.finish()

    # Held back while the uploads run, so that the stored files can be compared byte for byte
    # before the worker stores its remux (same packets, a seek index added) over them.
    running.stack.workers["asr"].stop()

    async def run() -> None:
        uploads = asyncio.gather(*(interview(c) for c in candidates))
        await asyncio.sleep(1.5)  # every candidate is inside an answer now
        await asyncio.to_thread(running.stack.restart_api)
        await uploads
        await asyncio.gather(*(c.close() for c in candidates))

    asyncio.run(run())

    assert sum(c.failures for c in candidates) > 0, "the kill cut no request: it came too late"
    for candidate in candidates:
        for answer_id, recording in candidate.sent.items():
            assert hashlib.sha256(_stored(answer_id)).digest() == hashlib.sha256(recording).digest()
    running.stack.start_worker("asr")
    _until_scored(running, [c.interview_id for c in candidates])
    _transcribed_once([a for c in candidates for a in c.sent])


def test_the_broker_restarted_mid_run_loses_no_task(running: Stack) -> None:
    recordings = [_recording(clip) for clip in CLIPS]
    candidates = [Candidate(running.stack.api_url, i) for i in running.invite(4)]
    late = candidates.pop()  # answers while the broker is down

    async def interview(candidate: Candidate) -> None:
        questions = await candidate.start()
        for question_id, chunks in zip(questions, recordings, strict=True):
            await candidate.answer(question_id, chunks)
        await candidate.finish()

    async def run() -> None:
        await asyncio.gather(*(interview(c) for c in candidates))
        # Eight transcriptions queued: the worker is inside the first ones when the broker goes.
        await asyncio.to_thread(_until_transcribing, candidates)
        await asyncio.to_thread(running.stack.stop_broker)
        await interview(late)  # its tasks cannot be published: the sweeper must find them
        await asyncio.sleep(2)
        await asyncio.to_thread(running.stack.start_broker)
        await asyncio.gather(*(c.close() for c in [*candidates, late]))

    asyncio.run(run())

    everyone = [*candidates, late]
    _until_scored(running, [c.interview_id for c in everyone])
    _transcribed_once([a for c in everyone for a in c.sent])
    assert "could not publish answer.transcribe" in running.stack.api.log_text()
    # kombu 5.7 can crash a worker that held an unacknowledged task when the broker went
    # (docs/performance.md): its supervisor starts it again, as compose and Kubernetes do.
    print("started again after dying:", running.stack.restarts() or "none")


def _until_transcribing(candidates: list[Candidate]) -> None:
    ids = [a for c in candidates for a in c.sent]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            states = {session.get(Answer, a).state for a in ids}
        if states - {AnswerState.UPLOADED}:
            return
        time.sleep(0.2)
    raise AssertionError(f"no transcription began within 60 s: {states}")


def test_postgresql_briefly_out_of_reach_fails_requests_cleanly_and_recovers(
    running: Stack,
) -> None:
    recordings = [_recording(clip) for clip in CLIPS]
    (invitation,) = running.invite(1)
    candidate = Candidate(running.stack.api_url, invitation)

    async def run() -> None:
        questions = await candidate.start()
        await candidate.answer(questions[0], recordings[0])
        running.proxy.cut()
        try:
            started = time.monotonic()
            refused = await candidate.client.get("/api/v1/candidate/interview")
            chunk = recordings[1][0]
            put = await candidate.client.put(
                f"/api/v1/candidate/answers/{questions[1]}/chunks/0",
                content=chunk,
                headers={"Content-Type": "audio/webm;codecs=opus",
                         "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest()},
            )
            elapsed = time.monotonic() - started
            login = await candidate.client.post(
                "/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong"}
            )
        finally:
            running.proxy.restore()
        for response in (refused, put, login):
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_unavailable"
            assert response.headers["Retry-After"]
            assert response.headers["Content-Security-Policy"]
        assert elapsed < 10, f"the refusals took {elapsed:.1f} s"
        # Back by itself: the same page goes on where it was, without any restart.
        await candidate.answer(questions[1], recordings[1])
        await candidate.finish()
        await candidate.close()

    asyncio.run(run())
    _until_scored(running, [candidate.interview_id])
    _transcribed_once(list(candidate.sent))
