"""The append-only audit log; each entry's hash covers the previous entry's hash."""

from __future__ import annotations

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, OrgScoped


class AuditEvent(OrgScoped, Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)

    seq: Mapped[int]
    actor: Mapped[str] = mapped_column(
        String(100)
    )  # "user:<id>", "candidate:<interview id>", "system"
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
