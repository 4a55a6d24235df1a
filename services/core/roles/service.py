"""The question bank and job roles: scripts and per-competency thresholds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Invalid, NotFound
from services.core.roles.orm import CompetencyThreshold, JobRole, Question, ScriptItem
from services.core.rubrics import service as rubrics


@dataclass(frozen=True)
class Threshold:
    competency_key: str
    required_level: float
    exceeds_level: float


def add_question(
    session: Session, *, org_id: str, key: str, competency_key: str, text: str
) -> Question:
    question = Question(org_id=org_id, key=key, competency_key=competency_key, text=text)
    session.add(question)
    session.flush()
    return question


def list_questions(session: Session) -> list[Question]:
    return list(session.scalars(select(Question).order_by(Question.competency_key, Question.key)))


def list_roles(session: Session) -> list[JobRole]:
    return list(session.scalars(select(JobRole).order_by(JobRole.created_at)))


def get_role(session: Session, *, role_id: str) -> JobRole:
    role = session.get(JobRole, role_id)
    if role is None:
        raise NotFound("No such role.")
    return role


def _check_thresholds(competency_keys: set[str], thresholds: list[Threshold]) -> None:
    for t in thresholds:
        if t.competency_key not in competency_keys:
            raise Invalid(
                f"The rubric has no competency {t.competency_key!r}.",
                code="unknown_competency",
                field="thresholds",
            )
        if not 1 <= t.required_level < t.exceeds_level <= 5:
            raise Invalid(
                f"For {t.competency_key}, levels must satisfy 1 <= required < exceeds <= 5.",
                code="bad_thresholds",
                field="thresholds",
            )


def create_role(
    session: Session,
    *,
    org_id: str,
    actor: str,
    title: str,
    description: str,
    rubric_version_id: str,
    question_ids: list[str],
    thresholds: list[Threshold],
    think_seconds: int = 30,
    answer_seconds: int = 150,
    retakes: int = 1,
) -> JobRole:
    """A role with its ordered script and a required and "exceeds" level per competency."""
    version = rubrics.get_version(session, rubric_version_id=rubric_version_id)
    _check_thresholds({c.key for c in version.competencies}, thresholds)
    questions = {
        q.id: q for q in session.scalars(select(Question).where(Question.id.in_(question_ids)))
    }
    if len(questions) != len(set(question_ids)) or len(question_ids) != len(set(question_ids)):
        raise Invalid(
            "Every question must exist and appear once.", code="bad_script", field="question_ids"
        )
    role = JobRole(
        org_id=org_id,
        title=title,
        description=description,
        rubric_version_id=version.id,
        think_seconds=think_seconds,
        answer_seconds=answer_seconds,
        retakes=retakes,
    )
    role.script = [
        ScriptItem(org_id=org_id, question_id=qid, position=pos)
        for pos, qid in enumerate(question_ids)
    ]
    role.thresholds = [
        CompetencyThreshold(
            org_id=org_id,
            competency_key=t.competency_key,
            required_level=t.required_level,
            exceeds_level=t.exceeds_level,
        )
        for t in thresholds
    ]
    session.add(role)
    session.flush()
    audit.record(
        session, org_id=org_id, actor=actor, action="role.create", subject=f"role:{role.id}"
    )
    return role


def set_thresholds(
    session: Session, *, actor: str, role_id: str, thresholds: list[Threshold]
) -> JobRole:
    role = get_role(session, role_id=role_id)
    version = rubrics.get_version(session, rubric_version_id=role.rubric_version_id)
    _check_thresholds({c.key for c in version.competencies}, thresholds)
    existing = {t.competency_key: t for t in role.thresholds}
    wanted = {t.competency_key: t for t in thresholds}
    role.thresholds = [t for t in role.thresholds if t.competency_key in wanted]
    session.flush()  # drop removed rows before re-adding any key
    for key, t in wanted.items():
        row = existing.get(key)
        if row is None:
            role.thresholds.append(
                CompetencyThreshold(
                    org_id=role.org_id,
                    competency_key=key,
                    required_level=t.required_level,
                    exceeds_level=t.exceeds_level,
                )
            )
        else:
            row.required_level, row.exceeds_level = t.required_level, t.exceeds_level
    session.flush()
    audit.record(
        session,
        org_id=role.org_id,
        actor=actor,
        action="role.thresholds",
        subject=f"role:{role.id}",
        data={t.competency_key: [t.required_level, t.exceeds_level] for t in thresholds},
    )
    return role


def set_ai_scoring_paused(
    session: Session, *, actor: str, role_id: str, paused: bool, reason: str
) -> JobRole:
    """Stop (or restart) AI scoring for a role: while paused no scoring task is created.

    Answers that arrive meanwhile stay unscored; the caller queues a re-score on resuming.
    """
    role = get_role(session, role_id=role_id)
    if len(reason.strip()) < 5:
        raise Invalid("Give a reason.", code="reason_required", field="reason")
    role.ai_scoring_paused = paused
    audit.record(
        session,
        org_id=role.org_id,
        actor=actor,
        action="role.ai_scoring_paused" if paused else "role.ai_scoring_resumed",
        subject=f"role:{role.id}",
        data={"reason": reason.strip()},
    )
    return role


def set_feedback(
    session: Session, *, actor: str, role_id: str, enabled: bool, delay_days: int
) -> JobRole:
    """Offer (or stop offering) the feedback report (interviews/feedback.py) for a role; logged."""
    role = get_role(session, role_id=role_id)
    role.feedback_enabled, role.feedback_delay_days = enabled, delay_days
    audit.record(
        session,
        org_id=role.org_id,
        actor=actor,
        action="role.feedback_changed",
        subject=f"role:{role.id}",
        data={"enabled": enabled, "delay_days": delay_days},
    )
    return role
