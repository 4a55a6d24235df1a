"""The question bank and job roles with their scripts and per-competency thresholds."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core.db import Base, OrgScoped


class Question(OrgScoped, Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    key: Mapped[str] = mapped_column(String(100))
    competency_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class JobRole(OrgScoped, Base):
    __tablename__ = "job_roles"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rubric_version_id: Mapped[str] = mapped_column(ForeignKey("rubric_versions.id"))
    think_seconds: Mapped[int] = mapped_column(default=30)
    answer_seconds: Mapped[int] = mapped_column(default=150)
    retakes: Mapped[int] = mapped_column(default=1)
    ai_scoring_paused: Mapped[bool] = mapped_column(default=False)
    # A short report to candidates naming strengths their answers showed (never a score),
    # offered this many days after they finish.
    feedback_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    feedback_delay_days: Mapped[int] = mapped_column(default=3, server_default="3")
    thresholds: Mapped[list[CompetencyThreshold]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CompetencyThreshold.competency_key"
    )
    script: Mapped[list[ScriptItem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ScriptItem.position"
    )


class CompetencyThreshold(OrgScoped, Base):
    """Required and "exceeds" levels on the rubric's 1-5 scale for one competency of a role."""

    __tablename__ = "competency_thresholds"
    __table_args__ = (UniqueConstraint("role_id", "competency_key"),)

    role_id: Mapped[str] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(64))
    required_level: Mapped[float]
    exceeds_level: Mapped[float]


class ScriptItem(OrgScoped, Base):
    """One question of a role's ordered script."""

    __tablename__ = "script_items"
    __table_args__ = (
        UniqueConstraint("role_id", "position"),
        UniqueConstraint("role_id", "question_id"),
    )

    role_id: Mapped[str] = mapped_column(ForeignKey("job_roles.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"))
    position: Mapped[int]
    question: Mapped[Question] = relationship(lazy="joined")
