"""The models that scored, and one run per (answer, model version)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, IdMixin, OrgScoped


class ScoringModelRecord(IdMixin, Base):
    """A model version that has scored answers, with its card as it was then."""

    __tablename__ = "scoring_models"

    version: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    calibrated: Mapped[bool] = mapped_column(default=False)
    card: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class ScoringRun(OrgScoped, Base):
    """The claim and outcome of scoring one answer with one model version."""

    __tablename__ = "scoring_runs"
    __table_args__ = (UniqueConstraint("answer_id", "model_version"),)

    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # running, scored, failed
    attempts: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[dt.datetime]
    failure_reason: Mapped[str | None] = mapped_column(Text)


class TrainingRun(OrgScoped, Base):
    """Training and evaluation on an uploaded labelled CSV, run by the worker with progress."""

    __tablename__ = "training_runs"

    state: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    data_key: Mapped[str] = mapped_column(String(300))
    data_sha256: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    progress: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, object] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state_changed_at: Mapped[dt.datetime]
    # Set when the labels came from a psychologists' batch (calibration/promotion.py).
    snapshot_id: Mapped[str | None] = mapped_column(
        ForeignKey("training_snapshots.id", ondelete="SET NULL")
    )


class ScoreOverride(OrgScoped, Base):
    """A person's override of one competency's score for one interview, with the reason.

    Rows are only ever added: the newest per (interview, competency) applies, and `value`
    None puts the model's score back. The model's own scores are never changed.
    """

    __tablename__ = "score_overrides"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    competency_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)  # 0-100, like the model's scores
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CompetencyStanding(OrgScoped, Base):
    """One competency of one interview as the ranked list shows it; kept by scoring/standings.py.

    A copy of what scoring/review.py computes from the scores, overrides and thresholds, stored
    so that a role of 100,000 candidates filters, sorts and pages in the database.
    """

    __tablename__ = "competency_standings"
    __table_args__ = (
        UniqueConstraint("interview_id", "competency_key"),
        # interview_id last: the band filters are answered from the index alone
        Index("ix_competency_standings_role_key_band", "role_id", "competency_key", "band",
              "interview_id"),
    )

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    role_id: Mapped[str] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)  # 0-100: a person's override when there is one
    model_score: Mapped[float] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(16))  # None: the role sets no threshold
    answers: Mapped[int]
    overridden: Mapped[bool] = mapped_column(default=False)
