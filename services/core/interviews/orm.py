"""Candidates, invitations, interviews, answers, transcripts, scores and human decisions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core.db import Base, OrgScoped, enum_column
from services.core.interviews.states import AnswerState, InterviewState


class Candidate(OrgScoped, Base):
    __tablename__ = "candidates"
    # The ranked list sorts by name (scoring/standings.py) and walks this index to do it.
    __table_args__ = (
        Index("ix_candidates_name_lower", func.lower(text("name"))),
        # Search by part of a name or email; PostgreSQL with pg_trgm only (migration 0013).
        Index("ix_candidates_name_trgm", text("lower(name) gin_trgm_ops"),
              postgresql_using="gin"),
        Index("ix_candidates_email_trgm", text("email gin_trgm_ops"), postgresql_using="gin"),
    )

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    is_synthetic: Mapped[bool] = mapped_column(default=False)


class Invitation(OrgScoped, Base):
    """An invite link; the token itself is shown once and only its SHA-256 is stored."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the candidate came through their role's open link (interviews/open_links.py).
    open_link_id: Mapped[str | None] = mapped_column(
        ForeignKey("open_links.id", ondelete="SET NULL"), index=True
    )
    # The one reminder before expiry (interviews/reminders.py), and the last time an open link
    # emailed the link again, which it does at most every few minutes.
    reminded_at: Mapped[dt.datetime | None]
    resent_at: Mapped[dt.datetime | None]


class OpenLink(OrgScoped, Base):
    """A role's link anyone may open to get an interview of their own; only its hash is stored."""

    __tablename__ = "open_links"

    role_id: Mapped[str] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime | None]
    max_candidates: Mapped[int | None]
    candidates: Mapped[int] = mapped_column(default=0)  # interviews made through it, ever
    active: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Interview(OrgScoped, Base):
    __tablename__ = "interviews"
    __table_args__ = (
        Index("ix_interviews_role_fit_sort", "role_id", "fit_sort", "id"),
        Index("ix_interviews_role_created", "role_id", "created_at", "id"),
    )

    candidate_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
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
    # The overall fit as the ranked list shows it, kept by scoring/standings.py whenever a score,
    # an override or a threshold changes; `fit_sort` is the fit, or -1 before any score, so one
    # index orders a role's candidates (see ix_interviews_role_fit_sort).
    fit: Mapped[float | None] = mapped_column(Float)
    fit_sort: Mapped[float] = mapped_column(Float, default=-1.0, server_default="-1")
    candidate: Mapped[Candidate] = relationship(lazy="joined")
    answers: Mapped[list[Answer]] = relationship(lazy="selectin", order_by="Answer.created_at")
    invitation: Mapped[Invitation] = relationship(lazy="joined", innerjoin=True)


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


class Note(OrgScoped, Base):
    """A recruiter's free-text note on a candidate (interviews/notes.py); never seen by scoring."""

    __tablename__ = "interview_notes"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)


class CandidateCv(OrgScoped, Base):
    """The PDF a recruiter keeps with an interview (interviews/cv.py); never seen by scoring."""

    __tablename__ = "interview_cvs"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), unique=True
    )
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[dt.datetime]
