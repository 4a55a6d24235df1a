"""The FastAPI application: versioned JSON API, OpenAPI docs, error mapping and the web pages."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.publisher import CeleryPublisher
from services.api.routers import (
    admin,
    auth,
    calibration,
    candidate,
    catalogue,
    fairness,
    interviews,
    invitations,
    notes,
    privacy,
    roles,
    speech,
    training,
    webhooks,
)
from services.core.errors import DomainError
from services.core.jobs import JobPublisher
from services.core.settings import Settings, get_settings

API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parents[2] / "web"

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
}


def _error(status: int, code: str, message: str, **details: object) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details}},
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return _error(
            422, "validation_error", f"Some fields are not valid: {names}.", fields=fields
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Once the app is loaded: its modules' objects leave the garbage collector's view, and
    full collections come a hundred times less often. Measured on the ranked list
    (scripts/bench_ranking.py), full collections over the request objects of a loaded worker
    were the slowest requests' extra 100-300 ms; young cycles are still collected as usual."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)
    yield


def create_app(settings: Settings | None = None, publisher: JobPublisher | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="Parley API",
        version="1",
        description="Structured AI-avatar interviews, scored on text only, decided by people.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        responses={422: {"model": None}},
    )
    app.state.publisher = publisher or CeleryPublisher(settings)
    for module in (
        auth, admin, catalogue, roles, interviews, candidate, privacy, speech, fairness, training,
        webhooks, invitations, notes, calibration,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    _install_error_handlers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if request.url.path == "/api/docs":  # Swagger UI loads its own assets; no strict CSP
            return response
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(API_PREFIX):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
