"""At most as many requests inside a unit of work as the database pool has connections.

A request takes its admission before it takes a worker thread, and a connection only after it;
so a thread never waits for a connection held by a request that waits for a thread (the stall
of docs/performance.md, issue 9). Excess requests wait on the event loop, holding nothing, and
are refused with 503 and Retry-After when they wait too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from services.core.errors import Overloaded
from services.core.settings import get_settings

RETRY_AFTER_SECONDS = 2

# One set of semaphores per event loop: a test client may run each request on a loop of its own.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _semaphore(kind: str) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphores = _slots.get(loop)
    if semaphores is None:
        settings = get_settings()
        semaphores = _slots[loop] = {
            "request": asyncio.Semaphore(settings.db_connections_per_process),
            "assembly": asyncio.Semaphore(settings.assemblies_per_process),
        }
    return semaphores[kind]


async def _acquire(semaphore: asyncio.Semaphore, deadline: float) -> None:
    try:
        async with asyncio.timeout_at(deadline):
            await semaphore.acquire()
    except TimeoutError:
        raise Overloaded(
            "The service is busy. Nothing was lost: try again.", retry_after=RETRY_AFTER_SECONDS
        ) from None


@contextlib.asynccontextmanager
async def admitted(*, assembly: bool = False) -> AsyncIterator[None]:
    """Hold one of the process's database slots, or raise Overloaded after the admission wait.

    `assembly` is for a request that reads a whole answer (keeping a take): it first waits for
    one of the few assembly slots, so that 200 candidates finishing at once take turns at
    their CPU-heavy step while the chunks of everyone still recording go on at once.
    """
    deadline = asyncio.get_running_loop().time() + get_settings().admission_wait_seconds
    held = []
    try:
        for kind in ("assembly", "request") if assembly else ("request",):
            semaphore = _semaphore(kind)
            await _acquire(semaphore, deadline)
            held.append(semaphore)
        yield
    finally:
        for semaphore in reversed(held):
            semaphore.release()
