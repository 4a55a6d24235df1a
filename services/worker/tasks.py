"""Thin Celery tasks: resolve ids, call one flow, return."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import OperationalError

from services.core import jobs
from services.core.db import unit_of_work
from services.core.interviews import processing
from services.core.settings import get_settings
from services.worker import transcription
from services.worker.app import celery_app

log = logging.getLogger(__name__)
_TRANSIENT = (transcription.TransientError, OperationalError, ConnectionError)


@celery_app.task(name=jobs.TRANSCRIBE_ANSWER, bind=True, acks_late=True)
def transcribe_answer(self, answer_id: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return transcription.transcribe_answer(answer_id)
    except _TRANSIENT as exc:
        if self.request.retries >= get_settings().task_max_retries:
            transcription.fail_after_retries(answer_id, f"Storage or database unavailable: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@celery_app.task(name=jobs.SWEEP_STUCK)
def sweep_stuck() -> list[str]:
    settings = get_settings()
    with unit_of_work() as session:
        requeue = processing.sweep(
            session,
            stuck_after=dt.timedelta(seconds=settings.stuck_after_seconds),
            max_attempts=settings.max_processing_attempts,
        )
    for answer_id in requeue:
        transcribe_answer.apply_async(args=[answer_id], queue=jobs.QUEUE_ASR)
    if requeue:
        log.info("sweeper requeued %d answers", len(requeue))
    return requeue
