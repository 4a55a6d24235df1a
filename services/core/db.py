"""Engine, sessions and the organisation filter that every tenant query goes through."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, MetaData, String, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

from services.core.errors import DomainError
from services.core.settings import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORG_SCOPE = "org_id"  # key in Session.info; set for every staff or candidate request
AFTER_COMMIT = "after_commit"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on SQLite too, which stores them naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """Enums stored as their plain string values, portable between SQLite and PostgreSQL."""
    return Enum(
        enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrgScoped(IdMixin):
    """A row that belongs to one organisation; queries see only the caller's organisation."""

    @declared_attr
    def org_id(cls) -> Mapped[str]:
        return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


@event.listens_for(Session, "do_orm_execute")
def _restrict_to_organisation(state: ORMExecuteState) -> None:
    org_id = state.session.info.get(ORG_SCOPE)
    if org_id is None or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("include_all_organisations"):
        return
    state.statement = state.statement.options(
        with_loader_criteria(OrgScoped, lambda cls: cls.org_id == org_id, include_aliases=True)
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the worker writes; busy_timeout waits out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # As many connections as the API admits requests (services/api/admission.py): a request
    # that holds its admission never waits for a connection. The timeout is a last resort.
    connections = get_settings().db_connections_per_process
    engine = create_engine(url, pool_size=connections, max_overflow=0, pool_timeout=10)
    _ping_when_idle(engine)
    return engine


# A connection that was back in the pool for less than this was working a moment ago: it is
# used without a ping. One idle for longer is pinged first, as pool_pre_ping would (which
# pings at every checkout, a round trip per request). A server that restarted under load is
# noticed by the first statement that fails instead: SQLAlchemy then discards the whole pool.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def stamp(_: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, _: Any) -> None:
        checked_in = record.info.get("checked_in")
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc  # the pool connects afresh, up to three times


@functools.cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@functools.cache
def get_sessionmaker() -> sessionmaker[Session]:
    import services.core.orm  # noqa: F401 (every mapper must be known before the first query)

    return sessionmaker(get_engine(), expire_on_commit=False)


def _commit(session: Session) -> None:
    session.commit()
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the caller's transaction has committed (publish jobs, drop temp files)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


@contextlib.contextmanager
def unit_of_work(*, org_id: str | None = None) -> Iterator[Session]:
    """A transaction owned by the caller (a request or a task): commit on success, else roll back."""
    session = get_sessionmaker()()
    if org_id is not None:
        session.info[ORG_SCOPE] = org_id
    try:
        yield session
        _commit(session)
    except DomainError as exc:
        if exc.keep_changes:
            _commit(session)
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_unless_present(
    session: Session, table: Any, values: dict[str, Any], *, key: list[str]
) -> bool:
    """INSERT ... ON CONFLICT (key) DO NOTHING on PostgreSQL or SQLite; True if a row went in."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    return session.execute(statement.returning(*table.primary_key.columns)).first() is not None
