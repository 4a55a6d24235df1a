"""Training runs on uploaded labelled data: start one, follow its progress, read its report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from services.api import schemas
from services.api.deps import DbSession, PublisherDep, RubricEditors, StorageDep
from services.api.uploads import read_body_past
from services.core.scoring import training_runs
from services.core.scoring.orm import TrainingRun

router = APIRouter(tags=["training"])

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/training-runs", response_model=schemas.TrainingRunOut, status_code=202,
             openapi_extra=_CSV_BODY)
async def start_training_run(
    request: Request,
    staff: RubricEditors,
    session: DbSession,
    storage: StorageDep,
    publisher: PublisherDep,
    aggregate: Annotated[Literal["mean", "median"], Query()] = "mean",
    per_prompt: bool = False,
    embeddings: Annotated[Literal["auto", "on", "off"], Query(
        description="sentence embeddings; auto: on up to 2,000 items")] = "auto",
) -> TrainingRun:
    """A labelled CSV (item_id, text, criterion, rater, score[, prompt, split]) is trained and
    evaluated by the worker; poll the run for progress and the report."""
    data = await read_body_past(request, limit=training_runs.MAX_BYTES)
    return await run_in_threadpool(
        training_runs.start_run, session, storage=storage, publisher=publisher,
        org_id=staff.org_id, actor_id=staff.user.id, actor=staff.actor, data=data,
        options=training_runs.TrainingOptions(aggregate, per_prompt, embeddings),
    )


@router.get("/training-runs", response_model=list[schemas.TrainingRunOut])
def list_training_runs(staff: RubricEditors, session: DbSession) -> list[TrainingRun]:
    return training_runs.list_runs(session)


@router.get("/training-runs/{run_id}", response_model=schemas.TrainingRunOut)
def get_training_run(run_id: str, staff: RubricEditors, session: DbSession) -> TrainingRun:
    return training_runs.get_run(session, run_id=run_id)
