"""Attacks on a real uvicorn server (two worker processes, as production runs it), over raw
sockets: oversized and mistyped uploads are refused before their body is sent, rate limits
hold across the processes, and neither the server's log nor the Celery worker's holds a
token, a transcript or a media path after a real spoken answer."""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select

from services.core.db import unit_of_work
from services.core.interviews import media
from services.core.interviews.orm import Answer, AnswerChunk, Score, Transcript
from services.core.settings import get_settings
from tests.servers import free_port, stop_group, wait_until_healthy
from tests.services.conftest import PASSWORD, Org, seed_organisation
from tests.services.pipeline import FINAL, SPEECH, RealWorker, normalise, wait_for_state

ROOT = Path(__file__).resolve().parents[2]
HUGE = 10 * 1024**3  # 10 GiB, declared and never sent


@dataclass
class Server:
    url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start uvicorn on the test's database as `parley api` runs it (`--workers 2` in
    production; one each here, and two servers where a test needs two processes)."""
    servers: list[Server] = []

    def start(**env: str) -> Server:
        port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--no-server-header",
        ]
        log = tmp_path / f"uvicorn-{port}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Server(f"http://127.0.0.1:{port}", port, log, process)
        servers.append(server)
        wait_until_healthy(f"{server.url}/healthz", process, log)
        return server

    yield start
    for server in servers:
        stop_group(server.process)


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in
                                                              headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(status_line.split()[1]), headers, body


def _headers_only(server: Server, method: str, path: str,
                  headers: dict[str, str]) -> tuple[int, dict[str, str], dict[str, object]]:
    """Send a request's headers and not one byte of its body; the answer must come anyway
    (a server that waited for the body would leave this socket to time out)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(_head(method, path, headers))
        status, response_headers, body = _read_response(sock)
    return status, response_headers, json.loads(body or b"{}")


def _chunk_headers(org: Org, **extra: str) -> dict[str, str]:
    return {"X-Invite-Token": org.invite_token, "X-Chunk-SHA256": "0" * 64, **extra}


def _chunk_path(org: Org) -> str:
    return f"/api/v1/candidate/answers/{org.question_ids[1]}/chunks/0"


def _nothing_stored(org: Org) -> bool:
    with unit_of_work() as session:
        return not session.scalars(
            sql_select(AnswerChunk).join(Answer).where(Answer.question_id == org.question_ids[1])
        ).all()


def _login(server: Server, org: Org, who: str = "recruiter") -> dict[str, str]:
    request = urllib.request.Request(
        f"{server.url}/api/v1/auth/login",
        data=json.dumps({"email": org.emails[who], "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        body = json.loads(response.read())
        cookie = response.headers["set-cookie"].split(";", 1)[0]
    return {"token": body["token"], "csrf": body["csrf_token"], "cookie": cookie}


def test_an_oversized_chunk_is_refused_from_its_headers_alone(
    sqlite_database: str, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    server = start_server()
    status, headers, body = _headers_only(server, "PUT", _chunk_path(org), _chunk_headers(
        org, **{"Content-Type": "audio/webm", "Content-Length": str(HUGE)}))
    assert status == 413 and body["error"]["code"] == "too_large"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"
    assert _nothing_stored(org)


def test_a_mistyped_chunk_is_refused_before_its_body(
    sqlite_database: str, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    server = start_server()
    status, _, body = _headers_only(server, "PUT", _chunk_path(org), _chunk_headers(
        org, **{"Content-Type": "text/html", "Content-Length": "4000"}))
    error = body["error"]
    assert status == 415 and error["code"] == "unsupported_media_type"  # type: ignore[index]
    assert _nothing_stored(org)


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    sqlite_database: str, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    server = start_server(PARLEY_MAX_CHUNK_BYTES="4096")
    headers = _chunk_headers(org, **{"Content-Type": "audio/webm",
                                     "Transfer-Encoding": "chunked"})
    sent, piece = 0, b"400\r\n" + b"\x1a" * 1024 + b"\r\n"  # 1 KiB per chunk, never a last one
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(_head("PUT", _chunk_path(org), headers))
        while sent < 1024 * 1024:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1024
            if select.select([sock], [], [], 0.05)[0]:
                break
        status, _, body = _read_response(sock)
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    assert sent < 256 * 1024, f"the server read {sent} bytes before refusing"
    assert _nothing_stored(org)


def test_a_cv_that_is_too_large_or_not_a_pdf_is_refused_before_its_body(
    sqlite_database: str, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    server = start_server()
    bearer = {"Authorization": f"Bearer {_login(server, org)['token']}"}
    path = f"/api/v1/interviews/{org.interview_id}/cv"
    cases = [
        ({"Content-Type": "application/pdf", "Content-Length": str(HUGE)}, 413, "too_large"),
        ({"Content-Type": "image/svg+xml", "Content-Length": "5000"}, 415, "not_pdf"),
    ]
    for extra, expected, code in cases:
        status, _, body = _headers_only(server, "PUT", path, {**bearer, **extra})
        assert (status, body["error"]["code"]) == (expected, code)  # type: ignore[index]
    # No one signed in: refused before the body as well.
    status, _, _ = _headers_only(server, "PUT", path, {"Content-Type": "application/pdf",
                                                       "Content-Length": str(HUGE)})
    assert status == 401


def test_rate_limits_hold_across_api_processes(
    sqlite_database: str, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    first = start_server(PARLEY_TOKEN_GUESS_MAX_FAILURES="6")
    second = start_server(PARLEY_TOKEN_GUESS_MAX_FAILURES="6")
    statuses = []
    for n in range(8):
        server = (first, second)[n % 2]  # two processes that share only the database
        status, headers, body = _headers_only(server, "GET", "/api/v1/candidate/interview",
                                              {"X-Invite-Token": f"guess-{n:040d}"})
        statuses.append(status)
    assert statuses == [401] * 6 + [429] * 2
    assert body["error"]["code"] == "rate_limited"  # type: ignore[index]
    assert int(headers["retry-after"]) >= 1
    status, _, _ = _headers_only(first, "GET", "/api/v1/candidate/interview",
                                 {"X-Invite-Token": org.invite_token})
    assert status == 429  # over the limit, even a right guess learns nothing


# ------------------------------------------------------------------------------------ logs


def _request(server: Server, method: str, path: str, *, headers: dict[str, str],
             body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{server.url}{path}", data=body, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _upload_speech(server: Server, org: Org, data: bytes) -> str:
    headers = {"X-Invite-Token": org.invite_token}
    path = f"/api/v1/candidate/answers/{org.question_ids[1]}"
    size = 256 * 1024
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    for index, chunk in enumerate(chunks):
        status, body = _request(server, "PUT", f"{path}/chunks/{index}", body=chunk, headers={
            **headers, "Content-Type": "audio/flac",
            "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest()})
        assert status == 200, body
    status, body = _request(server, "POST", f"{path}/complete", headers={
        **headers, "Content-Type": "application/json"}, body=json.dumps({
            "chunk_count": len(chunks), "sha256": hashlib.sha256(data).hexdigest()}).encode())
    assert status == 200, body
    return str(json.loads(body)["answer_id"])


def _wait_for_scores(answer_id: str, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            if session.scalars(sql_select(Score).where(Score.answer_id == answer_id)).first():
                return
        time.sleep(1)
    raise AssertionError(f"answer {answer_id} was not scored within {timeout} s")


def _word_runs(text: str, n: int = 4) -> set[str]:
    words = normalise(text).split()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.slow
def test_no_token_transcript_or_media_path_reaches_the_server_or_worker_logs(
    stack: RealWorker, start_server: Callable[..., Server]
) -> None:
    org = seed_organisation("a")
    stack.start()
    server = start_server()
    answer_id = _upload_speech(server, org, (SPEECH / "jfk.flac").read_bytes())
    answer = wait_for_state(answer_id, FINAL, timeout=300)
    assert answer.state.value == "transcribed", answer.failure_reason
    _wait_for_scores(answer_id)
    staff = _login(server, org)
    cookie = {"Cookie": staff["cookie"], "X-CSRF-Token": staff["csrf"]}
    for path in (f"/api/v1/interviews/{org.interview_id}", f"/api/v1/answers/{answer_id}/media"):
        assert _request(server, "GET", path, headers=cookie)[0] == 200
    # A link pasted without its '#', and clients that put the tokens in the query string.
    for path in (f"/interview/{org.invite_token}", f"/interview/?token={org.invite_token}",
                 f"/api/v1/me?session={staff['token']}&csrf={staff['csrf']}"):
        _request(server, "GET", path, headers={})
    time.sleep(1)  # the access log is written after each response
    stack.stop()

    with unit_of_work() as session:
        transcript = session.scalars(
            sql_select(Transcript).where(Transcript.answer_id == answer_id)).one()
        media_key = session.get(Answer, answer_id).media_key  # type: ignore[union-attr]
    settings = get_settings()
    secrets_ = {
        "invite token": org.invite_token,
        "session token": staff["token"],
        "session cookie": staff["cookie"].split("=", 1)[1],
        "CSRF token": staff["csrf"],
        # Storage keys (the API's own /answers/{id}/media route is no key and says nothing
        # without a session).
        "media key": str(media_key),
        "chunk keys": f"{media.answer_folder(answer_id)}/chunks",
        "media folder": str(settings.media_dir),
        "signed URL": "X-Amz-Signature",
    }
    logs = {"uvicorn": server.log_text(), "celery worker": stack.log_path.read_text()}
    assert "GET /interview/[redacted]" in logs["uvicorn"], logs["uvicorn"][-2000:]
    assert "succeeded in" in logs["celery worker"], logs["celery worker"][-2000:]
    leaks = [f"{what} in the {name} log" for name, text in logs.items()
             for what, value in secrets_.items() if value in text]
    runs = _word_runs(transcript.text)
    assert len(runs) > 10, transcript.text
    for name, text in logs.items():
        said = normalise(text)
        leaks += [f"transcript words {run!r} in the {name} log" for run in runs if run in said]
    assert not leaks, leaks
