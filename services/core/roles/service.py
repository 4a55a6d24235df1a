"""The question bank and job roles: scripts and per-competency thresholds."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Conflict, Invalid, NotFound
from services.core.interviews.orm import Consent, Interview
from services.core.roles.orm import CompetencyThreshold, JobRole, Question, ScriptItem
from services.core.rubrics import service as rubrics
from services.core.scoring import standings


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


# Spoken by the avatar and read by the candidate: long enough to ask for one real situation,
# short enough to hold in mind while thinking.
QUESTION_CHARS = (20, 600)


def write_question(
    session: Session,
    *,
    org_id: str,
    actor: str,
    rubric_version_id: str,
    competency_key: str,
    text: str,
) -> Question:
    """A question of the organisation's own for one competency of a rubric version; logged."""
    version = rubrics.get_version(session, rubric_version_id=rubric_version_id)
    if competency_key not in {c.key for c in version.competencies}:
        raise Invalid(
            f"{version.name} version {version.version} has no competency {competency_key!r}.",
            code="unknown_competency",
            field="competency_key",
        )
    text = " ".join(text.split())
    low, high = QUESTION_CHARS
    if not low <= len(text) <= high:
        raise Invalid(
            f"A question needs {low} to {high} characters; this one has {len(text)}.",
            code="bad_question_length",
            field="text",
        )
    same = session.scalar(select(Question.id).where(func.lower(Question.text) == text.lower()))
    if same is not None:
        raise Conflict(
            "Your organisation already has this question.", code="duplicate_question",
            question_id=same,
        )
    key = f"custom-{competency_key}-{secrets.token_hex(4)}"
    question = add_question(
        session, org_id=org_id, key=key, competency_key=competency_key, text=text
    )
    audit.record(
        session, org_id=org_id, actor=actor, action="question.create",
        subject=f"question:{question.id}",
        data={"key": key, "competency_key": competency_key, "rubric_version_id": version.id},
    )
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
    keys = [t.competency_key for t in thresholds]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise Invalid(
            f"Each competency takes one pair of levels; repeated: {', '.join(repeated)}.",
            code="duplicate_threshold",
            field="thresholds",
        )
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


def _check_script(session: Session, question_ids: list[str], competency_keys: set[str]) -> None:
    found = list(session.scalars(select(Question).where(Question.id.in_(question_ids))))
    if len(found) != len(set(question_ids)) or len(question_ids) != len(set(question_ids)):
        raise Invalid(
            "Every question must exist and appear once.", code="bad_script", field="question_ids"
        )
    outside = sorted({q.competency_key for q in found} - competency_keys)
    if outside:
        raise Invalid(
            f"The rubric version has no competency {', '.join(outside)}: its questions could "
            "not be scored.",
            code="question_outside_rubric",
            field="question_ids",
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
    _check_script(session, question_ids, {c.key for c in version.competencies})
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


def candidates_started(session: Session, *, role_id: str) -> bool:
    """Whether a candidate of the role has answered the consent step (accepted or declined)."""
    started = exists().where(Consent.interview_id == Interview.id, Interview.role_id == role_id)
    return bool(session.scalar(select(started)))


# What every candidate of a role must share: fixed once the first one has started.
LOCKED_ONCE_STARTED = ("rubric_version_id", "question_ids", "retakes")


def _summary(role: JobRole) -> dict[str, object]:
    """What the audit log keeps of a role before and after an edit."""
    return {
        "title": role.title,
        "description": role.description,
        "rubric_version_id": role.rubric_version_id,
        "question_ids": [item.question_id for item in role.script],
        "think_seconds": role.think_seconds,
        "answer_seconds": role.answer_seconds,
        "retakes": role.retakes,
        "thresholds": {
            t.competency_key: [t.required_level, t.exceeds_level] for t in role.thresholds
        },
    }


def _check_unlocked(
    session: Session, *, role_id: str, before: dict[str, object], wanted: dict[str, object]
) -> None:
    locked = [key for key in LOCKED_ONCE_STARTED if before[key] != wanted[key]]
    if locked and candidates_started(session, role_id=role_id):
        raise Conflict(
            "Candidates have started this interview, so its questions, their order, the rubric "
            "version and the retakes can no longer change: every candidate gets the same "
            "interview. Create a new role for a different script.",
            code="role_locked",
            fields=locked,
        )


def update_role(
    session: Session,
    *,
    actor: str,
    role_id: str,
    title: str,
    description: str,
    rubric_version_id: str,
    question_ids: list[str],
    thresholds: list[Threshold],
    think_seconds: int,
    answer_seconds: int,
    retakes: int,
) -> JobRole:
    """Edit a role. Once a candidate has started, its script, rubric version and retakes stay
    as they are (409), so every candidate gets the same interview; the rest may change, and
    new times apply to the questions a candidate has not reached yet."""
    role = get_role(session, role_id=role_id)
    before = _summary(role)
    _check_unlocked(session, role_id=role.id, before=before, wanted={
        "rubric_version_id": rubric_version_id, "question_ids": question_ids, "retakes": retakes,
    })
    version = rubrics.get_version(session, rubric_version_id=rubric_version_id)
    _check_thresholds({c.key for c in version.competencies}, thresholds)
    _check_script(session, question_ids, {c.key for c in version.competencies})
    role.title, role.description, role.rubric_version_id = title, description, version.id
    role.think_seconds, role.answer_seconds, role.retakes = think_seconds, answer_seconds, retakes
    if before["question_ids"] != question_ids:
        role.script = []
        session.flush()  # the old positions go before the new ones take them
        role.script = [
            ScriptItem(org_id=role.org_id, question_id=qid, position=pos)
            for pos, qid in enumerate(question_ids)
        ]
    _replace_thresholds(session, role, thresholds)
    session.refresh(role)
    after = _summary(role)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        audit.record(
            session, org_id=role.org_id, actor=actor, action="role.update",
            subject=f"role:{role.id}",
            data={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}},
        )
    return role


def set_thresholds(
    session: Session, *, actor: str, role_id: str, thresholds: list[Threshold]
) -> JobRole:
    role = get_role(session, role_id=role_id)
    version = rubrics.get_version(session, rubric_version_id=role.rubric_version_id)
    _check_thresholds({c.key for c in version.competencies}, thresholds)
    _replace_thresholds(session, role, thresholds)
    audit.record(
        session,
        org_id=role.org_id,
        actor=actor,
        action="role.thresholds",
        subject=f"role:{role.id}",
        data={t.competency_key: [t.required_level, t.exceeds_level] for t in thresholds},
    )
    return role


def _replace_thresholds(session: Session, role: JobRole, thresholds: list[Threshold]) -> None:
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
    standings.reband(session, role=role)


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
