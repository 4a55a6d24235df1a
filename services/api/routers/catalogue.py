"""Rubric versions and the question bank, readable by every staff member."""

from __future__ import annotations

from fastapi import APIRouter

from services.api import schemas
from services.api.deps import AnyStaff, DbSession
from services.core.roles import service as roles
from services.core.roles.orm import Question
from services.core.rubrics import service as rubrics
from services.core.rubrics.orm import RubricVersion

router = APIRouter(tags=["rubrics"])


@router.get("/rubrics", response_model=list[schemas.RubricVersionOut])
def list_rubric_versions(staff: AnyStaff, session: DbSession) -> list[RubricVersion]:
    return rubrics.list_versions(session)


@router.get("/rubrics/{rubric_version_id}", response_model=schemas.RubricVersionOut)
def get_rubric_version(
    rubric_version_id: str, staff: AnyStaff, session: DbSession
) -> RubricVersion:
    return rubrics.get_version(session, rubric_version_id=rubric_version_id)


@router.get("/questions", response_model=list[schemas.QuestionOut])
def list_questions(staff: AnyStaff, session: DbSession) -> list[Question]:
    return roles.list_questions(session)
