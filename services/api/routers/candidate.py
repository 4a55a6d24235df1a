"""The candidate's side, reached only with the invite token (header X-Invite-Token)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from sqlalchemy.orm import Session

from services.api import schemas
from services.api.deps import (
    CandidateInterview,
    DbSession,
    InviteToken,
    PublisherDep,
    SettingsDep,
    StorageDep,
    as_candidate,
    client_of,
)
from services.api.uploads import read_body
from services.core import jobs
from services.core.interviews import candidate, feedback, media, speech
from services.core.interviews.orm import Answer, Interview
from services.core.organisations import service as organisations
from services.core.roles import service as roles
from services.core.rubrics import service as rubrics
from services.core.scoring import service as scoring

router = APIRouter(prefix="/candidate", tags=["candidate"])


@router.get("/interview", response_model=schemas.CandidateInterviewOut)
def get_interview(
    interview: CandidateInterview, session: DbSession, settings: SettingsDep
) -> dict[str, object]:
    role = roles.get_role(session, role_id=interview.role_id)
    organisation = organisations.get_organisation(session, org_id=interview.org_id)
    answers = {a.question_id: a for a in interview.answers}
    questions = []
    for item in role.script:
        answer = answers.get(item.question_id)
        questions.append(
            {
                "question_id": item.question_id,
                "position": item.position,
                "text": item.question.text,
                "answer_state": answer.state.value if answer else None,
                "retakes_left": candidate.retakes_left(session, interview=interview, answer=answer),
                "recorded": _recorded(answer),
            }
        )
    pending = [q["position"] for q in questions if q["answer_state"] in (None, "receiving")]
    assessed = {item.question.competency_key for item in role.script}
    rubric = rubrics.get_version(session, rubric_version_id=role.rubric_version_id)
    return {
        "organisation": organisation.name,
        "role_title": role.title,
        "competencies": [c for c in rubric.competencies if c.key in assessed],
        "retention_days": organisation.retention_days,
        "contact_email": organisation.contact_email,
        "state": interview.state.value,
        "notice_version": candidate.NOTICE_VERSION,
        "think_seconds": role.think_seconds + interview.extra_think_seconds,
        "answer_seconds": role.answer_seconds + interview.extra_answer_seconds,
        "retakes": candidate.retakes_allowed(session, interview=interview),
        "typed_answers": interview.typed_answers,
        "feedback_offered": role.feedback_enabled,
        "max_typed_answer_chars": settings.max_typed_answer_chars,
        "questions": questions,
        "next_question": pending[0] if pending else None,
        "lines": speech.lines_for(session, interview=interview),
    }


@router.post("/consent", status_code=201)
def consent(
    body: schemas.ConsentIn, interview: CandidateInterview, session: DbSession, request: Request
) -> dict[str, str]:
    record = candidate.record_consent(
        session,
        interview=interview,
        accepted=body.accepted,
        notice_version=body.notice_version,
        client=request.headers.get("user-agent", client_of(request)),
    )
    return {"state": interview.state.value, "consent_id": record.id}


@router.put(
    "/answers/{question_id}/chunks/{index}",
    response_model=schemas.ChunkOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"audio/webm": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_chunk(
    request: Request,
    question_id: str,
    index: Annotated[int, Path(ge=0, lt=100_000)],
    settings: SettingsDep,
    storage: StorageDep,
    token: InviteToken,
    x_chunk_sha256: Annotated[str, Header(pattern="^[0-9a-fA-F]{64}$")],
    content_type: Annotated[str, Header(max_length=100)] = "",
    x_upload_length: Annotated[
        int,
        Header(
            ge=0,
            description="The whole recording's size, "
            "when known: an oversized one is refused at once.",
        ),
    ] = 0,
    x_final_chunk: Annotated[
        bool,
        Header(description="true on the chunk the recording ended with: the take is whole."),
    ] = False,
) -> dict[str, object]:
    # The declared type and size are refused before a byte of the body is read; the body is
    # read before a database connection is taken (see as_candidate).
    media.check_content_type(content_type, accepted=settings.accepted_media_types)
    data = await read_body(request, limit=settings.max_chunk_bytes)

    def store(session: Session, interview: Interview) -> dict[str, object]:
        receipt = candidate.receive_chunk(
            session,
            settings=settings,
            storage=storage,
            interview=interview,
            question_id=question_id,
            index=index,
            data=data,
            sha256=x_chunk_sha256,
            content_type=content_type,
            declared_size=x_upload_length,
            final=x_final_chunk,
        )
        return {
            "answer_id": receipt.answer.id,
            "index": receipt.index,
            "duplicate": receipt.duplicate,
            "received_bytes": receipt.answer.size_bytes,
        }

    return await as_candidate(request, token, store)


@router.post("/answers/{question_id}/complete", response_model=schemas.CandidateAnswerOut)
async def complete(
    request: Request,
    question_id: str,
    body: schemas.CompleteIn,
    storage: StorageDep,
    publisher: PublisherDep,
    token: InviteToken,
) -> dict[str, object]:
    def keep(session: Session, interview: Interview) -> dict[str, object]:
        answer = candidate.complete_answer(
            session,
            storage=storage,
            publisher=publisher,
            interview=interview,
            question_id=question_id,
            chunk_count=body.chunk_count,
            sha256=body.sha256,
        )
        return _answer_out(session, interview, answer)

    return await as_candidate(request, token, keep, assembly=True)


@router.post("/answers/{question_id}/restart", response_model=schemas.CandidateAnswerOut)
def restart(
    question_id: str, interview: CandidateInterview, session: DbSession, storage: StorageDep
) -> dict[str, object]:
    """Record an answer again: a retake after a whole take (409 no_retakes_left when none are
    left), or free after a cut-off upload, silence or unreadable media."""
    answer = candidate.restart_answer(
        session, storage=storage, interview=interview, question_id=question_id
    )
    return _answer_out(session, interview, answer)


@router.post(
    "/answers/{question_id}/text", response_model=schemas.CandidateAnswerOut, status_code=201
)
def typed_answer(
    question_id: str,
    body: schemas.TypedAnswerIn,
    interview: CandidateInterview,
    session: DbSession,
    settings: SettingsDep,
    storage: StorageDep,
    publisher: PublisherDep,
) -> dict[str, object]:
    """A typed answer (an accommodation a recruiter grants): stored and sent to scoring."""
    answer = candidate.submit_typed_answer(
        session,
        settings=settings,
        storage=storage,
        interview=interview,
        question_id=question_id,
        text=body.text,
    )
    session.flush()
    if scoring.may_score(session, answer_id=answer.id):
        jobs.publish_after_commit(session, publisher, jobs.SCORE_ANSWER, answer.id)
    return _answer_out(session, interview, answer)


@router.get("/answers/{question_id}", response_model=schemas.CandidateAnswerOut)
def answer_state(
    question_id: str, interview: CandidateInterview, session: DbSession
) -> dict[str, object]:
    """Where an answer stands; the page polls it to learn of a silent recording within seconds."""
    candidate.check_question(session, interview=interview, question_id=question_id)
    answer = next((a for a in interview.answers if a.question_id == question_id), None)
    if answer is None:
        return {
            "answer_id": "",
            "state": "not_started",
            "retakes_left": candidate.retakes_left(session, interview=interview, answer=None),
        }
    return _answer_out(session, interview, answer)


@router.get("/feedback", response_model=schemas.FeedbackOut)
def get_feedback(interview: CandidateInterview, session: DbSession) -> object:
    """The strengths the answers showed, when the role offers it: never a score."""
    return asdict(feedback.feedback_for(session, interview=interview))


@router.post("/finish", response_model=schemas.CandidateInterviewOut)
def finish(
    interview: CandidateInterview,
    session: DbSession,
    settings: SettingsDep,
    publisher: PublisherDep,
) -> dict[str, object]:
    candidate.finish_interview(session, interview=interview, publisher=publisher)
    return get_interview(interview, session, settings)


def _recorded(answer: Answer | None) -> bool:
    return answer is not None and answer.recorded_chunks is not None


def _answer_out(session: Session, interview: Interview, answer: Answer) -> dict[str, object]:
    return {
        "answer_id": answer.id,
        "state": answer.state.value,
        "failure_code": answer.failure_code,
        "failure_reason": answer.failure_reason,
        "received_chunks": [c.index for c in answer.chunks],
        "recorded": _recorded(answer),
        "retakes_left": candidate.retakes_left(session, interview=interview, answer=answer),
    }
