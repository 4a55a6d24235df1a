"""The delivery flow of one webhook: claim an attempt, POST the signed body, log the outcome."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from services.core import jobs
from services.core.db import unit_of_work
from services.core.settings import get_settings
from services.core.webhooks import service as webhooks
from services.worker.app import celery_app

_ERROR_CHARS = 500


class TaskPublisher:
    """Publishes by task name from inside the worker, as the API's publisher does."""

    def publish(self, task_name: str, *args: str) -> None:
        celery_app.send_task(task_name, args=list(args), queue=jobs.TASK_QUEUES[task_name])


def _post(attempt: webhooks.Attempt, timeout: float) -> tuple[int | None, str | None]:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Parley-Webhooks/1",
        "X-Parley-Event": attempt.event,
        "X-Parley-Delivery": attempt.delivery_id,
        "X-Parley-Timestamp": timestamp,
        "X-Parley-Signature": webhooks.signature(attempt.secret, timestamp, attempt.body),
    }
    try:
        # Never follow a redirect: the signed body goes only to the address the admin registered.
        response = httpx.post(attempt.url, content=attempt.body, headers=headers,
                              timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def deliver(
    delivery_id: str, *, delays: Sequence[float] = webhooks.RETRY_DELAYS
) -> tuple[str, float | None]:
    """One attempt at one delivery: its state afterwards and the seconds until the next try."""
    settings = get_settings()
    with unit_of_work() as session:
        attempt = webhooks.claim_attempt(session, delivery_id=delivery_id)
    if attempt is None:
        return "skipped", None  # settled, not due yet, or being attempted by another worker
    status_code, error = _post(attempt, settings.webhook_timeout_seconds)
    with unit_of_work() as session:
        retry_in = webhooks.record_attempt(
            session, delivery_id=delivery_id, status_code=status_code, error=error,
            max_attempts=settings.webhook_max_attempts, delays=delays,
        )
    if retry_in is not None:
        return webhooks.PENDING, retry_in
    return (webhooks.FAILED if error else webhooks.DELIVERED), None


def due() -> list[str]:
    with unit_of_work() as session:
        return webhooks.due_deliveries(session)
