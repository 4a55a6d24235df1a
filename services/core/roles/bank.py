"""The question bank Parley ships: behavioural questions for the default rubric's competencies."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.roles.orm import Question
from services.core.rubrics.service import DATA


@dataclass(frozen=True)
class BankQuestion:
    key: str
    competency_key: str
    text: str


@functools.cache
def question_bank() -> tuple[BankQuestion, ...]:
    """Every shipped question, in the file's order (grouped by competency)."""
    items = json.loads((DATA / "question_bank.json").read_text(encoding="utf-8"))
    return tuple(BankQuestion(q["key"], q["competency"], q["text"]) for q in items)


def install_bank(session: Session, *, org_id: str, actor: str) -> int:
    """Add the shipped questions the organisation lacks (matched by key); return how many."""
    if session.get_bind().dialect.name == "postgresql":
        # Two installs at once would otherwise both insert the same keys.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"bank:{org_id}"}
        )
    existing = set(session.scalars(select(Question.key).where(Question.org_id == org_id)))
    missing = [q for q in question_bank() if q.key not in existing]
    session.add_all(
        Question(org_id=org_id, key=q.key, competency_key=q.competency_key, text=q.text)
        for q in missing
    )
    session.flush()
    if missing:
        audit.record(
            session,
            org_id=org_id,
            actor=actor,
            action="question_bank.install",
            subject=f"organisation:{org_id}",
            data={"added": [q.key for q in missing]},
        )
    return len(missing)
