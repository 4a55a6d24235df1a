"""The worker's side of an answer: claim it, store its transcript or its failure, sweep the stuck."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.db import insert_unless_present, new_id, utcnow
from services.core.interviews.orm import Answer, Transcript
from services.core.interviews.states import AnswerState


@dataclass(frozen=True)
class ClaimedAnswer:
    answer_id: str
    org_id: str
    media_key: str
    attempts: int


@dataclass(frozen=True)
class TranscriptRecord:
    asr_version: str
    text: str
    language: str
    language_probability: float
    words: list[dict[str, Any]]
    speech_regions: list[list[float]]
    quality_flags: list[str]
    duration_seconds: float
    speech_seconds: float
    processing_seconds: float
    audio_sha256: str


def claim_for_transcription(
    session: Session, *, answer_id: str, stale_after: dt.timedelta
) -> ClaimedAnswer | None:
    """Take the answer if it waits, or if a crashed worker left it mid-way; None if not ours."""
    now = utcnow()
    result = session.execute(
        update(Answer)
        .where(
            Answer.id == answer_id,
            or_(
                Answer.state == AnswerState.UPLOADED,
                (Answer.state == AnswerState.TRANSCRIBING)
                & (Answer.state_changed_at < now - stale_after),
            ),
        )
        .values(state=AnswerState.TRANSCRIBING, state_changed_at=now, attempts=Answer.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    answer = session.get(Answer, answer_id, populate_existing=True)
    assert answer is not None and answer.media_key is not None
    return ClaimedAnswer(
        answer_id=answer.id,
        org_id=answer.org_id,
        media_key=answer.media_key,
        attempts=answer.attempts,
    )


def _finish(session: Session, answer_id: str, target: AnswerState, **values: Any) -> bool:
    """Move a claimed answer to its final state; False if someone else already finished it."""
    result = session.execute(
        update(Answer)
        .where(Answer.id == answer_id, Answer.state == AnswerState.TRANSCRIBING)
        .values(state=target, state_changed_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def save_transcript(session: Session, *, claim: ClaimedAnswer, record: TranscriptRecord) -> None:
    """Store the transcript once per (answer, ASR version) and close the answer."""
    target = AnswerState.TRANSCRIBED if record.words else AnswerState.NO_SPEECH
    if not _finish(
        session,
        claim.answer_id,
        target,
        duration_seconds=record.duration_seconds,
        speech_seconds=record.speech_seconds,
    ):
        return
    if target == AnswerState.TRANSCRIBED:
        insert_unless_present(
            session,
            Transcript.__table__,
            {
                "id": new_id(),
                "org_id": claim.org_id,
                "answer_id": claim.answer_id,
                "asr_version": record.asr_version,
                "text": record.text,
                "language": record.language,
                "language_probability": record.language_probability,
                "words": record.words,
                "speech_regions": record.speech_regions,
                "quality_flags": record.quality_flags,
                "processing_seconds": record.processing_seconds,
                "created_at": utcnow(),
            },
            key=["answer_id", "asr_version"],
        )
    audit.record(
        session,
        org_id=claim.org_id,
        actor="system",
        action=f"answer.{target.value}",
        subject=f"answer:{claim.answer_id}",
        data={
            "audio_sha256": record.audio_sha256,
            "asr_version": record.asr_version,
            "speech_seconds": round(record.speech_seconds, 2),
        },
    )


def mark_failed(session: Session, *, claim: ClaimedAnswer, code: str, reason: str) -> None:
    """A permanent failure: the answer will not be retried, and says why."""
    if _finish(
        session, claim.answer_id, AnswerState.FAILED, failure_code=code, failure_reason=reason
    ):
        audit.record(
            session,
            org_id=claim.org_id,
            actor="system",
            action="answer.failed",
            subject=f"answer:{claim.answer_id}",
            data={"code": code},
        )


def release(session: Session, *, claim: ClaimedAnswer) -> None:
    """Give a claimed answer back after a transient error, for the retry to claim again."""
    session.execute(
        update(Answer)
        .where(Answer.id == claim.answer_id, Answer.state == AnswerState.TRANSCRIBING)
        .values(state=AnswerState.UPLOADED, state_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def sweep(session: Session, *, stuck_after: dt.timedelta, max_attempts: int) -> list[str]:
    """Answers waiting or working for too long: fail those out of attempts, return the rest to requeue."""
    cutoff = utcnow() - stuck_after
    stuck = list(
        session.scalars(
            select(Answer)
            .where(
                Answer.state.in_([AnswerState.UPLOADED, AnswerState.TRANSCRIBING]),
                Answer.state_changed_at < cutoff,
            )
            .execution_options(include_all_organisations=True)
        )
    )
    requeue: list[str] = []
    for answer in stuck:
        if answer.attempts >= max_attempts:
            answer.state = AnswerState.FAILED
            answer.state_changed_at = utcnow()
            answer.failure_code = "gave_up"
            answer.failure_reason = (
                f"Transcription did not finish after {answer.attempts} attempts."
            )
            audit.record(
                session,
                org_id=answer.org_id,
                actor="system",
                action="answer.failed",
                subject=f"answer:{answer.id}",
                data={"code": "gave_up"},
            )
        else:
            if answer.state == AnswerState.UPLOADED:
                answer.state_changed_at = utcnow()  # do not requeue it again at the next sweep
            requeue.append(answer.id)
    return requeue
