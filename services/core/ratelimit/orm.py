"""Counted events of rate limits, kept in the database so every API process sees them."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, IdMixin


class RateEvent(IdMixin, Base):
    """One counted event (a failed sign-in, a wrong token, an email sent) of a limit's subject.

    Not organisation-scoped: a guesser has no organisation, and the limit must see every try.
    """

    __tablename__ = "rate_events"
    __table_args__ = (
        Index("ix_rate_events_scope_subject_created", "scope", "subject", "created_at"),
        Index("ix_rate_events_created", "created_at"),
    )

    scope: Mapped[str] = mapped_column(String(32))
    # An email, a client address or an organisation's id: whatever the limit is per.
    subject: Mapped[str] = mapped_column(String(320))
    weight: Mapped[int] = mapped_column(default=1)
