"""Sliding-window rate limits counted in the database, so they hold across API processes.

A limit counts its subject's events (rows of `rate_events`) in the last `window`; once they
reach `max_events`, `check` refuses with 429 and the seconds until the oldest counted event
leaves the window. Counting then inserting is not atomic: a burst of simultaneous requests may
overshoot a limit by the number of API processes at most, which bounds guessing just as well.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, delete, func, select
from sqlalchemy.orm import Session

from services.core.db import utcnow
from services.core.errors import RateLimited
from services.core.ratelimit.orm import RateEvent

# Rows older than this are no longer counted by any limit; the sweeper deletes them.
KEPT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most `max_events` of one subject's events of `scope` within `window`."""

    scope: str
    max_events: int
    window: dt.timedelta


def counted(limit: Limit, subject: str, *, now: dt.datetime | None = None) -> tuple[
    ScalarSelect[int], ScalarSelect[dt.datetime | None]
]:
    """The subject's events `limit` counts now, and when the oldest of them happened: two
    scalar subqueries, for a caller that reads them in a statement it runs anyway."""
    since = (now or utcnow()) - limit.window
    window = (RateEvent.scope == limit.scope, RateEvent.subject == subject[:320],
              RateEvent.created_at >= since)
    return (
        select(func.coalesce(func.sum(RateEvent.weight), 0)).where(*window).scalar_subquery(),
        select(func.min(RateEvent.created_at)).where(*window).scalar_subquery(),
    )


def refuse_over(limit: Limit, *, events: int, oldest: dt.datetime | None, message: str,
                weight: int = 1, now: dt.datetime | None = None) -> None:
    """Refuse (RateLimited, with Retry-After) when `weight` more events than the `events`
    counted (see `counted`) would pass the limit."""
    if events + weight <= limit.max_events:
        return
    now = now or utcnow()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    free_at = (oldest or now) + limit.window
    raise RateLimited(message, retry_after=max(1, math.ceil((free_at - now).total_seconds())))


def check(session: Session, *, limit: Limit, subject: str, message: str,
          weight: int = 1) -> None:
    """Refuse (RateLimited, with Retry-After) when `weight` more events would pass the limit."""
    now = utcnow()
    events, oldest = session.execute(select(*counted(limit, subject, now=now))).one()
    refuse_over(limit, events=events, oldest=oldest, message=message, weight=weight, now=now)


def record(session: Session, *, limit: Limit, subject: str, weight: int = 1) -> None:
    """Count one event (or `weight` of them) against the subject."""
    session.add(RateEvent(scope=limit.scope, subject=subject[:320], weight=weight))


def spend(session: Session, *, limit: Limit, subject: str, message: str,
          weight: int = 1) -> None:
    """Check the limit, then count this request against it."""
    check(session, limit=limit, subject=subject, message=message, weight=weight)
    record(session, limit=limit, subject=subject, weight=weight)


def forget_old(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete events no limit counts any more; returns how many."""
    cutoff = (now or utcnow()) - KEPT
    result = session.execute(delete(RateEvent).where(RateEvent.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
