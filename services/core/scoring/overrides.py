"""A person overrides a competency's score: with a reason, logged, the model's score kept."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Invalid
from services.core.interviews import review as interview_review
from services.core.interviews.orm import Interview
from services.core.scoring import review, standings
from services.core.scoring.orm import ScoreOverride


def override_score(
    session: Session,
    *,
    actor_id: str,
    interview: Interview,
    competency_key: str,
    value: float | None,
    reason: str,
    viewed: list[str],
) -> ScoreOverride:
    """Set (or, with None, clear) a competency's score for one interview."""
    if len(reason.strip()) < 5:
        raise Invalid("Give a reason for this override.", code="reason_required", field="reason")
    scores = review.scores_of(session, answer_ids=[a.id for a in interview.answers])
    results = {
        r.key: r for r in review.competencies_of(session, interview=interview, scores=scores)
    }
    if competency_key not in results:
        raise Invalid(
            "This interview has no score for that competency.",
            code="unknown_competency",
            field="competency_key",
        )
    before = results[competency_key]
    # The audit log outlives a deletion: it keeps the reason without the candidate's name.
    logged_reason = interview_review.without_identity(reason.strip(), interview)
    row = ScoreOverride(
        org_id=interview.org_id,
        interview_id=interview.id,
        competency_key=competency_key,
        value=value,
        reason=reason.strip(),
        actor_id=actor_id,
    )
    session.add(row)
    session.flush()
    standings.refresh(session, interview_ids=[interview.id])
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"user:{actor_id}",
        action="score.overridden" if value is not None else "score.override_cleared",
        subject=f"interview:{interview.id}",
        data={
            "competency_key": competency_key,
            "model_score": before.model_score,
            "from": before.score,
            "to": value,
            "reason": logged_reason,
            "viewed": viewed[:100],
        },
    )
    return row
