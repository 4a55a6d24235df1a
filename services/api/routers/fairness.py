"""Fairness monitoring: candidates' voluntary self-identification and the adverse-impact report."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Response

from services.api import schemas
from services.api.deps import AdminOnly, CandidateInterview, DbSession
from services.core.audit import service as audit
from services.core.fairness import report as fairness
from services.core.fairness import service as self_id
from services.core.roles import service as roles

router = APIRouter(tags=["fairness"])


@router.post("/candidate/self-identification", status_code=204)
def give_self_identification(
    body: schemas.SelfIdentificationIn, interview: CandidateInterview, session: DbSession
) -> Response:
    """Optional, after the interview; stored apart and never seen by the scorer or the ranking."""
    self_id.record_self_identification(
        session,
        interview=interview,
        sex=body.sex,
        race_ethnicity=body.race_ethnicity,
        age_band=body.age_band,
    )
    return Response(status_code=204)


@router.get(
    "/roles/{role_id}/adverse-impact",
    response_model=schemas.AdverseImpactOut,
    responses={200: {"content": {"text/csv": {}}}},
)
def adverse_impact(
    role_id: str, staff: AdminOnly, session: DbSession, fmt: Literal["json", "csv"] = "json"
) -> object:
    """Per group and intersection: rates, impact ratios, the four-fifths flag, Fisher's test."""
    role = roles.get_role(session, role_id=role_id)
    outcomes, measures = fairness.outcomes_for_role(session, role_id=role.id)
    report = fairness.adverse_impact(outcomes, measures=measures)
    audit.record(
        session,
        org_id=role.org_id,
        actor=staff.actor,
        action="fairness.report_exported" if fmt == "csv" else "fairness.report_viewed",
        subject=f"role:{role.id}",
        data={"candidates": report.candidates},
    )
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(fairness.csv_rows(report))
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="adverse-impact-{role.id}.csv"'
            },
        )
    return {"role_id": role.id, "role_title": role.title, **asdict(report)}
