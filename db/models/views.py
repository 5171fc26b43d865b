"""The read-only views, mapped on a base of their own (never created by `create_all`)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    Numeric,
    SmallInteger,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.models.base import Base

VIEW_NAMES = ("v_extraction_details", "v_user_activity", "v_daily_extraction_stats")


class ViewBase(DeclarativeBase):
    """Views live in their own metadata so that Alembic never tries to create them as tables."""

    type_annotation_map = Base.type_annotation_map


class ExtractionDetailView(ViewBase):
    __tablename__ = "v_extraction_details"

    extraction_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    contract_id: Mapped[str]
    account_number: Mapped[str]
    customer_name: Mapped[str]
    contract_type: Mapped[str]
    contract_date: Mapped[dt.date | None]
    vin: Mapped[str | None]
    gap_insurance_premium: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    gap_insurance_premium_confidence: Mapped[int] = mapped_column(SmallInteger)
    refund_calculation_method: Mapped[str | None]
    refund_calculation_method_confidence: Mapped[int] = mapped_column(SmallInteger)
    cancellation_fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    cancellation_fee_confidence: Mapped[int] = mapped_column(SmallInteger)
    min_confidence: Mapped[int] = mapped_column(SmallInteger)
    below_threshold: Mapped[bool] = mapped_column(Boolean)
    llm_provider: Mapped[str]
    model_version: Mapped[str]
    fallback_from: Mapped[str | None]
    status: Mapped[str]
    claimed_by: Mapped[uuid.UUID | None]
    claimed_by_username: Mapped[str | None]
    claim_expires_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    reviewed_by_username: Mapped[str | None]
    reviewed_at: Mapped[dt.datetime | None]
    rejection_reason: Mapped[str | None]
    correction_count: Mapped[int] = mapped_column(BigInteger)
    processing_time_ms: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    extracted_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer)


class UserActivityView(ViewBase):
    __tablename__ = "v_user_activity"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str]
    full_name: Mapped[str]
    role: Mapped[str]
    is_active: Mapped[bool]
    last_login_at: Mapped[dt.datetime | None]
    reviewed_count: Mapped[int] = mapped_column(BigInteger)
    approved_count: Mapped[int] = mapped_column(BigInteger)
    rejected_count: Mapped[int] = mapped_column(BigInteger)
    corrections_count: Mapped[int] = mapped_column(BigInteger)
    corrected_extractions_count: Mapped[int] = mapped_column(BigInteger)
    last_reviewed_at: Mapped[dt.datetime | None]
    last_event_at: Mapped[dt.datetime | None]


class DailyExtractionStatsView(ViewBase):
    __tablename__ = "v_daily_extraction_stats"

    metric_date: Mapped[dt.date] = mapped_column(primary_key=True)
    llm_provider: Mapped[str] = mapped_column(primary_key=True)
    model_version: Mapped[str] = mapped_column(primary_key=True)
    extractions_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer)
    approved_count: Mapped[int] = mapped_column(Integer)
    rejected_count: Mapped[int] = mapped_column(Integer)
    corrected_count: Mapped[int] = mapped_column(Integer)
    below_threshold_count: Mapped[int] = mapped_column(Integer)
    fallback_count: Mapped[int] = mapped_column(Integer)
    avg_min_confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    avg_processing_ms: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    cost_per_extraction_usd: Mapped[Decimal | None] = mapped_column(Numeric)
    correction_rate: Mapped[Decimal | None] = mapped_column(Numeric)
    review_rate: Mapped[Decimal | None] = mapped_column(Numeric)
