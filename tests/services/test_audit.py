"""The audit log is append-only, hash-chained, and its verification finds tampering."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from services.core.audit import service as audit
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
