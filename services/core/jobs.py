"""The contract between the API (which publishes) and the worker (which runs): names and queues.

Core knows no Celery: it names tasks and hands them to a `JobPublisher` after the commit.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from services.core.db import after_commit

TRANSCRIBE_ANSWER = "answer.transcribe"
SCORE_ANSWER = "answer.score"
RESCORE_ALL = "scoring.rescore"
TRAIN_MODEL = "training.run"
SWEEP_STUCK = "maintenance.sweep"
SYNTHESIZE_SPEECH = "speech.synthesize"
PURGE_INTERVIEW = "privacy.purge"
SWEEP_PRIVACY = "privacy.sweep"
DELIVER_WEBHOOK = "webhook.deliver"
SEND_REMINDERS = "invitation.remind"
DISCARD_CHUNKS = "answer.discard_chunks"

QUEUE_ASR = "asr"
QUEUE_SCORING = "scoring"
QUEUE_DEFAULT = "default"

TASK_QUEUES: dict[str, str] = {
    TRANSCRIBE_ANSWER: QUEUE_ASR,
    SCORE_ANSWER: QUEUE_SCORING,
    RESCORE_ALL: QUEUE_DEFAULT,
    TRAIN_MODEL: QUEUE_SCORING,
    SWEEP_STUCK: QUEUE_DEFAULT,
    SYNTHESIZE_SPEECH: QUEUE_DEFAULT,
    PURGE_INTERVIEW: QUEUE_DEFAULT,
    SWEEP_PRIVACY: QUEUE_DEFAULT,
    DELIVER_WEBHOOK: QUEUE_DEFAULT,
    SEND_REMINDERS: QUEUE_DEFAULT,
    DISCARD_CHUNKS: QUEUE_DEFAULT,
}


class JobPublisher(Protocol):
    def publish(self, task_name: str, *args: str) -> None: ...


def publish_after_commit(
    session: Session, publisher: JobPublisher, task_name: str, *args: str
) -> None:
    """Publish only once the rows the job reads are committed; the sweeper covers a lost publish."""
    after_commit(session, lambda: publisher.publish(task_name, *args))
