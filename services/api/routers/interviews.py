"""A candidate's interview as staff see it: answers, transcripts, recordings, decisions."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from services.api import schemas
from services.api.deps import DbSession, Recruiting, StorageDep
from services.core.interviews import media, privacy, reminders, review
from services.core.interviews.orm import Answer, Decision
from services.core.scoring import overrides
from services.core.scoring import review as scores
from services.core.storage import LocalStorage, MediaStorage

router = APIRouter(tags=["interviews"])


@router.get("/interviews/{interview_id}", response_model=schemas.InterviewDetail)
def get_interview(interview_id: str, staff: Recruiting, session: DbSession) -> dict[str, object]:
    interview = review.open_interview(session, actor=staff.actor, interview_id=interview_id)
    transcripts = review.transcripts_of(session, interview=interview)
    questions = review.questions_of(session, interview=interview)
    answer_scores = scores.scores_of(session, answer_ids=[a.id for a in interview.answers])
    competencies = scores.competencies_of(session, interview=interview, scores=answer_scores)
    answers = []
    for answer in interview.answers:
        question = questions[answer.question_id]
        answers.append(
            {
                **schemas.AnswerSummary.model_validate(answer).model_dump(),
                "content_type": answer.content_type,
                "question_text": question.text,
                "competency_key": question.competency_key,
                "duration_seconds": answer.duration_seconds,
                "speech_seconds": answer.speech_seconds,
                "media_url": f"/api/v1/answers/{answer.id}/media" if answer.media_key else None,
                "transcript": transcripts.get(answer.id),
                "scores": answer_scores.get(answer.id, []),
            }
        )
    return {
        "interview_id": interview.id,
        "role_id": interview.role_id,
        "candidate_name": interview.candidate.name,
        "candidate_email": interview.candidate.email,
        "is_synthetic": interview.candidate.is_synthetic,
        "state": interview.state.value,
        "status": interview.status,
        "answers": answers,
        "decisions": review.decisions_of(session, interview=interview),
        "competencies": competencies,
        "fit": scores.overall_fit(competencies),
        "scoring_model": scores.model_in_use(session),
        "accommodations": asdict(review.accommodations_of(interview)),
        "data_requests": asdict(privacy.requests_of(interview)),
        "invitation": asdict(reminders.status_of(interview)),
    }


@router.get(
    "/answers/{answer_id}/media",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}, "video/webm": {}}}},
)
def answer_media(
    answer_id: str, staff: Recruiting, session: DbSession, storage: StorageDep
) -> Response:
    return media_response(storage, review.open_answer_media(session, actor=staff.actor,
                                                            answer_id=answer_id))


def media_response(storage: MediaStorage, answer: Answer) -> Response:
    """An answer's recording, for a staff member the caller has checked may play it."""
    assert answer.media_key is not None
    content_type = media.playback_type(answer.media_key)
    if isinstance(storage, LocalStorage):  # served from disk with Range support, for seeking
        return FileResponse(storage.root / answer.media_key, media_type=content_type)
    return Response(storage.get(answer.media_key), media_type=content_type)


@router.post(
    "/interviews/{interview_id}/overrides", response_model=schemas.OverrideResultOut, status_code=201
)
def override(
    interview_id: str, body: schemas.OverrideIn, staff: Recruiting, session: DbSession
) -> dict[str, object]:
    """A person sets a competency's score, with a reason; the model's own score is kept."""
    interview = review.get_interview(session, interview_id=interview_id)
    overrides.override_score(
        session,
        actor_id=staff.user.id,
        interview=interview,
        competency_key=body.competency_key,
        value=body.value,
        reason=body.reason,
        viewed=body.viewed,
    )
    answer_scores = scores.scores_of(session, answer_ids=[a.id for a in interview.answers])
    competencies = scores.competencies_of(session, interview=interview, scores=answer_scores)
    return {"competencies": competencies, "fit": scores.overall_fit(competencies)}


@router.put("/interviews/{interview_id}/accommodations", response_model=schemas.AccommodationsOut)
def set_accommodations(
    interview_id: str, body: schemas.AccommodationsIn, staff: Recruiting, session: DbSession
) -> dict[str, object]:
    """Extra think or answer time, extra retakes, typed answers: for this candidate, logged."""
    interview = review.set_accommodations(
        session,
        actor_id=staff.user.id,
        interview_id=interview_id,
        granted=review.Accommodations(**body.model_dump(exclude={"reason"})),
        reason=body.reason,
    )
    return asdict(review.accommodations_of(interview))


@router.post(
    "/interviews/{interview_id}/decisions", response_model=schemas.DecisionOut, status_code=201
)
def decide(
    interview_id: str, body: schemas.DecisionIn, staff: Recruiting, session: DbSession
) -> Decision:
    return review.decide(
        session,
        actor_id=staff.user.id,
        interview_id=interview_id,
        status=body.status,
        reason=body.reason,
        viewed=body.viewed,
    )
