"""Purging an interview and everything about its candidate: files first, then the rows.

Files go before the rows, so a crash in between leaves rows that the next run finds and purges
again, never files that nothing points to any more. Each folder is deleted once more after the
commit, for a chunk an upload in flight may have written meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging

from services.core.db import unit_of_work, utcnow
from services.core.interviews import privacy
from services.core.settings import get_settings
from services.core.storage import get_storage

log = logging.getLogger(__name__)


def purge_interview(interview_id: str, *, now: dt.datetime | None = None) -> str:
    """Delete one interview and all about its candidate if, and only if, it is due at `now`.

    Returns "purged", "not_due" (also when it is already gone) or "busy" (an answer is being
    transcribed right now; the next sweep tries again). Running it twice purges once.
    """
    busy_since = utcnow() - dt.timedelta(seconds=get_settings().stuck_after_seconds)
    now = now or utcnow()
    with unit_of_work() as session:
        plan = privacy.plan_purge(
            session, interview_id=interview_id, now=now, busy_since=busy_since
        )
    if plan is None:
        return "not_due"
    if plan.busy:
        return "busy"
    storage = get_storage()
    files = sum(storage.delete_folder(folder) for folder in plan.folders)
    with unit_of_work() as session:
        purged = privacy.purge(session, plan=plan, files_deleted=files, now=now)
    for folder in plan.folders:
        storage.delete_folder(folder)
    if purged:
        log.info("purged interview %s (%s): %d files", interview_id, plan.reason, files)
    return "purged" if purged else "not_due"


def due_for_purge(*, now: dt.datetime | None = None) -> list[str]:
    """Interviews due to be purged: a candidate's request, or past their retention period."""
    with unit_of_work() as session:
        return privacy.due_for_purge(session, now=now or utcnow())
