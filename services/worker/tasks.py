"""Thin Celery tasks: resolve ids, call one flow, return."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import OperationalError

from services.core import jobs
from services.core.db import unit_of_work
from services.core.interviews import media, processing, reminders
from services.core.ratelimit import service as ratelimit
from services.core.scoring import service as scoring_service
from services.core.scoring import training_runs
from services.core.settings import get_settings
from services.core.storage import get_storage
from services.worker import privacy, runtime, scoring, speech, training, transcription, webhooks
from services.worker.app import celery_app

log = logging.getLogger(__name__)
_TRANSIENT = (transcription.TransientError, OperationalError, ConnectionError)
_RESCORE_PAGE = 200


@celery_app.task(name=jobs.TRANSCRIBE_ANSWER, bind=True, acks_late=True)
def transcribe_answer(self, answer_id: str) -> str:  # type: ignore[no-untyped-def]
    try:
        outcome = transcription.transcribe_answer(answer_id)
    except _TRANSIENT as exc:
        if self.request.retries >= get_settings().task_max_retries:
            transcription.fail_after_retries(answer_id, f"Storage or database unavailable: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc
    if outcome == "transcribed":
        _enqueue_scoring(answer_id)
    return outcome


def _enqueue_scoring(answer_id: str) -> None:
    """Only an answer that passes the gate (consent, not paused) ever gets a scoring task."""
    with unit_of_work() as session:
        allowed = scoring_service.may_score(session, answer_id=answer_id)
    if allowed:
        score_answer.apply_async(args=[answer_id], queue=jobs.QUEUE_SCORING)


@celery_app.task(name=jobs.SCORE_ANSWER, bind=True, acks_late=True)
def score_answer(self, answer_id: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return scoring.score_answer(answer_id)
    except (scoring.TransientError, OperationalError, ConnectionError) as exc:
        if self.request.retries >= get_settings().task_max_retries:
            return "failed"  # the run was released; the sweeper will try again later
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@celery_app.task(name=jobs.SYNTHESIZE_SPEECH, bind=True, acks_late=True)
def synthesize_speech(self, text: str, voice: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Speak one avatar line into storage; running it twice leaves one file."""
    voice = voice or get_settings().tts_voice
    try:
        return speech.synthesize_line(text, voice)
    except speech.UnknownVoiceError as exc:
        # Not transient: a retry would fail the same way. The message names the voices there are.
        log.error("refusing to speak with voice %r: %s", voice, exc)
        raise
    except speech.TransientError as exc:
        if self.request.retries >= get_settings().task_max_retries:
            return "failed"  # the candidate page asks again, which queues the line again
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@celery_app.task(name=jobs.TRAIN_MODEL, acks_late=True)
def train_model(run_id: str) -> str:
    return training.run_training(run_id)


@celery_app.task(name=jobs.RESCORE_ALL)
def rescore_all(org_id: str | None = None) -> int:
    """Score every eligible answer its organisation's model has not scored; resumable by design.

    With `org_id` (a promotion) that organisation alone; without, every organisation.
    """
    queued = 0
    for version, org_ids, except_org_ids in _models_in_use(org_id):
        with unit_of_work() as session:
            pending = scoring_service.unscored(
                session, model_version=version, settled_before=dt.datetime.now(dt.UTC),
                limit=_RESCORE_PAGE, org_ids=org_ids, except_org_ids=except_org_ids,
            )
        for answer_id in pending:
            score_answer.apply_async(args=[answer_id], queue=jobs.QUEUE_SCORING)
        queued += len(pending)
        if len(pending) == _RESCORE_PAGE:
            rescore_all.apply_async(args=[org_id] if org_id else [], queue=jobs.QUEUE_DEFAULT,
                                    countdown=5)
            break
    return queued


def _models_in_use(org_id: str | None = None
                   ) -> list[tuple[str, list[str] | None, list[str]]]:
    """(model version, the organisations it scores for or None for all, those to leave out):
    each promoted model for its organisation, and the seed model for every other one."""
    with unit_of_work() as session:
        promoted = scoring_service.promoted_models(session)
    if org_id is not None:
        version = promoted.get(org_id) or runtime.seed_model().version
        return [(version, [org_id], [])]
    uses: list[tuple[str, list[str] | None, list[str]]] = [
        (runtime.seed_model().version, None, sorted(promoted))]
    by_version: dict[str, list[str]] = {}
    for org, version in promoted.items():
        by_version.setdefault(version, []).append(org)
    uses += [(version, sorted(orgs), []) for version, orgs in sorted(by_version.items())]
    return uses


@celery_app.task(name=jobs.PURGE_INTERVIEW, bind=True, acks_late=True)
def purge_interview(self, interview_id: str) -> str:  # type: ignore[no-untyped-def]
    """Delete an interview and everything about its candidate, if it is due; idempotent."""
    try:
        return privacy.purge_interview(interview_id)
    except (OperationalError, OSError) as exc:
        if self.request.retries >= get_settings().task_max_retries:
            return "failed"  # still due: the next privacy sweep publishes it again
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@celery_app.task(name=jobs.DISCARD_CHUNKS, bind=True, acks_late=True)
def discard_chunks(self, answer_id: str) -> int:  # type: ignore[no-untyped-def]
    """The chunk files of a kept take, once its whole file is stored; returns how many. Those
    of a lost publish go with the answer's folder when the interview is purged."""
    try:
        return get_storage().delete_folder(media.chunks_folder(answer_id))
    except Exception as exc:  # the disk's or S3's: retried, then left to the purge
        if self.request.retries >= get_settings().task_max_retries:
            return 0
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@celery_app.task(name=jobs.SWEEP_PRIVACY)
def sweep_privacy() -> list[str]:
    """Publish the purge of every interview whose deletion request or retention is due."""
    due = privacy.due_for_purge()
    for interview_id in due:
        purge_interview.apply_async(args=[interview_id], queue=jobs.QUEUE_DEFAULT)
    return due


@celery_app.task(name=jobs.SEND_REMINDERS)
def send_reminders() -> list[str]:
    """The one reminder each unfinished invitation gets before it expires; sent after commit."""
    with unit_of_work() as session:
        return reminders.send_due_reminders(
            session, settings=get_settings(), now=dt.datetime.now(dt.UTC)
        )


@celery_app.task(name=jobs.DELIVER_WEBHOOK, acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    """One signed POST; a failure is logged on the row and retried later with backoff."""
    outcome, retry_in = webhooks.deliver(delivery_id)
    if retry_in is not None:
        # The row holds next_attempt_at too, so the sweeper resends it if this message is lost.
        deliver_webhook.apply_async(args=[delivery_id], queue=jobs.QUEUE_DEFAULT,
                                    countdown=retry_in)
    return outcome


@celery_app.task(name=jobs.SWEEP_STUCK)
def sweep_stuck() -> list[str]:
    settings = get_settings()
    with unit_of_work() as session:
        requeue = processing.sweep(
            session,
            stuck_after=dt.timedelta(seconds=settings.stuck_after_seconds),
            max_attempts=settings.max_processing_attempts,
        )
        ratelimit.forget_old(session)  # counted events no limit looks at any more
    for answer_id in requeue:
        transcribe_answer.apply_async(args=[answer_id], queue=jobs.QUEUE_ASR)
    if requeue:
        log.info("sweeper requeued %d answers", len(requeue))
    return requeue + _sweep_scoring(settings.stuck_after_seconds) + _sweep_webhooks()


def _sweep_webhooks() -> list[str]:
    """Deliveries whose next attempt is due: a lost publish, a restarted worker's countdown."""
    deliveries = webhooks.due()
    for delivery_id in deliveries:
        deliver_webhook.apply_async(args=[delivery_id], queue=jobs.QUEUE_DEFAULT)
    return deliveries


def _sweep_scoring(stuck_after_seconds: int) -> list[str]:
    """Scoring runs a crashed worker left, and transcribed answers whose publish was lost."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stuck_after_seconds)
    answers: list[str] = []
    with unit_of_work() as session:
        for version, org_ids, except_org_ids in _models_in_use():
            answers += scoring_service.stale_runs(session, model_version=version,
                                                  started_before=cutoff)
            answers += scoring_service.unscored(session, model_version=version,
                                                settled_before=cutoff, org_ids=org_ids,
                                                except_org_ids=except_org_ids)
        runs = training_runs.requeue_stale(session, started_before=cutoff)
    for answer_id in answers:
        score_answer.apply_async(args=[answer_id], queue=jobs.QUEUE_SCORING)
    for run_id in runs:
        train_model.apply_async(args=[run_id], queue=jobs.QUEUE_SCORING)
    return answers + runs
