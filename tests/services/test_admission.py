"""More candidate requests at once than the database pool holds, against a real uvicorn on
PostgreSQL: each waits its turn for a connection without holding a thread, and all are
answered (no stall between the pool and the thread pool, no 500, no 503)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from services.core.db import get_engine
from tests.conftest import drop_postgres, fresh_postgres, reset_caches
from tests.services.conftest import seed_organisation
from tests.services.test_security_live import Server, start_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_database(
    monkeypatch: pytest.MonkeyPatch, postgres_template: str
) -> Iterator[str]:
    url = fresh_postgres(postgres_template)
    monkeypatch.setenv("PARLEY_DATABASE_URL", url)
    reset_caches()
    yield url
    get_engine().dispose()
    drop_postgres(url)


def test_more_requests_than_the_pool_holds_are_all_answered(
    postgres_database: str, start_server: Callable[..., Server]  # noqa: F811
) -> None:
    org = seed_organisation("a")
    # Two connections and anyio's 40 threads: 240 requests that each wanted a thread while
    # holding a connection would stall until the pool's timeout.
    server = start_server(PARLEY_DB_CONNECTIONS_PER_PROCESS="2")
    question = org.question_ids[1]
    chunk = bytes.fromhex("1a45dfa3") + bytes(4000)

    async def everyone() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-Invite-Token": org.invite_token}, timeout=60
        ) as page:
            upload = page.put(
                f"/api/v1/candidate/answers/{question}/chunks/0",
                content=chunk,
                headers={
                    "Content-Type": "audio/webm",
                    "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(),
                },
            )
            reads = [page.get("/api/v1/candidate/interview") for _ in range(120)]
            polls = [page.get(f"/api/v1/candidate/answers/{question}") for _ in range(120)]
            return await asyncio.gather(upload, *reads, *polls)

    responses = asyncio.run(everyone())
    assert [r.status_code for r in responses] == [200] * len(responses), [
        r.text for r in responses if r.status_code != 200
    ][:3]
    assert responses[0].json()["received_bytes"] == len(chunk)
