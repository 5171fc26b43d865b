"""Who uses the product: users, their login secrets and throttling, their sessions."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import NOW, Base, _created, _pk


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("username", name="users_username_key"),
        UniqueConstraint("email", name="users_email_key"),
        Index("users_active_role_idx", "role", postgresql_where=text("is_active")),
    )

    id: Mapped[uuid.UUID] = _pk()
    username: Mapped[str]
    email: Mapped[str]
    full_name: Mapped[str]
    password_hash: Mapped[str]
    role: Mapped[str]
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    failed_login_count: Mapped[int] = mapped_column(server_default=text("0"))
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    password_must_change: Mapped[bool] = mapped_column(server_default=text("false"))


class AuthSecret(Base):
    """The HMAC key for typed usernames; only the owner reads it (schema/v0006)."""

    __tablename__ = "auth_secret"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    inner_pad: Mapped[bytes] = mapped_column(LargeBinary)
    outer_pad: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = _created()


class LoginThrottle(Base):
    """Failed logins per typed username's digest, and when the next attempt may come."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("login_throttle_last_failure_at_idx", "last_failure_at"),)

    username_digest: Mapped[str] = mapped_column(primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)
    retry_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("sessions_user_id_idx", "user_id"),
        Index("sessions_expires_at_idx", "expires_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str]
    created_at: Mapped[dt.datetime] = _created()
    last_activity_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None]
