"""Schemathesis over the whole OpenAPI schema, as each kind of caller: no request is a 500.

Every operation gets the schema's examples and a few generated requests, valid and not (wrong
types, NUL characters, huge numbers, missing fields), on SQLite from an anonymous caller, the
candidate with their invite token and each staff role with a bearer token, and on PostgreSQL
from the caller its door admits. About half of the requests name the seeded organisation's real
ids in their path, so they reach the handlers rather than a 404.

Each test starts from a copy of one seeded database, and Hypothesis runs derandomized without
its example database, so a run repeats the same requests against the same rows: CI reproduces.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from services.api.app import API_PREFIX, create_app
from services.core.db import get_engine
from tests.conftest import drop_postgres, fresh_postgres, reset_caches
from tests.services.conftest import PASSWORD, RecordingPublisher, seed_organisation

CALLERS = ("anonymous", "candidate", "recruiter", "psychologist", "admin")
# Whoever an operation's door admits: the candidate on the candidate's own operations (those of
# the open link ignore the token), an admin (admitted to every staff operation) on the rest.
ADMITTED = "admitted"

# One app for the module: it reaches each test's database through that test's settings.
APP = create_app(publisher=RecordingPublisher())


async def _served(scope: dict[str, Any], receive: Any, send: Any) -> None:
    # The app's start-up tunes the garbage collector for a server process; declining the
    # lifespan (before any message, as an app without one does) leaves the test process as it is.
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan under test")
    await APP(scope, receive, send)


schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", _served)
# The coverage phase sends every boundary of every field (hundreds of requests for a rubric);
# the schema's examples and a bounded number of generated requests keep the run to minutes.
schema.config.phases.update(phases=["examples", "fuzzing"])
# An answer chunk's body is bytes, any bytes: the API must refuse them, not fail on them.
schemathesis.openapi.media_type("audio/webm", st.binary(max_size=2048))


def _fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@dataclass(frozen=True)
class Seeded:
    """A seeded organisation: its database, its media, the ids and each caller's headers."""

    database: str
    data_dir: Path
    ids: dict[str, str]
    headers: dict[str, dict[str, str]]


def _seed(monkeypatch: pytest.MonkeyPatch, database: str, data_dir: Path) -> Seeded:
    monkeypatch.setenv("PARLEY_ENV", "test")
    monkeypatch.setenv("PARLEY_DATABASE_URL", database)
    monkeypatch.setenv("PARLEY_DATA_DIR", str(data_dir))
    reset_caches()
    org = seed_organisation("a")
    headers = {"anonymous": {}, "candidate": {"X-Invite-Token": org.invite_token}}
    client = TestClient(APP)
    for who in ("recruiter", "psychologist", "admin"):
        response = client.post(
            f"{API_PREFIX}/auth/login", json={"email": org.emails[who], "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        headers[who] = {"Authorization": f"Bearer {response.json()['token']}"}
    get_engine().dispose()
    reset_caches()
    ids = {
        "role_id": org.role_id,
        "interview_id": org.interview_id,
        "answer_id": org.answer_id,
        "question_id": org.question_ids[0],
        "rubric_version_id": org.rubric_version_id,
    }
    return Seeded(database=database, data_dir=data_dir, ids=ids, headers=headers)


@pytest.fixture(scope="module")
def seeded_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    folder = tmp_path_factory.mktemp("fuzz-sqlite")
    shutil.copy(sqlite_template, folder / "parley.sqlite3")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _seed(monkeypatch, f"sqlite:///{folder / 'parley.sqlite3'}", folder / "var")


@pytest.fixture(scope="module")
def seeded_postgres(
    postgres_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    url = fresh_postgres(postgres_template)
    with pytest.MonkeyPatch.context() as monkeypatch:
        seeded = _seed(monkeypatch, url, tmp_path_factory.mktemp("fuzz-postgres") / "var")
    yield seeded
    drop_postgres(url)


def _use(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded: Seeded, database: str) -> None:
    shutil.copytree(seeded.data_dir, tmp_path / "seeded")
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "seeded"))
    monkeypatch.setenv("PARLEY_DATABASE_URL", database)
    reset_caches()


@pytest.fixture
def on_sqlite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: Seeded) -> Seeded:
    shutil.copy(seeded_sqlite.database.removeprefix("sqlite:///"), tmp_path / "parley.sqlite3")
    _use(monkeypatch, tmp_path, seeded_sqlite, f"sqlite:///{tmp_path / 'parley.sqlite3'}")
    return seeded_sqlite


@pytest.fixture
def on_postgres(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_postgres: Seeded
) -> Iterator[Seeded]:
    from sqlalchemy.engine import make_url

    url = fresh_postgres(str(make_url(seeded_postgres.database).database))
    _use(monkeypatch, tmp_path, seeded_postgres, url)
    yield seeded_postgres
    get_engine().dispose()
    drop_postgres(url)


@pytest.fixture(params=CALLERS)
def caller(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _call(case: schemathesis.Case, seeded: Seeded, caller: str) -> None:
    if caller == ADMITTED:
        on_candidates = case.operation.path.startswith(f"{API_PREFIX}/candidate/")
        caller = "candidate" if on_candidates else "admin"
    # A stable choice (the generated values' checksum), so a rerun sends the same requests.
    if case.path_parameters and zlib.crc32(repr(case.path_parameters).encode()) % 2:
        for name in case.path_parameters.keys() & seeded.ids.keys():
            case.path_parameters[name] = seeded.ids[name]
    case.call_and_validate(headers=seeded.headers[caller], checks=[not_a_server_error])


@schema.parametrize()
@_fuzz(max_examples=4)
def test_no_server_error_on_sqlite(case: schemathesis.Case, on_sqlite: Seeded, caller: str) -> None:
    _call(case, on_sqlite, caller)


# PostgreSQL refuses what SQLite stores (a NUL, a value longer than its column, an integer past
# 32 bits): what matters there is the values that reach its queries, and those pass the door.
@pytest.mark.postgres
@pytest.mark.parametrize("caller", [ADMITTED], indirect=True)
@schema.parametrize()
@_fuzz(max_examples=4)
def test_no_server_error_on_postgresql(
    case: schemathesis.Case, on_postgres: Seeded, caller: str
) -> None:
    _call(case, on_postgres, caller)
