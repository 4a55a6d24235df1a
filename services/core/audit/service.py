"""Append to and verify the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, SessionTransaction

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
) -> None:
    """Append one event to the organisation's chain as the caller's transaction commits.

    The chain is one sequence per organisation, so appends take its lock; taken at the commit,
    the lock is held for the append and the commit only, not for the rest of the transaction
    (200 candidates of one organisation completing their answers at once queued behind it:
    docs/performance.md, issue 9). A transaction that rolls back appends nothing.
    """
    session.info.setdefault(_PENDING, []).append(
        (org_id, actor, action, subject, dict(data or {}))
    )
    session.flush()  # as before the append was deferred: what the caller added has its ids


_PENDING = "audit_pending"


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # the transaction's other writes first, outside the lock
    last: dict[str, tuple[int, str]] = {}
    for org_id in sorted({p[0] for p in pending}):  # in one order for every writer
        _serialise_appends(session, org_id)
        row = session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.org_id == org_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
        last[org_id] = (row.seq, row.hash) if row else (0, GENESIS)
    created_at = utcnow().replace(microsecond=0)
    for org_id, actor, action, subject, data in pending:
        seq, prev_hash = last[org_id][0] + 1, last[org_id][1]
        digest = _digest(
            prev_hash=prev_hash,
            seq=seq,
            org_id=org_id,
            created_at=created_at.isoformat(),
            actor=actor,
            action=action,
            subject=subject,
            data=data,
        )
        session.add(
            AuditEvent(
                org_id=org_id,
                seq=seq,
                actor=actor,
                action=action,
                subject=subject,
                data=data,
                prev_hash=prev_hash,
                created_at=created_at,
                hash=digest,
            )
        )
        last[org_id] = (seq, digest)
    session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without its commit (rolled back, or the session closed) leaves
    nothing for the next one; a savepoint's end keeps what the transaction recorded."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
    for entry in events:
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(expected_seq, f"entries {expected_seq}..{entry.seq - 1} missing")
            )
        if entry.prev_hash != prev_hash:
            problems.append(ChainProblem(entry.seq, "does not follow the previous entry"))
        digest = _digest(
            prev_hash=entry.prev_hash,
            seq=entry.seq,
            org_id=entry.org_id,
            created_at=entry.created_at.replace(microsecond=0).isoformat(),
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            data=entry.data,
        )
        if digest != entry.hash:
            problems.append(ChainProblem(entry.seq, "content was edited"))
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return problems


def list_events(session: Session, *, after: int, limit: int) -> list[AuditEvent]:
    """The caller's organisation's entries after sequence number `after`, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
        )
    )
