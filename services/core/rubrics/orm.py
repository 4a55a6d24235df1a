"""Versioned rubrics: competency -> behavioural indicators -> anchored levels."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core.db import Base, OrgScoped


class Rubric(OrgScoped, Base):
    __tablename__ = "rubrics"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))


class RubricVersion(OrgScoped, Base):
    """An immutable version; scores name it exactly."""

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "version"),)

    rubric_id: Mapped[str] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    version: Mapped[int]
    rubric: Mapped[Rubric] = relationship(lazy="joined")
    competencies: Mapped[list[Competency]] = relationship(
        order_by="Competency.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def name(self) -> str:
        return self.rubric.name


class Competency(OrgScoped, Base):
    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("rubric_version_id", "key"),)

    rubric_version_id: Mapped[str] = mapped_column(
        ForeignKey("rubric_versions.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]
    indicators: Mapped[list[Indicator]] = relationship(
        order_by="Indicator.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Indicator(OrgScoped, Base):
    __tablename__ = "indicators"

    competency_id: Mapped[str] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int]
    levels: Mapped[list[AnchoredLevel]] = relationship(
        order_by="AnchoredLevel.level", cascade="all, delete-orphan", lazy="selectin"
    )


class AnchoredLevel(OrgScoped, Base):
    __tablename__ = "anchored_levels"
    __table_args__ = (UniqueConstraint("indicator_id", "level"),)

    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    level: Mapped[int]
    label: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
