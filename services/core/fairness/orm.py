"""Voluntary self-identification, kept apart from everything the scorer and the ranking read."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, OrgScoped


class SelfIdentification(OrgScoped, Base):
    """What a candidate chose to tell about themselves after the interview, for monitoring only.

    No relationship points here from the interview, and nothing in scoring or ranking joins this
    table: only the adverse-impact report (admins) reads it. None means "not answered";
    "prefer_not_to_say" is an answer of its own.
    """

    __tablename__ = "self_identifications"

    interview_id: Mapped[str] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), unique=True
    )
    sex: Mapped[str | None] = mapped_column(String(32))
    race_ethnicity: Mapped[str | None] = mapped_column(String(64))
    age_band: Mapped[str | None] = mapped_column(String(32))
