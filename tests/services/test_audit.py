"""The audit log is append-only, hash-chained, and its verification finds tampering."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from services.core.audit import service as audit
from services.core.audit.orm import AuditEvent
from services.core.db import get_engine, unit_of_work
from tests.services.conftest import World


def test_the_chain_of_a_real_flow_verifies(world: World) -> None:
    admin = world.staff(world.a, "admin")
    result = admin.get("/api/v1/audit/verify").json()
    assert result == {"intact": True, "problems": []}
    actions = [e["action"] for e in admin.get("/api/v1/audit").json()]
    assert {
        "user.create",
        "role.create",
        "invitation.create",
        "consent.given",
        "answer.uploaded",
        "auth.login",
    } <= set(actions)


def test_the_database_refuses_edits_and_deletions(world: World) -> None:
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError), unit_of_work() as session:
            session.execute(text(statement))


def test_verification_finds_an_edited_entry(sqlite_world: World) -> None:
    with get_engine().begin() as conn:  # someone with the database's keys bypasses the trigger
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(
            text(
                'UPDATE audit_events SET data = \'{"role": "admin"}\' WHERE seq = 2 '
                "AND org_id = :org"
            ),
            {"org": sqlite_world.a.org_id},
        )
    with unit_of_work() as session:
        problems = audit.verify(session, org_id=sqlite_world.a.org_id)
        untouched = audit.verify(session, org_id=sqlite_world.b.org_id)
    assert [(p.seq, p.problem) for p in problems][:1] == [(2, "content was edited")]
    assert untouched == []


def test_a_position_past_a_32_bit_sequence_number_is_refused_not_a_500(world: World) -> None:
    admin = world.staff(world.a, "admin")
    assert admin.get("/api/v1/audit", params={"after": 2**31 - 1}).json() == []
    refused = admin.get("/api/v1/audit", params={"after": 2**31})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "validation_error"


def _chain(org_id: str) -> list[tuple[int, str]]:
    with unit_of_work() as session:
        return [
            (e.seq, e.action)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq)
            )
        ]


def test_writers_at_once_keep_one_unbroken_chain(world: World) -> None:
    """Each append takes the next number at its commit, however the transactions interleave."""
    before = len(_chain(world.a.org_id))
    start = threading.Barrier(12, timeout=60)

    def write(n: int) -> None:
        with unit_of_work() as session:
            audit.record(session, org_id=world.a.org_id, actor="system", action="test.write",
                         subject=f"test:{n}", data={"n": n})
            start.wait()  # every transaction is open, its event recorded, before any commits
            audit.record(session, org_id=world.a.org_id, actor="system", action="test.again",
                         subject=f"test:{n}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chain = _chain(world.a.org_id)
    assert [seq for seq, _ in chain] == list(range(1, before + 25))
    # A transaction's events stay together, in the order it recorded them.
    added = [action for _, action in chain[before:]]
    assert added == ["test.write", "test.again"] * 12
    with unit_of_work() as session:
        assert audit.verify(session, org_id=world.a.org_id) == []


def test_a_transaction_that_rolls_back_appends_nothing(world: World) -> None:
    before = _chain(world.a.org_id)
    with pytest.raises(RuntimeError), unit_of_work() as session:
        audit.record(session, org_id=world.a.org_id, actor="system", action="test.lost",
                     subject="test:0")
        raise RuntimeError("the request failed")
    with unit_of_work() as session:
        audit.record(session, org_id=world.a.org_id, actor="system", action="test.kept",
                     subject="test:1")
    assert _chain(world.a.org_id) == [*before, (len(before) + 1, "test.kept")]


def test_a_savepoint_that_rolls_back_keeps_what_its_transaction_recorded(world: World) -> None:
    before = _chain(world.a.org_id)
    with unit_of_work() as session:
        audit.record(session, org_id=world.a.org_id, actor="system", action="test.kept",
                     subject="test:2")
        savepoint = session.begin_nested()
        savepoint.rollback()
    assert _chain(world.a.org_id) == [*before, (len(before) + 1, "test.kept")]
