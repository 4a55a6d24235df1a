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

# One semaphore per event loop: a test client may run each request on a loop of its own.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _semaphore() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(loop)
    if semaphore is None:
        semaphore = _slots[loop] = asyncio.Semaphore(get_settings().db_connections_per_process)
    return semaphore


@contextlib.asynccontextmanager
async def admitted() -> AsyncIterator[None]:
    """Hold one of the process's database slots, or raise Overloaded after the admission wait."""
    semaphore = _semaphore()
    try:
        async with asyncio.timeout(get_settings().admission_wait_seconds):
            await semaphore.acquire()
    except TimeoutError:
        raise Overloaded(
            "The service is busy. Nothing was lost: try again.", retry_after=RETRY_AFTER_SECONDS
        ) from None
    try:
        yield
    finally:
        semaphore.release()
