"""Parley in its production shape on one machine, for end-to-end, fault and load runs.

`ProductionStack` starts what infra/compose.yaml runs, with the same commands: a fresh
PostgreSQL database migrated by `parley migrate`, a private `redis-server` (append-only, so a
restart keeps queued tasks) as the broker, S3 media on moto's standalone server (MinIO's stand-in),
`parley api --workers 2`, one `parley worker` per queue and `parley beat`. Every process logs to
its own file under the stack's folder.

    with ProductionStack(tmp_path) as stack:
        httpx.get(f"{stack.api_url}/healthz")
        stack.kill_api(); stack.start_api()          # kill -9 of the API and its workers
        stack.stop_broker(); stack.start_broker()    # same port, same data folder
        stack.workers["asr"].kill(); stack.start_worker("asr")
        stack.workers["asr"].log_text()

Usable from tests and from scripts (it imports no pytest).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import av
import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REDIS_SERVER = Path(os.environ.get("PARLEY_TEST_REDIS_SERVER", "/usr/bin/redis-server"))
POSTGRES_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
QUEUES = ("asr", "scoring", "default")
# infra/compose.yaml: worker-asr runs 1 process, worker-scoring and worker-default 2 each.
CONCURRENCY = {"asr": 1, "scoring": 2, "default": 2}
S3_BUCKET = "parley-media"
CHUNK_SECONDS = 3.0  # web/interview/recorder.js: MediaRecorder's timeslice


def missing_services() -> str | None:
    """Why the stack cannot start here (None when it can), saying how to enable it."""
    if not REDIS_SERVER.exists():
        return f"{REDIS_SERVER} is missing: install redis-server or set PARLEY_TEST_REDIS_SERVER."
    parts = urlsplit(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"))
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2).close()
    except OSError:
        return (
            f"PostgreSQL is not reachable at {POSTGRES_URL}. Start it, or point "
            "PARLEY_TEST_POSTGRES_URL at one, to run the production-shape stack."
        )
    return None


def _wait(what: str, ready: Callable[[], bool], process: Process | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        if ready():
            return
        time.sleep(0.2)
    tail = process.log_tail() if process is not None else ""
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s\n{tail}")


@dataclass
class Process:
    """One process of the stack, in its own process group, appending to its own log file."""

    name: str
    command: list[str]
    env: Mapping[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    # compose's `restart: unless-stopped`: started again when it dies, unless it was stopped
    # or killed on purpose (see ProductionStack's supervisor).
    restart: bool = False
    wanted: bool = False
    restarts: int = 0

    def start(self) -> None:
        self.wanted = True
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=dict(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group, no goodbye: what an OOM killer or a lost node does."""
        self.wanted = False
        self.signal(signal.SIGKILL)
        assert self.popen is not None
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it takes longer than `timeout`."""
        self.wanted = False
        if not self.alive:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill()

    def signal(self, signum: int) -> None:
        with_group = self.popen is not None and self.popen.poll() is None
        if with_group:
            os.killpg(self.pid, signum)

    def children(self) -> list[int]:
        """The pids whose parent is this process (an API's workers, a worker's pool)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.append(int(stat.parent.name))
        return sorted(found)

    def restart_if_dead(self) -> None:
        if not (self.restart and self.wanted and self.popen and self.popen.poll() is not None):
            return
        with self.log_path.open("a") as log:
            log.write(f"\n[supervisor] {self.name} exited with {self.popen.returncode}; "
                      "starting it again (restart: unless-stopped)\n")
        self.restarts += 1
        self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]


@dataclass
class ProductionStack:
    """PostgreSQL, Redis, S3, the API (2 workers), a worker per queue and the beat."""

    root: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    api_workers: int = 2
    with_beat: bool = True

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.api_port, self.broker_port, self.s3_port = free_port(), free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.broker_url = f"redis://127.0.0.1:{self.broker_port}/0"
        self.s3_url = f"http://127.0.0.1:{self.s3_port}"
        name = f"parley_prod_{uuid.uuid4().hex[:10]}"
        self.database_url = (
            make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        )
        self.env = self._environment()
        self.processes: dict[str, Process] = {}
        self._stopping = threading.Event()
        self.workers: dict[str, Process] = {}

    def _environment(self) -> dict[str, str]:
        """The variables infra/compose.yaml sets (x-parley-env), pointed at this machine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        if "PARLEY_MODEL_CACHE_DIR" in os.environ:
            env["PARLEY_MODEL_CACHE_DIR"] = os.environ["PARLEY_MODEL_CACHE_DIR"]
        env.update(
            PARLEY_ENV="production",
            PARLEY_SECRET_KEY=secrets.token_hex(32),
            PARLEY_PUBLIC_URL=self.api_url,
            PARLEY_COOKIE_SECURE="false",
            PARLEY_DATA_DIR=str(self.root / "data"),
            PARLEY_DATABASE_URL=self.database_url,
            PARLEY_BROKER_URL=self.broker_url,
            PARLEY_MEDIA_BACKEND="s3",
            PARLEY_S3_ENDPOINT_URL=self.s3_url,
            PARLEY_S3_BUCKET=S3_BUCKET,
            PARLEY_S3_ACCESS_KEY_ID="parley",
            PARLEY_S3_SECRET_ACCESS_KEY="parley-secret",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def settings_env(self) -> dict[str, str]:
        """The PARLEY_* variables a process needs to use this stack's database and storage."""
        return {k: v for k, v in self.env.items() if k.startswith("PARLEY_")}

    # ------------------------------------------------------------------ start and stop

    def __enter__(self) -> ProductionStack:
        try:
            self.start()
        except BaseException:
            self.stop(print_logs=True)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(print_logs=kind is not None)

    def start(self) -> None:
        problem = missing_services()
        if problem:
            raise RuntimeError(problem)
        self._add("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        self.start_broker()
        _admin(f'CREATE DATABASE "{make_url(self.database_url).database}"')
        self._wait_for_s3()
        (self.root / "data").mkdir(exist_ok=True)
        self._run_once("migrate")
        # The seed scoring model, trained into the model cache once (as an image build would),
        # not by each scoring process at its first task.
        self._run_once("model-card", "--out", str(self.root / "model-card.md"))
        for queue in QUEUES:
            self.start_worker(queue, wait=False)
        if self.with_beat:
            self._add("beat", self._parley("beat"))
        self.start_api()
        for queue in QUEUES:
            self._wait_for_worker(queue, starts=1)
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()

    def _supervise(self) -> None:
        """What compose's restart policy does: a Parley process that dies is started again."""
        while not self._stopping.wait(0.5):
            for process in list(self.processes.values()):
                process.restart_if_dead()

    def restarts(self) -> dict[str, int]:
        """How often the supervisor started each process again after it died by itself."""
        return {name: p.restarts for name, p in self.processes.items() if p.restarts}

    def stop(self, *, print_logs: bool = False) -> None:
        self._stopping.set()
        if print_logs:
            print(self.log_tails())
        for process in reversed(list(self.processes.values())):
            process.stop(timeout=15)
        _admin(f'DROP DATABASE IF EXISTS "{make_url(self.database_url).database}" WITH (FORCE)')

    def log_tails(self, chars: int = 3000) -> str:
        return "\n".join(
            f"----- {p.name} ({p.log_path}) -----\n{p.log_tail(chars)}"
            for p in self.processes.values()
        )

    # ------------------------------------------------------------------ the API

    @property
    def api(self) -> Process:
        return self.processes["api"]

    def start_api(self) -> None:
        """`parley api` as infra runs it, on the same port each time; waits for every worker."""
        command = self._parley(
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.api_port),
            "--workers",
            str(self.api_workers),
        )
        api = self._add("api", command)
        _wait("the API", self._api_ready, api, 180)

    def kill_api(self) -> None:
        """kill -9 of the API's master and workers at once (requests in flight are cut)."""
        self.api.kill()

    def restart_api(self) -> None:
        self.kill_api()
        self.start_api()

    def api_worker_pids(self) -> list[int]:
        """The pids of uvicorn's worker processes (its other child is multiprocessing's
        resource tracker)."""
        return [pid for pid in self.api.children() if b"spawn_main" in _cmdline(pid)]

    def _api_ready(self) -> bool:
        try:
            healthy = httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
        started = self.api.log_text().count("Application startup complete")
        return healthy and started >= self._api_starts * self.api_workers

    @property
    def _api_starts(self) -> int:
        return self.api.log_text().count("Started parent process")

    # ------------------------------------------------------------------ the workers

    def start_worker(self, queue: str, *, wait: bool = True) -> Process:
        """`parley worker --queues QUEUE` as infra runs it (again, after a kill or a stop)."""
        starts = self.workers[queue].log_text().count(" ready.") + 1 if queue in self.workers else 1
        command = self._parley(
            "worker", "--queues", queue, "--concurrency", str(CONCURRENCY[queue])
        )
        self.workers[queue] = self._add(f"worker-{queue}", command)
        if wait:
            self._wait_for_worker(queue, starts=starts)
        return self.workers[queue]

    def _wait_for_worker(self, queue: str, *, starts: int) -> None:
        worker = self.workers[queue]
        _wait(f"worker {queue}", lambda: worker.log_text().count(" ready.") >= starts, worker, 120)

    # ------------------------------------------------------------------ the broker

    @property
    def broker(self) -> Process:
        return self.processes["redis"]

    def start_broker(self) -> None:
        """redis-server on the stack's port and data folder (what it had queued is replayed)."""
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        command = [
            str(REDIS_SERVER),
            "--port",
            str(self.broker_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--maxmemory-policy",
            "noeviction",
        ]
        redis = self._add("redis", command)
        _wait("redis-server", lambda: _accepts(self.broker_port), redis, 30)

    def stop_broker(self, *, kill: bool = False) -> None:
        """SIGTERM (the append-only file is flushed), or SIGKILL with kill=True."""
        self.broker.kill() if kill else self.broker.stop()

    # ------------------------------------------------------------------ helpers

    def _parley(self, *args: str) -> list[str]:
        return [str(BIN / "parley"), *args]

    def _run_once(self, *args: str) -> None:
        once = Process(args[0], self._parley(*args), self.env, self._log(args[0]))
        once.start()
        if once.popen.wait(timeout=600) != 0:  # type: ignore[union-attr]
            raise RuntimeError(f"parley {args[0]} failed:\n{once.log_tail()}")

    def _log(self, name: str) -> Path:
        (self.root / "logs").mkdir(exist_ok=True)
        return self.root / "logs" / f"{name}.log"

    def _add(self, name: str, command: list[str]) -> Process:
        process = Process(name, command, self.env, self._log(name), restart=True)
        process.start()
        self.processes[name] = process
        return process

    def _wait_for_s3(self) -> None:
        import boto3

        def up() -> bool:
            try:
                return httpx.get(self.s3_url, timeout=1).status_code < 500
            except httpx.HTTPError:
                return False

        _wait("moto_server", up, self.processes["s3"], 30)
        boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            region_name="us-east-1",
            aws_access_key_id="parley",
            aws_secret_access_key="parley-secret",
        ).create_bucket(Bucket=S3_BUCKET)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _admin(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


# ---------------------------------------------------------------------- the browser's side


def browser_webm(samples: np.ndarray, *, bit_rate: int = 128_000) -> bytes:
    """16 kHz mono speech as Opus in WebM, the container Chromium's MediaRecorder writes."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = bit_rate
        for start in range(0, pcm.size, 16000):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, start : start + 16000], format="s16", layout="mono"
            )
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def timeslices(data: bytes, seconds: float) -> list[bytes]:
    """The recording cut into chunks of CHUNK_SECONDS of it each, as the recorder sends them."""
    size = max(1, int(len(data) * CHUNK_SECONDS / seconds))
    return [data[i : i + size] for i in range(0, len(data), size)]


@dataclass
class Uploaded:
    answer_id: str
    chunk_seconds: list[float]  # each PUT's latency, in order
    complete: dict[str, object]
    chunk_sent_at: list[float] = field(default_factory=list)  # time.monotonic() of each PUT
    complete_seconds: float = 0.0


async def upload_answer(
    client: httpx.AsyncClient,
    token: str,
    question_id: str,
    chunks: list[bytes],
    *,
    content_type: str = "audio/webm;codecs=opus",
    pace: float = 0.0,
) -> Uploaded:
    """One answer through the candidate API as the page sends it: a PUT per chunk with its
    SHA-256 (chunk i when the recorder hands it over, `i * pace` seconds after the first, or at
    once with pace 0), X-Final-Chunk on the last, then complete."""
    headers = {"X-Invite-Token": token}
    latencies, sent_at = [], []
    answer_id = ""
    began = time.monotonic()
    for index, chunk in enumerate(chunks):
        await asyncio.sleep(max(0.0, began + index * pace - time.monotonic()))
        final = {"X-Final-Chunk": "true"} if index == len(chunks) - 1 else {}
        sent_at.append(time.monotonic())
        started = time.perf_counter()
        response = await client.put(
            f"/api/v1/candidate/answers/{question_id}/chunks/{index}",
            content=chunk,
            headers={
                **headers,
                **final,
                "Content-Type": content_type,
                "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(),
            },
        )
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        answer_id = response.json()["answer_id"]
    started = time.perf_counter()
    response = await client.post(
        f"/api/v1/candidate/answers/{question_id}/complete",
        headers=headers,
        json={"chunk_count": len(chunks), "sha256": hashlib.sha256(b"".join(chunks)).hexdigest()},
    )
    response.raise_for_status()
    completed = time.perf_counter() - started
    return Uploaded(answer_id, latencies, response.json(), sent_at, completed)
