"""Psychologists' labelling batches, their blind assignments, training snapshots and promotions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, OrgScoped


class LabelBatch(OrgScoped, Base):
    """Answers of one role sent to a panel of raters, each answer to `raters_per_answer` of them."""

    __tablename__ = "label_batches"

    name: Mapped[str] = mapped_column(String(200))
    role_id: Mapped[str | None] = mapped_column(ForeignKey("job_roles.id", ondelete="SET NULL"))
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id"))
    raters_per_answer: Mapped[int]
    rater_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # the panel, in order
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the calibration session's re-score round (round 2) was opened.
    session_started_at: Mapped[dt.datetime | None]


class LabelAssignment(OrgScoped, Base):
    """One rater's score of one answer in one round: 1 blind, 2 the calibration re-score.

    Rows are the assignment and the label at once: `level` and `comment` are the rater's own
    draft until `state` is "submitted", after which they are fixed. Another rater's row is
    readable only once every rater of that answer and round has submitted (calibration/service.py).
    """

    __tablename__ = "label_assignments"
    __table_args__ = (
        UniqueConstraint("batch_id", "answer_id", "rater_id", "round"),
        Index("ix_label_assignments_rater_state", "rater_id", "state"),
        Index("ix_label_assignments_batch_answer", "batch_id", "answer_id", "round"),
    )

    batch_id: Mapped[str] = mapped_column(ForeignKey("label_batches.id", ondelete="CASCADE"))
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    rater_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=1)
    position: Mapped[int]  # order in the rater's queue
    competency_key: Mapped[str] = mapped_column(String(64))  # the criterion the answer is scored on
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, draft, submitted
    level: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime | None]


class TrainingSnapshot(OrgScoped, Base):
    """The aggregated labels a model is trained on, frozen: which raters, rubric and answers."""

    __tablename__ = "training_snapshots"
    __table_args__ = (UniqueConstraint("org_id", "version"),)

    batch_id: Mapped[str | None] = mapped_column(ForeignKey("label_batches.id", ondelete="SET NULL"))
    version: Mapped[int]  # 1, 2, ... per organisation
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id"))
    aggregate: Mapped[str] = mapped_column(String(16))  # mean or median
    rater_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[int]
    data_key: Mapped[str] = mapped_column(String(300))  # the labelled CSV in media storage
    data_sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ModelPromotion(OrgScoped, Base):
    """A person's promotion of a trained model past the agreement gate; the newest one scores."""

    __tablename__ = "model_promotions"

    training_run_id: Mapped[str] = mapped_column(ForeignKey("training_runs.id"))
    model_version: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    margin: Mapped[float]
    gate: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
