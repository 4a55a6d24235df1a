"""Voluntary self-identification: asked after the interview, optional, kept apart."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Conflict, Invalid
from services.core.fairness.orm import SelfIdentification
from services.core.interviews.orm import Answer, Interview
from services.core.interviews.states import InterviewState

PREFER_NOT_TO_SAY = "prefer_not_to_say"

# The categories of the EEO-1 component 1 report that NYC's Local Law 144 audits use.
SEXES = ("female", "male", PREFER_NOT_TO_SAY)
RACES_ETHNICITIES = (
    "hispanic_or_latino",
    "white",
    "black_or_african_american",
    "native_hawaiian_or_pacific_islander",
    "asian",
    "native_american_or_alaska_native",
    "two_or_more_races",
    PREFER_NOT_TO_SAY,
)
AGE_BANDS = ("under_25", "25_39", "40_54", "55_plus", PREFER_NOT_TO_SAY)
OPTIONS = {"sex": SEXES, "race_ethnicity": RACES_ETHNICITIES, "age_band": AGE_BANDS}


def record_self_identification(
    session: Session,
    *,
    interview: Interview,
    sex: str | None,
    race_ethnicity: str | None,
    age_band: str | None,
) -> SelfIdentification:
    """Store (or replace) what the candidate chose to say; only after the interview is complete.

    The audit log records that it was given, never the answers.
    """
    if interview.state != InterviewState.COMPLETED:
        raise Conflict(
            "These questions come after the interview is complete.", code="interview_not_complete"
        )
    given = {"sex": sex, "race_ethnicity": race_ethnicity, "age_band": age_band}
    for name, value in given.items():
        if value is not None and value not in OPTIONS[name]:
            raise Invalid(f"Not one of the listed answers: {value}.", code="bad_option", field=name)
    row = session.scalar(
        select(SelfIdentification).where(SelfIdentification.interview_id == interview.id)
    )
    if row is None:
        row = SelfIdentification(org_id=interview.org_id, interview_id=interview.id)
        session.add(row)
    row.sex, row.race_ethnicity, row.age_band = sex, race_ethnicity, age_band
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"candidate:{interview.id}",
        action="self_identification.given",
        subject=f"interview:{interview.id}",
        data={"answered": sorted(k for k, v in given.items() if v is not None)},
    )
    return row


def groups_of_answers(session: Session, *, answer_ids: list[str]) -> dict[str, dict[str, str]]:
    """Answer -> dimension -> the candidate's own answer, "unknown" where they gave none; for
    the subgroup figures of a model's evaluation. Never an input to scoring."""
    rows = session.execute(
        select(Answer.id, SelfIdentification)
        .join(SelfIdentification, SelfIdentification.interview_id == Answer.interview_id,
              isouter=True)
        .where(Answer.id.in_(answer_ids))
    )
    return {
        answer_id: {dim: (getattr(self_id, dim, None) or "unknown") for dim in OPTIONS}
        for answer_id, self_id in rows
    }
