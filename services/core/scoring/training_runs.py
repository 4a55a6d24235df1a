"""Training runs: an uploaded labelled CSV, trained and evaluated by the worker, with progress.

Core checks what it can without the models (size, the header's columns), keeps the file in
media storage, and tracks the run's state; the worker does the learning.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.core import jobs
from services.core.audit import service as audit
from services.core.db import new_id, utcnow
from services.core.errors import Invalid, NotFound
from services.core.scoring.orm import TrainingRun
from services.core.storage import MediaStorage

MAX_BYTES = 50 * 1024 * 1024
REQUIRED_COLUMNS = ("item_id", "text", "criterion", "rater", "score")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class TrainingOptions:
    aggregate: str = "mean"
    per_prompt: bool = False
    embeddings: str = "auto"  # on, off, or auto: on up to 2,000 items


def _check_header(data: bytes) -> None:
    if not data.strip():
        raise Invalid("The file is empty.", code="empty_file", field="body")
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.",
                      code="too_large", field="body")
    try:
        first = data[:65536].decode("utf-8-sig").splitlines()[0]
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text.", code="not_csv", field="body") from None
    header = next(csv.reader(io.StringIO(first)), [])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise Invalid(f"The CSV lacks the column(s) {', '.join(missing)}; it needs "
                      f"{', '.join(REQUIRED_COLUMNS)} (and optionally prompt, split).",
                      code="missing_columns", field="body", missing=missing)


def start_run(
    session: Session, *, storage: MediaStorage, publisher: jobs.JobPublisher, org_id: str,
    actor_id: str, actor: str, data: bytes, options: TrainingOptions,
) -> TrainingRun:
    """Keep the file, queue the training, and say so in the audit log."""
    _check_header(data)
    run_id = new_id()
    key = f"training/{org_id}/{run_id}.csv"
    storage.put(key, data)
    run = TrainingRun(
        id=run_id, org_id=org_id, state=QUEUED, data_key=key,
        data_sha256=hashlib.sha256(data).hexdigest(), options=vars(options), progress={},
        created_by_id=actor_id, state_changed_at=utcnow(),
    )
    session.add(run)
    session.flush()
    audit.record(session, org_id=org_id, actor=actor, action="training.start",
                 subject=f"training_run:{run_id}",
                 data={"sha256": run.data_sha256, "options": vars(options)})
    jobs.publish_after_commit(session, publisher, jobs.TRAIN_MODEL, run_id)
    return run


def get_run(session: Session, *, run_id: str) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise NotFound("No such training run.")
    return run


def list_runs(session: Session) -> list[TrainingRun]:
    return list(session.scalars(select(TrainingRun).order_by(TrainingRun.created_at.desc())))


def claim(session: Session, *, run_id: str) -> TrainingRun | None:
    """Take a queued run; None if another worker has it or it is finished."""
    taken = session.execute(
        update(TrainingRun)
        .where(TrainingRun.id == run_id, TrainingRun.state == QUEUED)
        .values(state=RUNNING, state_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(TrainingRun, run_id, populate_existing=True)


def report_progress(session: Session, *, run_id: str, done: int, total: int,
                    current: str) -> None:
    session.execute(
        update(TrainingRun)
        .where(TrainingRun.id == run_id)
        .values(progress={"done": done, "total": total, "current": current})
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, *, run_id: str, report: dict[str, Any], model_version: str) -> None:
    run = get_run(session, run_id=run_id)
    run.state, run.state_changed_at = DONE, utcnow()
    run.report, run.model_version = report, model_version
    total = run.progress.get("total", 0)
    run.progress = {"done": total, "total": total, "current": ""}
    audit.record(session, org_id=run.org_id, actor="system", action="training.done",
                 subject=f"training_run:{run_id}", data={"model_version": model_version})


def fail(session: Session, *, run_id: str, reason: str) -> None:
    run = get_run(session, run_id=run_id)
    run.state, run.state_changed_at, run.failure_reason = FAILED, utcnow(), reason
    audit.record(session, org_id=run.org_id, actor="system", action="training.failed",
                 subject=f"training_run:{run_id}", data={})


def requeue_stale(session: Session, *, started_before: dt.datetime) -> list[str]:
    """Runs a killed worker left running: queued again, for the sweeper to publish."""
    stale = list(session.scalars(
        select(TrainingRun.id)
        .where(TrainingRun.state == RUNNING, TrainingRun.state_changed_at < started_before)
        .execution_options(include_all_organisations=True)
    ))
    if stale:
        session.execute(
            update(TrainingRun).where(TrainingRun.id.in_(stale))
            .values(state=QUEUED, state_changed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return stale
