"""The Celery application: named tasks on the `asr`, `scoring` and `default` queues."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init
from kombu import Queue

from models.scoring import embeddings
from services.core import jobs
from services.core.settings import get_settings

# Deletion requests are purged when they fall due within the next hour (interviews/privacy.py
# PURGE_AHEAD), so four sweeps an hour carry each one out before its due time.
PRIVACY_SWEEP_SECONDS = 900.0
# Reminders are due days ahead (PARLEY_REMINDER_DAYS_BEFORE_EXPIRY): hourly is on time.
REMINDER_SWEEP_SECONDS = 3600.0


def _transport_options(broker_url: str, stuck_after_seconds: int) -> dict[str, object]:
    if broker_url.startswith(("redis://", "rediss://")):
        # Longer than the longest transcription, so Redis does not redeliver a running task.
        return {"visibility_timeout": 3 * stuck_after_seconds}
    return {}  # the embedded SQLAlchemy transport hands these options to create_engine()


def create_celery() -> Celery:
    settings = get_settings()
    embeddings.keep_derived_in(settings.model_cache_dir)
    app = Celery("parley", broker=settings.broker_url, include=["services.worker.tasks"])
    app.conf.update(
        task_queues=[Queue(jobs.QUEUE_ASR), Queue(jobs.QUEUE_SCORING), Queue(jobs.QUEUE_DEFAULT)],
        task_default_queue=jobs.QUEUE_DEFAULT,
        task_routes={name: {"queue": queue} for name, queue in jobs.TASK_QUEUES.items()},
        # A task is acknowledged only when it has finished, so a killed worker's task is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(
            settings.broker_url, settings.stuck_after_seconds
        ),
        beat_schedule={
            "sweep-stuck-answers": {
                "task": jobs.SWEEP_STUCK,
                "schedule": float(settings.sweep_interval_seconds),
            },
            "purge-due-interviews": {"task": jobs.SWEEP_PRIVACY, "schedule": PRIVACY_SWEEP_SECONDS},
            "remind-invitees": {"task": jobs.SEND_REMINDERS, "schedule": REMINDER_SWEEP_SECONDS},
        },
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    return app


@celeryd_init.connect
def _give_way_to_the_api(**_: Any) -> None:
    """Where a worker shares cores with the API (one machine, `parley run`, compose), a
    transcription yields the CPU to candidates' uploads: the worker and its pool run at
    PARLEY_WORKER_NICE (docs/performance.md, issue 9). Raising niceness needs no privilege."""
    nice = get_settings().worker_nice
    if nice and hasattr(os, "nice"):
        os.nice(nice)


celery_app = create_celery()
