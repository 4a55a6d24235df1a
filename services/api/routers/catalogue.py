"""Rubric versions and the question bank: every staff member reads, rubric editors change
rubrics, and recruiters and psychologists add questions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.api import schemas
from services.api.deps import AnyStaff, DbSession, RubricEditors
from services.api.uploads import read_body_past
from services.core.roles import bank
from services.core.roles import service as roles
from services.core.roles.orm import Question
from services.core.rubrics import service as rubrics
from services.core.rubrics import spreadsheet
from services.core.rubrics.orm import RubricVersion

router = APIRouter(tags=["rubrics"])

SpreadsheetFormat = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="csv (UTF-8) or xlsx")
]
_SPREADSHEET_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for media_type in spreadsheet.CONTENT_TYPES.values()
        },
    }
}


@router.get("/rubrics", response_model=list[schemas.RubricVersionOut])
def list_rubric_versions(staff: AnyStaff, session: DbSession) -> list[RubricVersion]:
    return rubrics.list_versions(session)


@router.post(
    "/rubrics/import",
    response_model=schemas.RubricVersionOut,
    status_code=201,
    openapi_extra=_SPREADSHEET_BODY,
)
async def import_rubric(
    request: Request,
    staff: RubricEditors,
    session: DbSession,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    fmt: SpreadsheetFormat = "csv",
) -> RubricVersion:
    """A CSV or XLSX spreadsheet becomes the next version of the rubric `name`."""
    data = await read_body_past(request, limit=spreadsheet.MAX_BYTES)
    return await run_in_threadpool(
        rubrics.import_spreadsheet,
        session,
        org_id=staff.org_id,
        actor=staff.actor,
        name=name,
        data=data,
        fmt=fmt,
    )


@router.post("/rubrics/versions", response_model=schemas.RubricVersionOut, status_code=201)
def save_rubric_version(
    body: schemas.RubricDocumentIn, staff: RubricEditors, session: DbSession
) -> RubricVersion:
    """An edited rubric becomes the next version; scores keep naming the version they used."""
    return rubrics.save_edited(
        session, org_id=staff.org_id, actor=staff.actor, document=body.model_dump()
    )


@router.get("/rubrics/{rubric_version_id}", response_model=schemas.RubricVersionOut)
def get_rubric_version(
    rubric_version_id: str, staff: AnyStaff, session: DbSession
) -> RubricVersion:
    return rubrics.get_version(session, rubric_version_id=rubric_version_id)


@router.get(
    "/rubrics/{rubric_version_id}/export",
    response_class=Response,
    responses={200: {"content": {t.split(";")[0]: {} for t in spreadsheet.CONTENT_TYPES.values()}}},
)
def export_rubric_version(
    rubric_version_id: str, staff: AnyStaff, session: DbSession, fmt: SpreadsheetFormat = "csv"
) -> Response:
    """The version as a spreadsheet download, one row per anchored level."""
    exported = rubrics.export_version(session, rubric_version_id=rubric_version_id, fmt=fmt)
    return Response(
        exported.data,
        media_type=exported.content_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.get("/questions", response_model=list[schemas.QuestionOut])
def list_questions(staff: AnyStaff, session: DbSession) -> list[Question]:
    return roles.list_questions(session)


@router.post("/questions", response_model=schemas.QuestionOut, status_code=201)
def write_question(body: schemas.QuestionIn, staff: AnyStaff, session: DbSession) -> Question:
    """A question of the organisation's own, for a competency of the chosen rubric version."""
    return roles.write_question(
        session,
        org_id=staff.org_id,
        actor=staff.actor,
        rubric_version_id=body.rubric_version_id,
        competency_key=body.competency_key,
        text=body.text,
    )


@router.get("/question-bank", response_model=list[schemas.BankQuestionOut])
def get_question_bank(staff: AnyStaff) -> tuple[bank.BankQuestion, ...]:
    return bank.question_bank()


@router.post("/question-bank/install", response_model=schemas.BankInstallOut)
def install_question_bank(staff: AnyStaff, session: DbSession) -> dict[str, int]:
    """Add the shipped questions the organisation does not have yet; safe to repeat.

    Recruiters too: they build scripts from the bank in the role editor."""
    return {"added": bank.install_bank(session, org_id=staff.org_id, actor=staff.actor)}
