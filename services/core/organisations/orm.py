"""Organisations (tenants), their staff and staff sessions."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db import Base, IdMixin, OrgScoped, enum_column


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    RECRUITER = "recruiter"
    PSYCHOLOGIST = "psychologist"


class Organisation(IdMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    retention_days: Mapped[int] = mapped_column(default=365)
    # Where candidates ask for an accommodation or a human-only review.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # The trained model a psychologist promoted (calibration/promotion.py); None: the seed model.
    scoring_model_version: Mapped[str | None] = mapped_column(String(200))
    # Promotion gate: the model's agreement with the panel may trail the raters' own by this much.
    promotion_margin: Mapped[float] = mapped_column(default=0.05, server_default="0.05")


class User(OrgScoped, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class StaffSession(OrgScoped, Base):
    """A signed-in browser or API client; only the SHA-256 of its token is stored."""

    __tablename__ = "staff_sessions"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
