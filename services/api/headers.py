"""Security headers on every response, and a JSON 500 that carries them after a crash.

A plain ASGI middleware rather than Starlette's `@app.middleware("http")`: that one runs each
request through a task group and a pair of memory streams, which on the chunk upload path cost
more CPU than the route itself (docs/performance.md, issue 9).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse

from services.api import logs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
}
# Sent only where the site is served over HTTPS (PARLEY_PUBLIC_URL, or the request itself as
# the trusted proxy reports it): over plain HTTP browsers ignore it, and a development server
# on http://127.0.0.1 must not pin a name to HTTPS.
HSTS = "max-age=31536000; includeSubDomains"

log = logging.getLogger("uvicorn.error")


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in
            headers.items()]


_ALWAYS = _encoded(SECURITY_HEADERS)
_HSTS = _encoded({"Strict-Transport-Security": HSTS})
_NO_STORE = _encoded({"Cache-Control": "no-store"})


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response that does not set its own,
    `Cache-Control: no-store` under `api_prefix`, HSTS over HTTPS; an exception that escapes
    the app before its response began becomes a logged JSON 500 with the same headers."""

    def __init__(self, app: ASGIApp, *, api_prefix: str, https_site: bool) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.https_site = https_site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_ALWAYS)
        if self.https_site or scope.get("scheme") == "https":
            extra += _HSTS
        if scope["path"].startswith(self.api_prefix):
            extra += _NO_STORE
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise  # the response is under way: the server can only cut it
            # Otherwise Starlette's outermost handler answers: a bare 500 without the headers.
            log.exception("unhandled error on %s %s", scope["method"],
                          logs.redact(scope["path"]))
            response = JSONResponse(
                status_code=500,
                content={"error": {"code": "internal_error",
                                   "message": "Something went wrong on our side.",
                                   "details": {}}},
            )
            await response(scope, receive, send_with_headers)
