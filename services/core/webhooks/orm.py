"""An organisation's webhook endpoints and every delivery to them (the delivery log)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, OrgScoped


class WebhookEndpoint(OrgScoped, Base):
    """Where an organisation's ATS listens, the events it wants, and the signing secret."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    # Kept in the clear: signing needs it; it is shown to the admin once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(OrgScoped, Base):
    """One event for one endpoint: its payload and the outcome of its latest attempt.

    `event_key` names the occurrence (`interview.scored:<interview>:<model version>`), so an
    event recorded twice for the same endpoint leaves one delivery.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_key"),
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
