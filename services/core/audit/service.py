"""Append to and verify the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.core.audit.orm import AuditEvent
from services.core.db import utcnow

GENESIS = "0" * 64


def _digest(
    *,
    prev_hash: str,
    seq: int,
    org_id: str,
    created_at: str,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, object],
) -> str:
    body = json.dumps(
        [prev_hash, seq, org_id, created_at, actor, action, subject, data],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _serialise_appends(session: Session, org_id: str) -> None:
    """Two writers must never read the same last entry and take the same sequence number."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:org))"), {"org": org_id})
    elif dialect == "sqlite":
        # pysqlite opens its transaction only at the first write, so the read below would see
        # the chain outside any lock; take SQLite's write lock first (waits out busy_timeout).
        raw = session.connection().connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


def record(
    session: Session,
    *,
    org_id: str,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, object] | None = None,
) -> AuditEvent:
    """Append one event to the organisation's chain inside the caller's transaction."""
    _serialise_appends(session, org_id)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.org_id == org_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    created_at = utcnow().replace(microsecond=0)
    payload = dict(data or {})
    event = AuditEvent(
        org_id=org_id,
        seq=seq,
        actor=actor,
        action=action,
        subject=subject,
        data=payload,
        prev_hash=prev_hash,
        created_at=created_at,
        hash=_digest(
            prev_hash=prev_hash,
            seq=seq,
            org_id=org_id,
            created_at=created_at.isoformat(),
            actor=actor,
            action=action,
            subject=subject,
            data=payload,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify(session: Session, *, org_id: str) -> list[ChainProblem]:
    """Every edited, reordered or deleted entry of the organisation's chain, or nothing."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq = GENESIS, 1
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq)
    )
    for event in events:
        if event.seq != expected_seq:
            problems.append(
                ChainProblem(expected_seq, f"entries {expected_seq}..{event.seq - 1} missing")
            )
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.seq, "does not follow the previous entry"))
        digest = _digest(
            prev_hash=event.prev_hash,
            seq=event.seq,
            org_id=event.org_id,
            created_at=event.created_at.replace(microsecond=0).isoformat(),
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            data=event.data,
        )
        if digest != event.hash:
            problems.append(ChainProblem(event.seq, "content was edited"))
        prev_hash, expected_seq = event.hash, event.seq + 1
    return problems


def list_events(session: Session, *, after: int, limit: int) -> list[AuditEvent]:
    """The caller's organisation's entries after sequence number `after`, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
        )
    )
