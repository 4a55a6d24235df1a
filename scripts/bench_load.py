"""Candidates uploading answers at once against Parley's production shape.

    .venv/bin/python scripts/bench_load.py [--candidates 200] [--answer-seconds 60]
    .venv/bin/python scripts/bench_load.py --url http://127.0.0.1:8000   # a running deployment

Starts the production shape with tests/production.py (PostgreSQL, a private Redis, S3 on moto,
`parley api --workers 2`, a worker per queue and the beat) unless --url names a running one;
then its database and media are those of this process's PARLEY_* variables. It seeds an
organisation, a recruiter invites every candidate through the API, and each simulated candidate
opens the invitation and consents (10 at a time, as arrivals), then all of them answer at once,
starting within the first 3 seconds, the way the page uploads: a spoken answer as Opus in WebM,
a PUT of each 3-second timeslice with its SHA-256 when the recorder would hand it over (every
3 s), X-Final-Chunk on the last, then complete. Every chunk's latency is recorded; afterwards
every stored answer is read back from media storage and compared byte for byte with what was
sent, and with the hash and size the database recorded.

Baseline, in the same run and on the same stack: one candidate alone, before the crowd.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import av
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.production import (  # noqa: E402
    CHUNK_SECONDS,
    ProductionStack,
    browser_webm,
    timeslices,
    upload_answer,
)

CLIPS = ("jfk.flac", "librispeech_2412-153948-0000.flac")
OPENING = 10  # candidates opening their invitation at the same moment, before the uploads


@dataclass
class Run:
    label: str
    candidates: int
    sent: dict[str, bytes] = field(default_factory=dict)  # answer id -> the bytes uploaded
    chunk_seconds: list[float] = field(default_factory=list)
    chunk_sent_at: list[float] = field(default_factory=list)  # seconds after the crowd began
    began: float = 0.0  # time.monotonic() when the crowd began
    complete_seconds: list[float] = field(default_factory=list)
    final_seconds: list[float] = field(default_factory=list)  # each answer's last chunk
    errors: list[str] = field(default_factory=list)
    answer_bytes: int = 0
    wall: float = 0.0
    load: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process group


def recording(seconds: float, kbps: int) -> bytes:
    """About `seconds` of real speech (the test clips, looped) as the page's WebM."""
    from models.asr import decode_audio

    clips = [decode_audio(ROOT / "tests/data/speech" / name).samples for name in CLIPS]
    samples = np.concatenate(clips * int(seconds // 20 + 1))[: int(seconds * 16000)]
    return browser_webm(samples, bit_rate=kbps * 1000)


def tagged(data: bytes, n: int) -> bytes:
    """The recording made unique to candidate n: an EBML Void element (ignored by every
    demuxer) appended, so an answer stored under another candidate's id would not match."""
    payload = f"bench candidate {n:06d}".encode()
    return data + b"\xec" + bytes([0x80 | len(payload)]) + payload


async def open_interview(page: httpx.AsyncClient, gate: asyncio.Semaphore, run: Run) -> str:
    """The candidate opens the invitation and consents; returns the first question's id."""
    async with gate:
        try:
            interview = (await page.get("/api/v1/candidate/interview")).raise_for_status().json()
            consent = {"accepted": True, "notice_version": interview["notice_version"]}
            (await page.post("/api/v1/candidate/consent", json=consent)).raise_for_status()
            return str(interview["questions"][0]["question_id"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            run.errors.append(f"opening: {type(exc).__name__}: {exc}"[:300])
            return ""


async def answer(
    page: httpx.AsyncClient, question: str, data: bytes, seconds: float, start: float, run: Run
) -> None:
    """The candidate records an answer, its chunks uploaded as the recorder hands them over."""
    await asyncio.sleep(start)
    token = page.headers["X-Invite-Token"]
    try:
        chunks = timeslices(data, seconds)
        uploaded = await upload_answer(page, token, question, chunks, pace=CHUNK_SECONDS)
        run.chunk_seconds += uploaded.chunk_seconds
        run.chunk_sent_at += [t - run.began for t in uploaded.chunk_sent_at]
        run.complete_seconds.append(uploaded.complete_seconds)
        run.final_seconds.append(uploaded.chunk_seconds[-1])
        run.sent[uploaded.answer_id] = data
    except httpx.HTTPError as exc:
        request = exc.request.url.path.split("/answers/")[-1] if exc._request else "?"
        at = time.monotonic() - run.began
        run.errors.append(f"uploading: {type(exc).__name__} at {at:.0f} s on {request}: {exc}"[:300])
    except (KeyError, ValueError) as exc:
        run.errors.append(f"uploading: {type(exc).__name__}: {exc}"[:300])


def invite(url: str, email: str, role_id: str, count: int) -> list[str]:
    from tests.services.conftest import PASSWORD

    with httpx.Client(base_url=url, timeout=60) as recruiter:
        signed_in = recruiter.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).raise_for_status()
        recruiter.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
        tokens = []
        for n in range(count):
            issued = recruiter.post(
                f"/api/v1/roles/{role_id}/invitations",
                json={"name": f"Load Candidate {n}", "email": f"load{n}@example.com"},
            ).raise_for_status()
            tokens.append(issued.json()["invite_url"].split("#", 1)[1])
        return tokens


GROUPS = (  # (group, a word of the command line), the first that matches
    ("API", b"uvicorn"),
    ("API", b"spawn_main"),
    ("PostgreSQL", b"postgres"),
    ("S3 (moto)", b"moto_server"),
    ("Redis", b"redis-server"),
    ("workers", b"celery"),
    ("workers", b"parley"),
)


def cpu_by_group() -> Counter[str]:
    """CPU seconds (user and system) used so far by each kind of process on this machine, this
    bench's own (its simulated candidates) as "clients"; from /proc, so Linux only."""
    tick, me, used = os.sysconf("SC_CLK_TCK"), os.getpid(), Counter[str]()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(entry.name) == me:
            used["clients"] += seconds
            continue
        for group, word in GROUPS:
            if word in command:
                used[group] += seconds
                break
    return used


def crowd(url: str, tokens: list[str], data: bytes, seconds: float, label: str) -> Run:
    """Every candidate opens the interview (OPENING at a time, as they would arrive), then all
    of them answer at once, starting within the first chunk's 3 seconds."""
    run = Run(label, len(tokens), answer_bytes=len(data), load=os.getloadavg()[0])
    rng = random.Random(7)

    async def everyone() -> None:
        gate = asyncio.Semaphore(OPENING)
        pages = [
            httpx.AsyncClient(base_url=url, headers={"X-Invite-Token": t}, timeout=60)
            for t in tokens
        ]
        questions = await asyncio.gather(*(open_interview(p, gate, run) for p in pages))
        run.load = os.getloadavg()[0]
        before = cpu_by_group()
        run.began = time.monotonic()
        began = time.perf_counter()
        await asyncio.gather(
            *(
                answer(p, q, tagged(data, n), seconds, rng.uniform(0, CHUNK_SECONDS), run)
                for n, (p, q) in enumerate(zip(pages, questions, strict=True))
                if q
            )
        )
        run.wall = time.perf_counter() - began
        run.cpu = dict(cpu_by_group() - before)
        await asyncio.gather(*(p.aclose() for p in pages))

    asyncio.run(everyone())
    return run


def packets(data: bytes) -> list[bytes]:
    """The audio packets of a WebM, which the asr worker's remux for playback keeps as sent."""
    with av.open(io.BytesIO(data)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


@dataclass
class Check:
    identical: int = 0  # stored byte for byte as sent
    remuxed: int = 0  # rewritten for playback by the asr worker: every audio packet as sent
    differ: int = 0
    lost: int = 0  # bytes of the answers that differ or are missing


def check_stored(run: Run) -> Check:
    """Every answer read back from media storage, against what was sent and what the database
    recorded: the upload's SHA-256 and size, and (in the audit log) the hash of the file the
    asr worker read before it rewrote the stored copy for playback."""
    from sqlalchemy import select

    from services.core.audit.orm import AuditEvent
    from services.core.db import unit_of_work
    from services.core.interviews.orm import Answer
    from services.core.storage import get_storage

    storage, check = get_storage(), Check()
    with unit_of_work() as session:
        for answer_id, sent in run.sent.items():
            digest = hashlib.sha256(sent).hexdigest()
            answer = session.get(Answer, answer_id)
            read = [
                event.data.get("audio_sha256")
                for event in session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.subject == f"answer:{answer_id}",
                        AuditEvent.action.in_(["answer.transcribed", "answer.no_speech"]),
                    )
                )
            ]
            recorded = (
                answer is not None
                and (answer.sha256, answer.size_bytes) == (digest, len(sent))
                and all(h == digest for h in read)
            )
            stored = storage.get(answer.media_key) if answer and answer.media_key else b""
            if recorded and stored == sent:
                check.identical += 1
            elif recorded and packets(stored) == packets(sent):
                check.remuxed += 1
            else:
                check.differ, check.lost = check.differ + 1, check.lost + len(sent)
    return check


def wait_until_transcribed(answer_ids: list[str], timeout: float = 300) -> None:
    """So the baseline's transcription does not run during the crowd's uploads."""
    from services.core.db import unit_of_work
    from services.core.interviews.orm import Answer

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            states = {session.get(Answer, a).state.value for a in answer_ids}  # type: ignore[union-attr]
        if states <= {"transcribed", "no_speech", "failed"}:
            return
        time.sleep(1)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def timeline(run: Run, step: float = 10.0) -> str:
    """p50/p99 ms of the chunks sent in each `step` seconds of the run."""
    windows: dict[int, list[float]] = {}
    for sent, seconds in zip(run.chunk_sent_at, run.chunk_seconds, strict=True):
        windows.setdefault(int(sent // step), []).append(seconds)
    return ", ".join(
        f"{w * step:.0f}-{(w + 1) * step:.0f}: {percentile(v, 50):.0f}/{percentile(v, 99):.0f}"
        for w, v in sorted(windows.items())
    )


def report(runs: list[Run]) -> None:
    head = (
        f"{'run':<24}{'cands':>6}{'chunks':>8}{'MB':>7}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'errors':>8}{'lost bytes':>12}{'wall s':>8}"
    )
    print(head)
    print("-" * len(head))
    checks = []
    for run in runs:
        check = check_stored(run)
        checks.append(check)
        missing = run.candidates - len(run.sent)
        lats = run.chunk_seconds
        print(
            f"{run.label:<24}{run.candidates:>6}{len(lats):>8}"
            f"{sum(map(len, run.sent.values())) / 1e6:>7.1f}"
            f"{percentile(lats, 50):>8.0f}{percentile(lats, 95):>8.0f}"
            f"{percentile(lats, 99):>8.0f}{max(lats, default=0) * 1000:>8.0f}"
            f"{len(run.errors):>8}{check.lost + missing * run.answer_bytes:>12,}{run.wall:>8.1f}"
        )
    for run, check in zip(runs, checks, strict=True):
        print(
            f"{run.label}: {check.identical} answers stored byte for byte, {check.remuxed} "
            f"already rewritten for playback by the asr worker with every audio packet as sent, "
            f"{check.differ} differ, {run.candidates - len(run.sent)} never completed; "
            f"load average before {run.load:.1f}"
        )
        kinds = Counter(re.sub(r"[0-9a-f]{32}", "ID", e.split("\n")[0]) for e in run.errors)
        for kind, count in kinds.most_common():
            print(f"  {count} x {kind}")
        chunks = max(len(run.chunk_seconds), 1)
        if run.candidates > 1:
            print("  chunk latency by when it was sent (s after the crowd began): " + timeline(run))
        for what, values in (
            ("last chunks (X-Final-Chunk, in the chunk figures)", run.final_seconds),
            ("completes (not in the chunk figures)", run.complete_seconds),
        ):
            print(
                f"  {what}: p50 {percentile(values, 50):.0f} ms, "
                f"p99 {percentile(values, 99):.0f} ms, max {max(values, default=0) * 1000:.0f} ms"
            )
        print(
            f"  CPU while answering, ms per chunk timed (s in all, over {run.wall:.0f} s): "
            + ", ".join(
                f"{group} {seconds / chunks * 1000:.1f} ({seconds:.0f})"
                for group, seconds in sorted(run.cpu.items(), key=lambda kv: -kv[1])
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--answer-seconds", type=float, default=60.0)
    parser.add_argument("--kbps", type=int, default=128, help="Opus bit rate of the recording")
    parser.add_argument("--url", help="a running Parley; its PARLEY_* variables in this process")
    parser.add_argument("--asr-model", default="base", help="the stack's asr worker model")
    parser.add_argument(
        "--media",
        choices=["s3", "local"],
        default="s3",
        help="the stack's media storage: S3 on moto, or a local folder every process shares",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="PARLEY_X=value",
        help="a setting for the stack's processes (repeatable), e.g. PARLEY_ASSEMBLIES_PER_PROCESS=1",
    )
    args = parser.parse_args()

    with ExitStack() as cleanup:
        url = args.url
        if url is None:
            root = Path(tempfile.mkdtemp(prefix="bench-load-"))
            extra_env = {"PARLEY_ASR_MODEL": args.asr_model}
            extra_env.update(item.split("=", 1) for item in args.env)
            if args.media == "local":
                extra_env.update(PARLEY_MEDIA_BACKEND="local", PARLEY_MEDIA_DIR=str(root / "media"))
            stack = ProductionStack(root, extra_env=extra_env)
            cleanup.enter_context(stack)
            os.environ.update(stack.settings_env())
            url = stack.api_url
            print(f"stack up in {root}: API {url}, database {stack.database_url}")
        from tests.services.conftest import seed_organisation

        org = seed_organisation(f"load-{os.getpid()}")
        data = recording(args.answer_seconds, args.kbps)
        print(
            f"answer: {len(data) / 1e3:.0f} kB, {args.answer_seconds:.0f} s of speech, "
            f"{len(timeslices(data, args.answer_seconds))} chunks of about "
            f"{len(timeslices(data, args.answer_seconds)[0]) / 1e3:.0f} kB"
        )
        tokens = invite(url, org.emails["recruiter"], org.role_id, args.candidates + 1)
        baseline = crowd(url, tokens[:1], data, args.answer_seconds, "1 candidate (baseline)")
        wait_until_transcribed(list(baseline.sent))
        loaded = crowd(url, tokens[1:], data, args.answer_seconds, f"{args.candidates} candidates")
        report([baseline, loaded])
    failed = bool(loaded.errors or baseline.errors)
    if args.url is None:
        print(f"the stack's logs: {root / 'logs'}") if failed else shutil.rmtree(root)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
