"""What a candidate does through their link: consent, upload answers in chunks, finish."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.util import identity_key

from services.core import jobs
from services.core.audit import service as audit
from services.core.db import after_commit, utcnow
from services.core.errors import Conflict, Invalid, NotFound, TooLarge, UnsupportedMedia
from services.core.interviews import media
from services.core.interviews.orm import Answer, AnswerChunk, Consent, Interview, Transcript
from services.core.interviews.states import (
    AnswerState,
    InterviewState,
    check_answer_transition,
    check_interview_transition,
)
from services.core.roles.orm import JobRole, ScriptItem
from services.core.settings import Settings
from services.core.storage import MediaStorage
from services.core.webhooks import service as webhooks

NOTICE_VERSION = "2026-11-v1"  # bump whenever the welcome page's notice or AI disclosure changes
_ANSWERING = (InterviewState.CONSENTED, InterviewState.IN_PROGRESS)


@dataclass(frozen=True)
class ChunkReceipt:
    answer: Answer
    index: int
    duplicate: bool


def _actor(interview: Interview) -> str:
    return f"candidate:{interview.id}"


def record_consent(
    session: Session, *, interview: Interview, accepted: bool, notice_version: str, client: str
) -> Consent:
    """Store the candidate's explicit choice; declining leads to a human-only review."""
    if notice_version != NOTICE_VERSION:
        raise Conflict(
            "The notice has changed since this page was opened. Reload and read it again.",
            code="stale_notice",
            current_version=NOTICE_VERSION,
        )
    target = InterviewState.CONSENTED if accepted else InterviewState.HUMAN_REVIEW
    check_interview_transition(interview.state, target)
    consent = Consent(
        org_id=interview.org_id,
        interview_id=interview.id,
        notice_version=notice_version,
        accepted=accepted,
        client=client[:300],
    )
    interview.state = target
    session.add(consent)
    audit.record(
        session,
        org_id=interview.org_id,
        actor=_actor(interview),
        action="consent.given" if accepted else "consent.declined",
        subject=f"interview:{interview.id}",
        data={"notice_version": notice_version},
    )
    return consent


def script_of(session: Session, *, interview: Interview) -> list[ScriptItem]:
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    return list(role.script)


def check_question(session: Session, *, interview: Interview, question_id: str) -> None:
    in_script = select(ScriptItem.id).where(
        ScriptItem.role_id == interview.role_id, ScriptItem.question_id == question_id
    )
    if session.scalar(in_script) is None:
        raise NotFound("This question is not part of your interview.")


def _answer_for(
    session: Session,
    *,
    interview: Interview,
    question_id: str,
    content_type: str,
    chunk_index: int | None = None,
) -> tuple[Answer, AnswerChunk | None]:
    """The answer being received for the question, created at its first upload, and with
    `chunk_index` the chunk of that index already received (or None), read in the same
    statement."""
    if interview.state not in _ANSWERING:
        raise Conflict(
            f"This interview is {interview.state.value}; answers cannot be uploaded.",
            code="interview_not_open",
        )
    # Its chunk rows stay unloaded: a chunk looks up only its own index (receive_chunk).
    found = (
        select(Answer)
        .where(Answer.interview_id == interview.id, Answer.question_id == question_id)
        .options(lazyload(Answer.chunks))
    )
    if chunk_index is not None:
        found = found.add_columns(AnswerChunk).outerjoin(
            AnswerChunk, (AnswerChunk.answer_id == Answer.id) & (AnswerChunk.index == chunk_index)
        )
    row = session.execute(found).one_or_none()
    answer, existing = (row[0], row[1] if chunk_index is not None else None) if row else (None, None)
    if answer is None:
        # An answer exists only for a question of the script: the check is needed once.
        check_question(session, interview=interview, question_id=question_id)
        answer = Answer(
            org_id=interview.org_id,
            interview_id=interview.id,
            question_id=question_id,
            content_type=content_type,
            state_changed_at=utcnow(),
        )
        session.add(answer)
        session.flush()
    if answer.state != AnswerState.RECEIVING:
        raise Conflict("This question has already been answered.", code="already_answered")
    if interview.state == InterviewState.CONSENTED:
        interview.state = InterviewState.IN_PROGRESS
    return answer, existing


def receive_chunk(
    session: Session,
    *,
    settings: Settings,
    storage: MediaStorage,
    interview: Interview,
    question_id: str,
    index: int,
    data: bytes,
    sha256: str,
    content_type: str,
    declared_size: int = 0,
    final: bool = False,
) -> ChunkReceipt:
    """Store one chunk of an answer; sending the same chunk again is harmless.

    `declared_size` is the whole recording's size when the client states it up front
    (X-Upload-Length), so an oversized upload is refused at its first chunk. `final` marks the
    chunk the recording ended with: from then on the take is whole, and recording the question
    again uses one of the candidate's retakes.
    """
    media.check_content_type(content_type, accepted=settings.accepted_media_types)
    if not 0 <= index < 100_000:
        raise Invalid("The chunk index is out of range.", code="bad_chunk_index")
    if len(data) > settings.max_chunk_bytes:
        raise TooLarge(f"A chunk may hold at most {settings.max_chunk_bytes} bytes.")
    if hashlib.sha256(data).hexdigest() != sha256.lower():
        raise Invalid(
            "The chunk arrived damaged (its checksum does not match). Send it again.",
            code="checksum_mismatch",
        )
    answer, existing = _answer_for(
        session,
        interview=interview,
        question_id=question_id,
        content_type=content_type,
        chunk_index=index,
    )
    if existing is not None:
        if existing.sha256 != sha256.lower():
            raise Conflict(
                "A different chunk with this index was already received.", code="chunk_conflict"
            )
        if final:
            answer.recorded_chunks = index + 1
        return ChunkReceipt(answer=answer, index=index, duplicate=True)
    if answer.recorded_chunks is not None and index >= answer.recorded_chunks:
        raise Conflict(
            "This recording has already ended. Keep it, or record the answer again.",
            code="recording_ended",
        )
    if max(declared_size, answer.size_bytes + len(data)) > settings.max_upload_bytes:
        _discard_chunks(session, storage=storage, answer=answer)
        answer.failure_code = "too_large"
        answer.failure_reason = f"An answer may be at most {settings.max_upload_bytes} bytes."
        raise TooLarge(answer.failure_reason, keep_changes=True)
    storage.put(media.chunk_key(answer.id, index), data)
    answer.failure_code = answer.failure_reason = None  # a new recording replaces a refused one
    chunk = AnswerChunk(
        org_id=answer.org_id,
        answer_id=answer.id,
        index=index,
        size_bytes=len(data),
        sha256=sha256.lower(),
    )
    session.add(chunk)
    if "chunks" not in inspect(answer).unloaded:
        answer.chunks.append(chunk)
    answer.size_bytes += len(data)
    answer.content_type = content_type
    if final:
        answer.recorded_chunks = index + 1
    return ChunkReceipt(answer=answer, index=index, duplicate=False)


def complete_answer(
    session: Session,
    *,
    storage: MediaStorage,
    publisher: jobs.JobPublisher,
    interview: Interview,
    question_id: str,
    chunk_count: int | None,
    sha256: str | None,
) -> Answer:
    """Keep a take: assemble its chunks, check the whole file, queue its transcription.

    `chunk_count` and `sha256` may be None for a take whose final chunk has arrived (the page
    that recorded it was closed); every chunk was checked against its own checksum on arrival.
    """
    answer = session.scalar(
        select(Answer).where(Answer.interview_id == interview.id, Answer.question_id == question_id)
    )
    if answer is None:
        raise NotFound("No upload was started for this question.", code="no_upload")
    if answer.state != AnswerState.RECEIVING:
        return answer  # completing twice is harmless
    if chunk_count is None:
        if answer.recorded_chunks is None:
            raise Invalid("Say how many chunks the recording has.", code="chunk_count_required")
        chunk_count = answer.recorded_chunks
    indexes = [c.index for c in answer.chunks]
    if indexes != list(range(chunk_count)):
        missing = sorted(set(range(chunk_count)) - set(indexes))
        raise Conflict(
            "Some chunks have not arrived yet.", code="chunks_missing", missing=missing[:50]
        )
    chunk_keys = [media.chunk_key(answer.id, i) for i in indexes]
    digest = media.sha256_of(storage, chunk_keys)
    if sha256 is not None and digest != sha256.lower():
        raise Invalid(
            "The assembled answer does not match its checksum. Upload it again.",
            code="checksum_mismatch",
        )
    head = storage.get(chunk_keys[0])[:64] if chunk_keys else b""
    try:
        extension = media.sniff(head, total_size=answer.size_bytes)
    except (Invalid, UnsupportedMedia) as exc:
        # Keep the refusal on record, and drop the upload so the answer can be recorded again.
        _discard_chunks(session, storage=storage, answer=answer)
        answer.failure_code, answer.failure_reason = exc.code, exc.message
        exc.keep_changes = True
        raise
    answer.media_key = media.answer_key(answer.id, extension)
    storage.put_parts(answer.media_key, chunk_keys)
    answer.sha256 = digest
    _set_state(answer, AnswerState.UPLOADED)
    audit.record(
        session,
        org_id=answer.org_id,
        actor=_actor(interview),
        action="answer.uploaded",
        subject=f"answer:{answer.id}",
        data={"sha256": digest, "bytes": answer.size_bytes},
    )
    # The chunks go in the background: deleting a take's 20-odd files here cost more than the
    # rest of keeping it, and held up everyone's uploads when many finished at once.
    jobs.publish_after_commit(session, publisher, jobs.DISCARD_CHUNKS, answer.id)
    jobs.publish_after_commit(session, publisher, jobs.TRANSCRIBE_ANSWER, answer.id)
    return answer


def _discard_chunks(session: Session, *, storage: MediaStorage, answer: Answer) -> None:
    """Forget a rejected upload so the candidate can record the answer again."""
    keys = [media.chunk_key(answer.id, c.index) for c in answer.chunks]
    answer.chunks.clear()
    answer.size_bytes = 0
    answer.recorded_chunks = None
    session.flush()
    after_commit(session, lambda: [storage.delete(key) for key in keys])


TYPED_ASR_VERSION = "typed"  # the Transcript.asr_version of an answer the candidate typed


def submit_typed_answer(
    session: Session,
    *,
    settings: Settings,
    storage: MediaStorage,
    interview: Interview,
    question_id: str,
    text: str,
) -> Answer:
    """A typed answer, for a candidate granted that accommodation: it goes straight to scoring."""
    check_question(session, interview=interview, question_id=question_id)
    if not interview.typed_answers:
        raise Conflict(
            "Typed answers are not enabled for your interview. Ask the recruiter if you need them.",
            code="typed_not_allowed",
        )
    words = " ".join(text.split())
    if not words:
        raise Invalid("The answer is empty. Type your answer, then send it.", code="empty_answer")
    if len(words) > settings.max_typed_answer_chars:
        raise TooLarge(
            f"A typed answer may be at most {settings.max_typed_answer_chars} characters."
        )
    answer, _ = _answer_for(
        session, interview=interview, question_id=question_id, content_type="text/plain"
    )
    if answer.chunks:
        _discard_chunks(session, storage=storage, answer=answer)
    _set_state(answer, AnswerState.UPLOADED)
    _set_state(answer, AnswerState.TRANSCRIBING)
    _set_state(answer, AnswerState.TRANSCRIBED)
    answer.content_type = "text/plain"
    answer.sha256 = hashlib.sha256(text.encode()).hexdigest()
    answer.size_bytes = len(text.encode())
    session.add(
        Transcript(
            org_id=answer.org_id,
            answer_id=answer.id,
            asr_version=TYPED_ASR_VERSION,
            text=text.strip(),
            language="en",
            language_probability=1.0,
            words=[],
            speech_regions=[],
            quality_flags=[],
            processing_seconds=0.0,
        )
    )
    audit.record(
        session,
        org_id=answer.org_id,
        actor=_actor(interview),
        action="answer.typed",
        subject=f"answer:{answer.id}",
        data={"sha256": answer.sha256, "characters": len(text)},
    )
    return answer


RESTARTABLE = frozenset({AnswerState.RECEIVING, AnswerState.NO_SPEECH, AnswerState.FAILED})


def retakes_allowed(session: Session, *, interview: Interview) -> int:
    """The role's retakes per question plus any the recruiter granted this candidate."""
    # The role as loaded by the request already, else only its allowance (one small query, not
    # the role with its thresholds and script: keeping a take reads nothing else of it).
    role = session.identity_map.get(identity_key(JobRole, interview.role_id))
    retakes = role.retakes if isinstance(role, JobRole) else session.scalar(
        select(JobRole.retakes).where(JobRole.id == interview.role_id)
    )
    assert retakes is not None
    return retakes + interview.extra_retakes


def retakes_left(session: Session, *, interview: Interview, answer: Answer | None) -> int:
    used = answer.retakes_used if answer is not None else 0
    return max(0, retakes_allowed(session, interview=interview) - used)


def restart_answer(
    session: Session, *, storage: MediaStorage, interview: Interview, question_id: str
) -> Answer:
    """Start an answer's recording over.

    After a whole take that was not kept yet ("record again") this uses one of the candidate's
    retakes, and is refused when none are left. After a cut-off upload, silence or unreadable
    media it never does: the candidate was not heard the first time.
    """
    if interview.state not in _ANSWERING:
        raise Conflict(
            f"This interview is {interview.state.value}; answers cannot be recorded.",
            code="interview_not_open",
        )
    check_question(session, interview=interview, question_id=question_id)
    answer = session.scalar(
        select(Answer).where(Answer.interview_id == interview.id, Answer.question_id == question_id)
    )
    if answer is None:
        raise NotFound("Nothing was recorded for this question yet.", code="no_upload")
    if answer.state not in RESTARTABLE:
        raise Conflict("This question has already been answered.", code="already_answered")
    previous = answer.state
    retake = previous == AnswerState.RECEIVING and answer.recorded_chunks is not None
    if retake:
        if retakes_left(session, interview=interview, answer=answer) <= 0:
            raise Conflict(
                "You have used the retakes allowed for this question, so this answer is kept.",
                code="no_retakes_left",
            )
        answer.retakes_used += 1
    _discard_chunks(session, storage=storage, answer=answer)
    if answer.media_key is not None:
        old_key = answer.media_key
        after_commit(session, lambda: storage.delete(old_key))
    if previous != AnswerState.RECEIVING:
        _set_state(answer, AnswerState.RECEIVING)
    answer.media_key = answer.sha256 = answer.failure_code = answer.failure_reason = None
    answer.duration_seconds = answer.speech_seconds = answer.recorded_chunks = None
    answer.attempts = 0
    audit.record(
        session,
        org_id=answer.org_id,
        actor=_actor(interview),
        action="answer.retaken" if retake else "answer.restarted",
        subject=f"answer:{answer.id}",
        data={"retakes_used": answer.retakes_used}
        if retake
        else {"previous_state": previous.value},
    )
    return answer


def _set_state(answer: Answer, target: AnswerState) -> None:
    check_answer_transition(answer.state, target)
    answer.state = target
    answer.state_changed_at = utcnow()


def finish_interview(
    session: Session, *, interview: Interview, publisher: jobs.JobPublisher | None = None
) -> Interview:
    """Close the interview once every scripted question has a complete answer.

    Its webhooks are published after the commit; without a publisher the sweeper sends them.
    """
    if interview.state == InterviewState.COMPLETED:
        return interview
    answered = {a.question_id for a in interview.answers if a.state != AnswerState.RECEIVING}
    missing = [
        i.position + 1
        for i in script_of(session, interview=interview)
        if i.question_id not in answered
    ]
    if missing:
        raise Conflict(
            "Some questions have not been answered yet.",
            code="questions_unanswered",
            questions=missing,
        )
    check_interview_transition(interview.state, InterviewState.COMPLETED)
    interview.state = InterviewState.COMPLETED
    interview.completed_at = utcnow()
    audit.record(
        session,
        org_id=interview.org_id,
        actor=_actor(interview),
        action="interview.completed",
        subject=f"interview:{interview.id}",
    )
    webhooks.interview_completed(session, publisher=publisher, interview=interview)
    return interview
