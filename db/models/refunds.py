"""Jurisdiction rules and refund requests."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, _created, _pk


class JurisdictionRuleRow(Base):
    """A state's refund rule from its effective date on (schema/v0009); the default row has state '*'."""

    __tablename__ = "jurisdiction_rules"
    __table_args__ = (
        UniqueConstraint("state", "effective_from", name="jurisdiction_rules_state_effective_from_key"),
        Index("jurisdiction_rules_updated_by_idx", "updated_by"),
    )

    id: Mapped[uuid.UUID] = _pk()
    state: Mapped[str]
    effective_from: Mapped[dt.date]
    free_look_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    fee_allowed: Mapped[bool] = mapped_column(server_default=text("true"))
    fee_cap: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    methods_allowed: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    pro_rata_basis: Mapped[str] = mapped_column(server_default=text("'days'::text"))
    short_rate_factor: Mapped[Decimal] = mapped_column(Numeric(5, 4), server_default=text("0.90"))
    written_request_days: Mapped[int | None] = mapped_column(Integer)
    payment_due_days: Mapped[int | None] = mapped_column(Integer)
    citation: Mapped[str]
    is_default: Mapped[bool] = mapped_column(server_default=text("false"))
    notes: Mapped[str] = mapped_column(server_default=text("''::text"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class RefundRequest(Base):
    """A cancellation's refund: its inputs, verdict and steps, and its way to payment (schema/v0009, rejection v0012)."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        UniqueConstraint("approval_seq", name="refund_requests_approval_seq_key"),
        Index(
            "refund_requests_one_live_per_contract",
            "contract_id",
            unique=True,
            postgresql_where=text("status <> ALL (ARRAY['not_payable'::text, 'rejected'::text])"),
        ),
        Index(
            "refund_requests_open_by_due_idx",
            "pay_by",
            "requested_at",
            postgresql_where=text(
                "status = ANY (ARRAY['open'::text, 'awaiting_second_approval'::text, 'approved'::text])"
            ),
        ),
        Index("refund_requests_contract_idx", "contract_id", "requested_at"),
        Index("refund_requests_requested_by_idx", "requested_by"),
        Index("refund_requests_first_approved_by_idx", "first_approved_by"),
        Index("refund_requests_approved_by_idx", "approved_by"),
        Index("refund_requests_paid_by_idx", "paid_by"),
        Index("refund_requests_rule_id_idx", "rule_id"),
        Index("refund_requests_rejected_by_idx", "rejected_by"),
        Index("refund_requests_requested_at_idx", "requested_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id", ondelete="RESTRICT"))
    cancel_date: Mapped[dt.date]
    reason: Mapped[str]
    request_date: Mapped[dt.date]
    premium: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    method: Mapped[str | None]
    fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    term_months: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None]
    apr: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jurisdiction_rules.id", ondelete="RESTRICT")
    )
    verdict: Mapped[str]
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    fee_applied: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default=text("0"))
    method_used: Mapped[str | None]
    reasons: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    flags: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    steps: Mapped[list[Any]]
    pay_by: Mapped[dt.date | None]
    status: Mapped[str]
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    requested_at: Mapped[dt.datetime] = _created()
    first_approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    first_approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: Mapped[dt.datetime | None]
    approval_seq: Mapped[int | None] = mapped_column(BigInteger)
    paid_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    paid_at: Mapped[dt.datetime | None]
    payment_reference: Mapped[str | None]
    exported_at: Mapped[dt.datetime | None]
    rejected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    rejected_at: Mapped[dt.datetime | None]
    rejection_reason: Mapped[str | None]
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    updated_at: Mapped[dt.datetime] = _created()
