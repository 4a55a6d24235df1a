"""Candidates, invitations, interviews, answers, transcripts, scores and human decisions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core.db import Base, OrgScoped, enum_column
from services.core.interviews.states import AnswerState, InterviewState


class Candidate(OrgScoped, Base):
    __tablename__ = "candidates"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    is_synthetic: Mapped[bool] = mapped_column(default=False)


class Invitation(OrgScoped, Base):
    """An invite link; the token itself is shown once and only its SHA-256 is stored."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Interview(OrgScoped, Base):
    __tablename__ = "interviews"

    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    role_id: Mapped[str] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[str] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[InterviewState] = mapped_column(
        enum_column(InterviewState), default=InterviewState.INVITED
    )
    status: Mapped[str] = mapped_column(String(32), default="new")  # set only by a person
    completed_at: Mapped[dt.datetime | None]
    # Accommodations a recruiter granted this candidate (each change is in the audit log).
    extra_think_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    extra_answer_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    extra_retakes: Mapped[int] = mapped_column(default=0, server_default="0")
    typed_answers: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # The candidate's requests about their data (interviews/privacy.py); each is in the audit log.
    deletion_requested_at: Mapped[dt.datetime | None]
    deletion_due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    human_review_requested_at: Mapped[dt.datetime | None]
    human_review_message: Mapped[str | None] = mapped_column(Text)
    candidate: Mapped[Candidate] = relationship(lazy="joined")
    answers: Mapped[list[Answer]] = relationship(lazy="selectin", order_by="Answer.created_at")


class Consent(OrgScoped, Base):
    """The candidate's explicit, versioned consent (or refusal) to AI assessment."""

    __tablename__ = "consents"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    notice_version: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[bool]
    client: Mapped[str] = mapped_column(String(300), default="")


class Answer(OrgScoped, Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("interview_id", "question_id"),)

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"))
    state: Mapped[AnswerState] = mapped_column(
        enum_column(AnswerState), default=AnswerState.RECEIVING, index=True
    )
    state_changed_at: Mapped[dt.datetime]
    content_type: Mapped[str] = mapped_column(String(100))
    media_key: Mapped[str | None] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    speech_seconds: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(default=0)
    # Takes the candidate chose to record again ("record again"), against the role's allowance.
    retakes_used: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when the page says the recording ended normally with this many chunks: recording it
    # again from here costs a retake, unlike starting over after a cut-off upload.
    recorded_chunks: Mapped[int | None]
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    chunks: Mapped[list[AnswerChunk]] = relationship(
        lazy="selectin", order_by="AnswerChunk.index", cascade="all, delete-orphan"
    )


class AnswerChunk(OrgScoped, Base):
    __tablename__ = "answer_chunks"
    __table_args__ = (UniqueConstraint("answer_id", "index"),)

    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    index: Mapped[int]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))


class Transcript(OrgScoped, Base):
    """One per answer and ASR version; `words` holds [{start, end, text, probability}, ...]."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("answer_id", "asr_version"),)

    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    asr_version: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    language_probability: Mapped[float]
    words: Mapped[list[dict[str, float | str]]] = mapped_column(JSON)
    speech_regions: Mapped[list[list[float]]] = mapped_column(JSON)
    # too_short, wrong_language, low_confidence, mostly_non_speech (models/asr/quality.py)
    quality_flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    processing_seconds: Mapped[float]


class Score(OrgScoped, Base):
    """A competency score for one answer, naming the rubric, model and ASR versions behind it."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("answer_id", "competency_key", "model_version"),)

    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]  # 0-100
    level: Mapped[float | None] = mapped_column(Float)  # on the rubric's scale, e.g. 1-5
    # Gate rules the answer tripped (models/scoring/scorer.py GATE_RULES): why it is capped.
    gates: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id"))
    model_version: Mapped[str] = mapped_column(String(200))
    asr_version: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class Decision(OrgScoped, Base):
    """A person's status change for a candidate, with the reason and what they had opened."""

    __tablename__ = "decisions"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    viewed: Mapped[list[str]] = mapped_column(JSON, default=list)
