"""The FastAPI application: versioned JSON API, OpenAPI docs, error mapping and the web pages."""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api import logs
from services.api.characters import RefuseNulCharacters
from services.api.headers import SecurityHeaders
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
from services.core.errors import DomainError, Overloaded, RateLimited
from services.core.jobs import JobPublisher
from services.core.settings import Settings, get_settings

API_PREFIX = "/api/v1"
DATABASE_RETRY_AFTER_SECONDS = 5
WEB_DIR = Path(__file__).resolve().parents[2] / "web"

_SWAGGER_CDN = "https://cdn.jsdelivr.net"
log = logging.getLogger("uvicorn.error")


def _error(status: int, code: str, message: str, **details: object) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details}},
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        response = _error(exc.status, exc.code, exc.message, **exc.details)
        if isinstance(exc, RateLimited | Overloaded):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(request: Request, exc: DBAPIError | PoolTimeout) -> JSONResponse:
        # The database is out of reach or refused the connection: nothing was saved by this
        # request, and the pool's pre-ping reconnects by itself once it is back.
        log.warning("database unavailable on %s %s: %s", request.method,
                    logs.redact(request.url.path), type(getattr(exc, "orig", None) or exc).__name__)
        response = _error(503, "database_unavailable",
                          "The service is briefly unavailable. Nothing was lost: try again.")
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

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
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        responses={422: {"model": None}},
    )
    app.state.publisher = publisher or CeleryPublisher(settings)
    for module in (
        auth, admin, catalogue, roles, interviews, candidate, privacy, speech, fairness, training,
        webhooks, invitations, notes, calibration,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(RefuseNulCharacters, prefix=API_PREFIX)  # inside SecurityHeaders
    app.add_middleware(
        SecurityHeaders,
        api_prefix=API_PREFIX,
        https_site=settings.public_url.startswith("https://"),
    )
    _install_error_handlers(app)
    logs.install_redaction()

    docs = _docs_page(app)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        return docs

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def _docs_page(app: FastAPI) -> HTMLResponse:
    """Swagger UI with a policy of its own: its assets from the CDN, and its one inline script
    allowed by hash, never by 'unsafe-inline'."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} docs")
    body = bytes(page.body).decode()
    inline = re.findall(r"<script>(.*?)</script>", body, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in inline
    )
    policy = (
        f"default-src 'self'; script-src 'self' {_SWAGGER_CDN} {hashes}; "
        f"style-src 'self' {_SWAGGER_CDN}; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})
