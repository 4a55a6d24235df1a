"""The connection pool on PostgreSQL: a connection the server dropped while it sat idle in the
pool is replaced before a request uses it, and one used a moment ago is not pinged."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.core import db
from tests.conftest import _admin_execute, drop_postgres, fresh_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_template: str) -> Iterator[Engine]:
    url = fresh_postgres(postgres_template)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()
    drop_postgres(url)


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced_without_an_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    _admin_execute(f"SELECT pg_terminate_backend({first})")  # as a server restart would
    time.sleep(db.PING_AFTER_IDLE_SECONDS + 0.2)
    second = _backend(engine)  # no error: the ping found it dead and the pool connected again
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    backends = {_backend(engine) for _ in range(20)}
    assert pings == [] and len(backends) == 1
    time.sleep(db.PING_AFTER_IDLE_SECONDS + 0.2)
    assert _backend(engine) in backends
    assert len(pings) == 1
