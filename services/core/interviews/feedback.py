"""The feedback report a role may offer candidates: strengths their answers showed, no scores.

It names competencies whose answers reached the level the role asks for, each with a sentence
of the candidate's own as an example. It never states a score, a band, a rank or a weakness,
and it is offered only some days after the interview, once people have had time to review it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.db import utcnow
from services.core.errors import Conflict
from services.core.interviews.orm import Interview
from services.core.interviews.states import InterviewState
from services.core.roles.orm import JobRole
from services.core.rubrics import service as rubrics
from services.core.scoring import review

STRONG_BANDS = ("meets", "exceeds")


@dataclass(frozen=True)
class Strength:
    competency: str
    description: str
    example: str | None  # one of the candidate's own sentences, as redacted for scoring


@dataclass(frozen=True)
class Feedback:
    available_at: dt.datetime
    strengths: list[Strength] | None  # None until available_at


def feedback_for(session: Session, *, interview: Interview) -> Feedback:
    """The candidate's feedback, or when it will be ready; Conflict if the role offers none."""
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    if not role.feedback_enabled:
        raise Conflict("This role does not offer a feedback report.", code="feedback_not_offered")
    if interview.state != InterviewState.COMPLETED or interview.completed_at is None:
        raise Conflict("Feedback comes after the interview is complete.", code="not_completed")
    available_at = interview.completed_at + dt.timedelta(days=role.feedback_delay_days)
    if utcnow() < available_at:
        return Feedback(available_at=available_at, strengths=None)
    scores = review.scores_of(session, answer_ids=[a.id for a in interview.answers])
    results = review.competencies_of(session, interview=interview, scores=scores)
    version = rubrics.get_version(session, rubric_version_id=role.rubric_version_id)
    names = {c.key: c for c in version.competencies}
    strengths = []
    for result in sorted(results, key=lambda r: -r.score):
        if result.band not in STRONG_BANDS or result.key not in names:
            continue
        quotes = [
            (e.get("weight", 0.0), str(e.get("text", "")))
            for answer_scores in scores.values()
            for s in answer_scores
            if s.competency_key == result.key
            for e in s.evidence
            if e.get("text")
        ]
        example = max(quotes)[1] if quotes else None
        competency = names[result.key]
        strengths.append(Strength(competency.name, competency.description, example))
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"candidate:{interview.id}",
        action="feedback.viewed",
        subject=f"interview:{interview.id}",
        data={"strengths": [s.competency for s in strengths]},
    )
    return Feedback(available_at=available_at, strengths=strengths)
