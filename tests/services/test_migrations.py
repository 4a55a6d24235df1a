"""The same Alembic migrations build, tear down and rebuild both databases, matching the ORM."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.core import migrate
from services.core.db import make_engine
from services.core.orm import Base
from tests.conftest import drop_postgres, fresh_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    # An empty database: the template of PostgreSQL's own, not the migrated test template.
    url = fresh_postgres("template1")
    yield url
    drop_postgres(url)


def test_migrations_upgrade_downgrade_and_upgrade_again(empty_database: str) -> None:
    engine = make_engine(empty_database)
    migrate.upgrade(empty_database)
    tables = set(inspect(engine).get_table_names())
    assert {"organisations", "users", "answers", "transcripts", "audit_events"} <= tables
    migrate.downgrade(empty_database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"the ORM and the migrations disagree: {diff}"
