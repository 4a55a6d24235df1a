"""NUL characters are refused at the API's edge, before any value reaches the database.

PostgreSQL's text types cannot hold U+0000 ("A string literal cannot contain NUL"), and no name,
email, note or identifier Parley keeps has a use for it. So the API refuses a NUL in a request's
path, its query or its JSON or form body with one 422 `invalid_character`, rather than each kind
of input being checked where it is stored. Only JSON and form bodies are read here (FastAPI reads
those whole for their routes anyway); binary uploads (answer chunks, CVs) and the spreadsheets
and CSV files the routes read themselves pass through untouched, streamed under their limits.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse

from services.core.errors import Invalid

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# "\u0000" in a JSON text, unless its backslash is itself escaped ("\\u0000" is not a NUL).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RefuseNulCharacters:
    """ASGI middleware: a request under `prefix` with a NUL in its text gets a 422."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope["path"]:
            where = "path"
        elif b"\x00" in unquote_to_bytes(scope["query_string"]):
            where = "query"
        elif (kind := _text_body_kind(scope)) is not None:
            body = await _read(receive)
            if body is None:  # the client went away: there is no one to answer
                return
            if _has_nul(body, kind):
                where = "body"
            receive = _replay(body, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        refused = Invalid(
            f"The request's {where} holds a NUL character (U+0000), which no field accepts.",
            code="invalid_character",
            where=where,
        )
        response = JSONResponse(
            status_code=refused.status,
            content={"error": {"code": refused.code, "message": refused.message,
                               "details": refused.details}},
        )
        await response(scope, receive, send)


def _text_body_kind(scope: Scope) -> str | None:
    content_type = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.split(b";")[0].strip().lower()
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        return "json"
    if content_type == b"application/x-www-form-urlencoded":
        return "form"
    return None


def _has_nul(body: bytes, kind: str) -> bool:
    if b"\x00" in body:
        return True
    if kind == "json":
        return _JSON_NUL.search(body) is not None
    return b"\x00" in unquote_to_bytes(body)


async def _read(receive: Receive) -> bytes | None:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
