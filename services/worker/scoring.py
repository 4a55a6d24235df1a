"""The scoring flow of one answer: claim, redact, score per competency, store with evidence."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from models.scoring import Answer, RedactedText, redact
from models.scoring.registry import ArtifactError, CriterionScore
from services.core.db import unit_of_work
from services.core.interviews.orm import Answer as AnswerRow
from services.core.scoring import service as scoring
from services.core.scoring import standings
from services.core.settings import get_settings
from services.core.webhooks import service as webhooks
from services.worker import runtime
from services.worker.webhooks import TaskPublisher

log = logging.getLogger(__name__)


class TransientError(Exception):
    """The database was briefly unavailable: worth a retry."""


def score_answer(answer_id: str) -> str:
    """Score one answer with its organisation's model; returns what happened, for logs and tests."""
    settings = get_settings()
    with unit_of_work() as session:
        org_id = session.scalar(select(AnswerRow.org_id).where(AnswerRow.id == answer_id))
    if org_id is None:
        return "skipped"  # deleted since it was queued
    try:
        model = runtime.scoring_model(org_id)
    except ArtifactError:
        # Never fall back to another model: the organisation chose this one. Left unscored, the
        # answer is found again by the sweeper once the artifact is back.
        log.exception("the promoted model of organisation %s cannot be loaded", org_id)
        return "failed"
    with unit_of_work() as session:
        scoring.register_model(session, version=model.version, name=model.card.get("name", ""),
                               calibrated=model.calibrated, card=model.card)
        target = scoring.claim(session, answer_id=answer_id, model_version=model.version,
                               stale_after=dt.timedelta(seconds=settings.stuck_after_seconds))
    if target is None:
        # Done already, held by another worker, or not allowed (consent, pause). Done already
        # may be this very task, redelivered because its worker died after the scores' commit
        # and before the interview.scored check: that check is owed still (it records once).
        with unit_of_work() as session:
            done = scoring.has_scored(session, answer_id=answer_id, model_version=model.version)
        if done:
            _notify_if_interview_scored(answer_id, model.version)
        return "skipped"
    try:
        answer, redacted = _redacted_answer(target)
        result = model.score(target.competency_key, answer,
                             evidence=settings.scoring_evidence_sentences)
        records = [_record(target, redacted, result)]
    except KeyError:
        return _fail(target, model.version,
                     f"The model has no criterion {target.competency_key!r}.")
    except Exception:
        log.exception("scoring of answer %s crashed", answer_id)
        return _fail(target, model.version, "An unexpected error stopped the scoring.")
    try:
        with unit_of_work() as session:
            scoring.save_scores(session, target=target, model_version=model.version,
                                records=records)
            interview_id = session.scalar(select(AnswerRow.interview_id)
                                          .where(AnswerRow.id == answer_id))
            standings.refresh(session, interview_ids=[interview_id] if interview_id else [])
    except OperationalError as exc:
        with unit_of_work() as session:
            scoring.release(session, answer_id=answer_id, model_version=model.version)
        raise TransientError(str(exc)) from exc
    _notify_if_interview_scored(answer_id, model.version)
    return "scored"


def _notify_if_interview_scored(answer_id: str, model_version: str) -> None:
    """After the scores' commit, so of two answers scored at once the later check sees both."""
    try:
        with unit_of_work() as session:
            interview_id = session.scalar(select(AnswerRow.interview_id)
                                          .where(AnswerRow.id == answer_id))
            if interview_id is not None:
                webhooks.interview_scored(session, publisher=TaskPublisher(),
                                          interview_id=interview_id, model_version=model_version)
    except OperationalError:
        log.exception("could not record the interview.scored webhook of answer %s", answer_id)


def _fail(target: scoring.ScoringTarget, version: str, reason: str) -> str:
    with unit_of_work() as session:
        scoring.mark_failed(session, target=target, model_version=version, reason=reason)
    return "failed"


def _redacted_answer(target: scoring.ScoringTarget) -> tuple[Answer, RedactedText]:
    """Personal data out before the scorer sees a word; the candidate's name is known."""
    redacted = redact(target.transcript_text, known_names=target.names_to_redact)
    return Answer(redacted.text, target.question_text), redacted


def _record(
    target: scoring.ScoringTarget, redacted: RedactedText, result: CriterionScore
) -> scoring.ScoreRecord:
    spans = _word_spans(target.transcript_text, target.words)
    evidence = []
    for item in result.evidence:
        start, end = redacted.map_offset(item.start), redacted.map_offset(item.end)
        inside = [w for (ws, we, w) in spans if ws < end and we > start]
        evidence.append({
            "text": item.text,  # the redacted sentence: quotes never re-expose personal data
            "weight": item.weight,
            "start_char": start,
            "end_char": end,
            "start": inside[0]["start"] if inside else None,
            "end": inside[-1]["end"] if inside else None,
        })
    return scoring.ScoreRecord(competency_key=result.criterion, value=result.score,
                               level=result.level, gates=list(result.gates), evidence=evidence)


def _word_spans(text: str, words: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    """Where each timed word lies in the transcript text, found in order."""
    spans, cursor = [], 0
    for word in words:
        token = str(word.get("text", ""))
        found = text.find(token, cursor) if token else -1
        if found < 0:
            continue
        spans.append((found, found + len(token), word))
        cursor = found + len(token)
    return spans
