"""What staff see of scores: per answer, per competency against the role, the model in use."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db import ORG_SCOPE
from services.core.interviews.orm import Interview, Score
from services.core.roles.orm import JobRole
from services.core.scoring.orm import ScoreOverride, ScoringModelRecord
from services.core.scoring.service import band, promoted_model


@dataclass(frozen=True)
class Override:
    value: float
    reason: str
    actor_id: str | None
    at: dt.datetime


@dataclass(frozen=True)
class CompetencyResult:
    """One competency of one interview: the mean of its answers' scores, and its band.

    `score` and `band` are a person's override when there is one; `model_score` is always the
    model's own mean.
    """

    key: str
    score: float
    band: str | None
    required_level: float | None
    exceeds_level: float | None
    answers: int
    model_score: float | None = None
    override: Override | None = None


def overrides_of(session: Session, *, interview_id: str) -> dict[str, Override]:
    """The override in force per competency: the newest row, unless it put the model back."""
    newest: dict[str, ScoreOverride] = {}
    rows = session.scalars(
        select(ScoreOverride)
        .where(ScoreOverride.interview_id == interview_id)
        .order_by(ScoreOverride.created_at, ScoreOverride.id)
    )
    for row in rows:
        newest[row.competency_key] = row
    return {
        key: Override(row.value, row.reason, row.actor_id, row.created_at)
        for key, row in newest.items()
        if row.value is not None
    }


@dataclass(frozen=True)
class ModelInUse:
    version: str | None
    name: str
    calibrated: bool


def model_in_use(session: Session) -> ModelInUse:
    """The model that scores for the caller's organisation: the one its psychologists promoted
    (calibration/promotion.py), else the uncalibrated seed model that scored most recently.

    Before anything is scored it is the seed model, which is never calibrated.
    """
    org_id = session.info.get(ORG_SCOPE)
    promoted = promoted_model(session, org_id=org_id) if org_id else None
    record = session.scalars(
        select(ScoringModelRecord)
        .where(ScoringModelRecord.version == promoted if promoted
               else ScoringModelRecord.calibrated.is_(False))
        .order_by(ScoringModelRecord.created_at.desc())
    ).first()
    if record is None:
        return ModelInUse(None, "Parley seed model (uncalibrated demo)", False)
    return ModelInUse(record.version, record.name, record.calibrated)


def scores_of(session: Session, *, answer_ids: Iterable[str]) -> dict[str, list[Score]]:
    """Each answer's scores from the newest model that scored it; older ones stay for the audit."""
    ids = list(answer_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(Score).where(Score.answer_id.in_(ids)).order_by(Score.created_at.desc())
    )
    newest: dict[str, str] = {}
    found: dict[str, list[Score]] = defaultdict(list)
    for score in rows:
        version = newest.setdefault(score.answer_id, score.model_version)
        if score.model_version == version:
            found[score.answer_id].append(score)
    return dict(found)


def competencies_of(
    session: Session,
    *,
    interview: Interview,
    scores: dict[str, list[Score]],
    with_overrides: bool = True,
) -> list[CompetencyResult]:
    """Per competency of the role: the mean score of the answers that assess it, and the band.

    With `with_overrides` a person's override replaces the model's mean (the model's stays in
    `model_score`); without, the model's output alone, as a bias audit of the tool needs it.
    """
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    thresholds = {t.competency_key: t for t in role.thresholds}
    overrides = overrides_of(session, interview_id=interview.id) if with_overrides else {}
    values: dict[str, list[float]] = defaultdict(list)
    for answer_scores in scores.values():
        for score in answer_scores:
            values[score.competency_key].append(score.value)
    results = []
    for key in sorted(set(values) | set(thresholds)):
        threshold = thresholds.get(key)
        mean = round(statistics.fmean(values[key]), 1) if values[key] else None
        if mean is None:
            continue
        override = overrides.get(key)
        score = override.value if override else mean
        results.append(CompetencyResult(
            key=key, score=score, band=band(score, threshold),
            required_level=threshold.required_level if threshold else None,
            exceeds_level=threshold.exceeds_level if threshold else None,
            answers=len(values[key]), model_score=mean, override=override,
        ))
    return results


def overall_fit(results: list[CompetencyResult]) -> float | None:
    """The mean over competencies: each competency counts once, however many questions it has."""
    return round(statistics.fmean(r.score for r in results), 1) if results else None


@dataclass(frozen=True)
class RankedCandidate:
    interview: Interview
    competencies: list[CompetencyResult]
    fit: float | None


def ranked(
    session: Session, *, interviews: Iterable[Interview], with_overrides: bool = True
) -> list[RankedCandidate]:
    """Interviews by overall fit, best first; unscored ones follow in their given order.

    Ranking orders, it never filters: every interview given comes back. Computed from the
    scores per call: the staff list reads the stored standings instead (scoring/standings.py);
    this stays as the reference they are tested against and the benchmark's baseline.
    """
    rows = []
    for interview in interviews:
        answer_scores = scores_of(session, answer_ids=[a.id for a in interview.answers])
        competencies = competencies_of(
            session, interview=interview, scores=answer_scores, with_overrides=with_overrides
        )
        rows.append(RankedCandidate(interview, competencies, overall_fit(competencies)))
    return sorted(rows, key=lambda r: (r.fit is None, -(r.fit or 0.0)))
