"""Shared fixtures: databases built from the migrations, configured settings, seeded organisations.

PostgreSQL and Redis tests run against PARLEY_TEST_POSTGRES_URL / PARLEY_TEST_REDIS_URL (defaults:
the local servers on 127.0.0.1). Without them they skip, saying how to enable them; with CI=true
they never skip: an unreachable server fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.core import migrate
from services.core.db import get_engine, get_sessionmaker
from services.core.settings import get_settings
from services.core.storage import get_storage

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ENV_KEYS = (
    "PARLEY_DATA_DIR",
    "PARLEY_DATABASE_URL",
    "PARLEY_BROKER_URL",
    "PARLEY_ASR_MODEL",
    "PARLEY_ENV",
    "PARLEY_MODEL_CACHE_DIR",
)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int, variable: str) -> None:
    """Skip on a laptop without the server; fail in CI, where it must run."""
    if _reachable(url, port):
        return
    message = (
        f"{name} is not reachable at {url}. Start it, or point {variable} at one, to run this test."
    )
    if IN_CI:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def reset_caches() -> None:
    for cached in (get_settings, get_engine, get_sessionmaker, get_storage):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts from its own data folder; settings are re-read for it."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PARLEY_ENV", "test")
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PARLEY_ASR_MODEL", "tiny.en")
    if "PARLEY_MODEL_CACHE_DIR" in os.environ:
        monkeypatch.setenv("PARLEY_MODEL_CACHE_DIR", os.environ["PARLEY_MODEL_CACHE_DIR"])
    reset_caches()
    yield
    get_engine().dispose() if get_engine.cache_info().currsize else None
    reset_caches()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "parley.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database used as the template of each test's own database."""
    require_service("PostgreSQL", POSTGRES_URL, 5432, "PARLEY_TEST_POSTGRES_URL")
    name = f"parley_tmpl_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    from services.core.db import make_engine

    make_engine(url).dispose()
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_execute(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def fresh_postgres(template: str) -> str:
    name = f"parley_t_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sqlite_template: Path,
) -> Iterator[str]:
    """A migrated database of each kind, configured as Parley's database for the test."""
    if request.param == "sqlite":
        path = tmp_path / "parley.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = fresh_postgres(request.getfixturevalue("postgres_template"))
    monkeypatch.setenv("PARLEY_DATABASE_URL", url)
    reset_caches()
    yield url
    get_engine().dispose()
    if request.param == "postgresql":
        drop_postgres(url)


@pytest.fixture
def sqlite_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path) -> str:
    """Only the embedded database, for tests whose subject is not the database."""
    path = tmp_path / "parley.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("PARLEY_DATABASE_URL", url)
    reset_caches()
    return url
