"""Publishing jobs to the worker by task name, without importing the worker's code."""

from __future__ import annotations

import logging

from celery import Celery

from services.core.jobs import TASK_QUEUES
from services.core.settings import Settings

log = logging.getLogger(__name__)


class CeleryPublisher:
    """Sends tasks by name; a failed publish is logged and left to the worker's sweeper."""

    def __init__(self, settings: Settings) -> None:
        self._app = Celery("parley-api", broker=settings.broker_url)
        self._app.conf.broker_connection_retry_on_startup = True

    def publish(self, task_name: str, *args: str) -> None:
        try:
            self._app.send_task(
                task_name,
                args=list(args),
                queue=TASK_QUEUES[task_name],
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.2},
            )
        except Exception:  # the row is committed; the periodic sweep will requeue it
            log.exception("could not publish %s; the sweeper will pick it up", task_name)
