"""Reading request bodies without trusting their declared size."""

from __future__ import annotations

from fastapi import Request

from services.core.errors import TooLarge


async def read_body(request: Request, *, limit: int, too_large: str | None = None) -> bytes:
    """The body, refused before reading when declared too large and while reading when it grows.

    `too_large` is the message of the refusal; by default it speaks of a chunk.
    """
    message = too_large or f"A chunk may hold at most {limit} bytes."
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(message, limit=limit)
    received = bytearray()
    async for part in request.stream():
        received.extend(part)
        if len(received) > limit:
            raise TooLarge(message, limit=limit)
    return bytes(received)


async def read_body_past(request: Request, *, limit: int) -> bytes:
    """The body, read one byte past ``limit`` at most, so that the parser can refuse it by name."""
    received = bytearray()
    async for part in request.stream():
        received.extend(part)
        if len(received) > limit:
            break
    return bytes(received)
