"""The audit log and the end of its hash chain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    text,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import UUID_DEFAULT, ZERO_HASH, Base, _created


class AuditEvent(Base):
    """One row of the append-only log; seq and hashes are set by the database."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("audit_events_seq_idx", "seq"),
        Index(
            "audit_events_contract_idx",
            "contract_id",
            "seq",
            postgresql_where=text("contract_id IS NOT NULL"),
        ),
        Index("audit_events_user_idx", "user_id", "occurred_at"),
        Index("audit_events_type_idx", "event_type", "occurred_at"),
        Index("audit_events_session_idx", "session_id", postgresql_where=text("session_id IS NOT NULL")),
        Index("audit_events_occurred_at_idx", "occurred_at", postgresql_using="brin"),
        Index(
            "audit_events_event_data_idx",
            "event_data",
            postgresql_using="gin",
            postgresql_ops={"event_data": "jsonb_path_ops"},
        ),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=UUID_DEFAULT)
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        primary_key=True, server_default=text("clock_timestamp()")
    )
    event_type: Mapped[str]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    session_id: Mapped[uuid.UUID | None]
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.contract_id", ondelete="RESTRICT"))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None]
    event_data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditChainHead(Base):
    """The end of the hash chain (one row), maintained by the insert trigger."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_hash: Mapped[bytes] = mapped_column(LargeBinary, server_default=ZERO_HASH)
    anchor_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    anchor_hash: Mapped[bytes] = mapped_column(LargeBinary, server_default=ZERO_HASH)
    updated_at: Mapped[dt.datetime] = _created()


# Views: mapped read-only for queries; excluded from the table comparison and
# checked column by column instead.
