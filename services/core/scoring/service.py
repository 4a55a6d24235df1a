"""Which answers may be scored, the claim of a scoring run, stored scores and their bands.

The gate is here, in one place: an answer is scored only if its transcript exists, its
interview holds an accepted consent to the current notice, and its role's AI scoring is not
paused. Core knows no model: the worker passes the version and the numbers in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.db import insert_unless_present, new_id, utcnow
from services.core.interviews.candidate import NOTICE_VERSION
from services.core.interviews.orm import Answer, Consent, Interview, Score, Transcript
from services.core.interviews.states import AnswerState
from services.core.organisations.orm import Organisation
from services.core.roles.orm import CompetencyThreshold, JobRole, Question
from services.core.scoring.orm import ScoringModelRecord, ScoringRun

RUNNING, SCORED, FAILED = "running", "scored", "failed"
BELOW, MEETS, EXCEEDS = "below", "meets", "exceeds"


@dataclass(frozen=True)
class ScoringTarget:
    """What the worker needs to score one answer, and nothing about the person but a name
    to redact."""

    answer_id: str
    org_id: str
    competency_key: str
    question_text: str
    transcript_text: str
    words: list[dict[str, Any]]
    asr_version: str
    rubric_version_id: str
    names_to_redact: tuple[str, ...]


@dataclass(frozen=True)
class ScoreRecord:
    """One competency's result, as the worker computed it."""

    competency_key: str
    value: float
    level: float
    gates: list[str]
    evidence: list[dict[str, Any]] = field(default_factory=list)


def _consented():  # type: ignore[no-untyped-def]
    return exists().where(
        Consent.interview_id == Interview.id,
        Consent.accepted.is_(True),
        Consent.notice_version == NOTICE_VERSION,
    )


def may_score(session: Session, *, answer_id: str) -> bool:
    """Whether the answer passes the gate: transcribed, consented, scoring not paused."""
    row = session.execute(
        select(Answer.id)
        .join(Interview, Interview.id == Answer.interview_id)
        .join(JobRole, JobRole.id == Interview.role_id)
        .where(
            Answer.id == answer_id,
            Answer.state == AnswerState.TRANSCRIBED,
            JobRole.ai_scoring_paused.is_(False),
            _consented(),
        )
        .execution_options(include_all_organisations=True)
    ).first()
    return row is not None


def _target(session: Session, answer_id: str) -> ScoringTarget | None:
    answer = session.get(Answer, answer_id)
    if answer is None or not may_score(session, answer_id=answer_id):
        return None
    interview = session.get(Interview, answer.interview_id)
    question = session.get(Question, answer.question_id)
    transcript = session.scalars(
        select(Transcript).where(Transcript.answer_id == answer_id)
        .order_by(Transcript.created_at.desc())
    ).first()
    assert interview is not None and question is not None
    if transcript is None:
        return None
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    return ScoringTarget(
        answer_id=answer.id,
        org_id=answer.org_id,
        competency_key=question.competency_key,
        question_text=question.text,
        transcript_text=transcript.text,
        words=list(transcript.words),
        asr_version=transcript.asr_version,
        rubric_version_id=role.rubric_version_id,
        names_to_redact=(interview.candidate.name,),
    )


def claim(
    session: Session, *, answer_id: str, model_version: str, stale_after: dt.timedelta
) -> ScoringTarget | None:
    """Take the scoring of one answer with one model; None if it is done, held, or not allowed."""
    target = _target(session, answer_id)
    if target is None:
        return None
    now = utcnow()
    if insert_unless_present(
        session,
        ScoringRun.__table__,
        {"id": new_id(), "org_id": target.org_id, "answer_id": answer_id,
         "model_version": model_version, "state": RUNNING, "attempts": 1, "started_at": now,
         "created_at": now},
        key=["answer_id", "model_version"],
    ):
        return target
    # An earlier run exists: take it over only if the worker that held it died (stale).
    taken = session.execute(
        update(ScoringRun)
        .where(
            ScoringRun.answer_id == answer_id,
            ScoringRun.model_version == model_version,
            ScoringRun.state == RUNNING,
            ScoringRun.started_at < now - stale_after,
        )
        .values(started_at=now, attempts=ScoringRun.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return target if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def register_model(session: Session, *, version: str, name: str, calibrated: bool,
                   card: dict[str, Any]) -> None:
    """Keep the card of every model that scores, once per version."""
    if session.scalar(select(ScoringModelRecord).where(ScoringModelRecord.version == version)):
        return
    session.add(ScoringModelRecord(version=version, name=name, calibrated=calibrated, card=card))
    session.flush()


def band(value: float, threshold: CompetencyThreshold | None, *, levels: tuple[float, float]
         = (1.0, 5.0)) -> str | None:
    """Below, meets or exceeds a role's threshold, comparing on the 0-100 scale."""
    if threshold is None:
        return None
    if value >= level_score(threshold.exceeds_level, levels=levels):
        return EXCEEDS
    return MEETS if value >= level_score(threshold.required_level, levels=levels) else BELOW


def level_score(level: float, *, levels: tuple[float, float] = (1.0, 5.0)) -> float:
    """A level of the rubric's scale on the 0-100 scale of scores (level 1 is 0, level 5 is 100)."""
    low, high = levels
    return (level - low) / (high - low) * 100


def save_scores(
    session: Session, *, target: ScoringTarget, model_version: str, records: list[ScoreRecord]
) -> None:
    """Store the scores once per (answer, competency, model version), close the run, log it."""
    for record in records:
        insert_unless_present(
            session,
            Score.__table__,
            {"id": new_id(), "org_id": target.org_id, "answer_id": target.answer_id,
             "competency_key": record.competency_key, "value": record.value,
             "level": record.level, "gates": record.gates,
             "rubric_version_id": target.rubric_version_id, "model_version": model_version,
             "asr_version": target.asr_version, "evidence": record.evidence,
             "created_at": utcnow()},
            key=["answer_id", "competency_key", "model_version"],
        )
    _close(session, target.answer_id, model_version, SCORED, None)
    answer = session.get(Answer, target.answer_id)
    assert answer is not None
    interview = session.get(Interview, answer.interview_id)
    assert interview is not None
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    thresholds = {t.competency_key: t for t in role.thresholds}
    audit.record(
        session,
        org_id=target.org_id,
        actor="system",
        action="answer.scored",
        subject=f"answer:{target.answer_id}",
        data={
            "candidate_id": interview.candidate_id,
            "role_id": interview.role_id,
            "audio_sha256": answer.sha256,
            "asr_version": target.asr_version,
            "rubric_version_id": target.rubric_version_id,
            "model_version": model_version,
            "scores": {r.competency_key: r.value for r in records},
            "bands": {r.competency_key: band(r.value, thresholds.get(r.competency_key))
                      for r in records},
        },
    )


def _close(session: Session, answer_id: str, model_version: str, state: str,
           reason: str | None) -> None:
    session.execute(
        update(ScoringRun)
        .where(ScoringRun.answer_id == answer_id, ScoringRun.model_version == model_version)
        .values(state=state, failure_reason=reason)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, *, target: ScoringTarget, model_version: str,
                reason: str) -> None:
    _close(session, target.answer_id, model_version, FAILED, reason)
    audit.record(session, org_id=target.org_id, actor="system", action="answer.scoring_failed",
                 subject=f"answer:{target.answer_id}", data={"model_version": model_version})


def release(session: Session, *, answer_id: str, model_version: str) -> None:
    """Give a run back after a transient error: delete the claim so the retry can take it."""
    session.execute(
        ScoringRun.__table__.delete().where(
            ScoringRun.answer_id == answer_id,
            ScoringRun.model_version == model_version,
            ScoringRun.state == RUNNING,
        )
    )


def has_scored(session: Session, *, answer_id: str, model_version: str) -> bool:
    return session.scalar(
        select(ScoringRun.id).where(ScoringRun.answer_id == answer_id,
                                    ScoringRun.model_version == model_version,
                                    ScoringRun.state == SCORED)
    ) is not None


def promoted_models(session: Session) -> dict[str, str]:
    """Organisation -> the model a person promoted for it; the others score with the seed."""
    return dict(session.execute(
        select(Organisation.id, Organisation.scoring_model_version)
        .where(Organisation.scoring_model_version.is_not(None))
    ).all())  # type: ignore[arg-type]


def promoted_model(session: Session, *, org_id: str) -> str | None:
    return session.scalar(select(Organisation.scoring_model_version)
                          .where(Organisation.id == org_id))


def unscored(session: Session, *, model_version: str, settled_before: dt.datetime,
             limit: int = 500, org_ids: Iterable[str] | None = None,
             except_org_ids: Iterable[str] = ()) -> list[str]:
    """Answers that may be scored but have no finished or running run of this model.

    It is both the sweeper's query (a publish was lost) and the resumable batch re-score after a
    promotion: run it again and it finds only what is still left. `org_ids` limits it to the
    organisations the model scores for, `except_org_ids` leaves out those with a model of
    their own.
    """
    has_run = exists().where(ScoringRun.answer_id == Answer.id,
                             ScoringRun.model_version == model_version)
    rows = session.scalars(
        select(Answer.id)
        .join(Interview, Interview.id == Answer.interview_id)
        .join(JobRole, JobRole.id == Interview.role_id)
        .where(
            Answer.state == AnswerState.TRANSCRIBED,
            Answer.state_changed_at < settled_before,
            JobRole.ai_scoring_paused.is_(False),
            _consented(),
            ~has_run,
            *([Answer.org_id.in_(list(org_ids))] if org_ids is not None else []),
            *([Answer.org_id.not_in(list(excluded))] if (excluded := list(except_org_ids))
              else []),
        )
        .order_by(Answer.state_changed_at)
        .limit(limit)
        .execution_options(include_all_organisations=True)
    )
    return list(rows)


def stale_runs(session: Session, *, model_version: str, started_before: dt.datetime) -> list[str]:
    return list(session.scalars(
        select(ScoringRun.answer_id)
        .where(ScoringRun.model_version == model_version, ScoringRun.state == RUNNING,
               ScoringRun.started_at < started_before)
        .execution_options(include_all_organisations=True)
    ))
