"""Contracts, their extraction, corrections, chat, daily metrics and the runtime settings."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import NOW, Base, _created, _pk


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        Index(
            "contracts_contract_id_prefix_idx",
            "contract_id",
            postgresql_ops={"contract_id": "text_pattern_ops"},
        ),
        Index(
            "contracts_account_number_prefix_idx",
            "account_number",
            postgresql_ops={"account_number": "text_pattern_ops"},
        ),
        Index(
            "contracts_vin_idx",
            func.upper(text("vehicle_info ->> 'vin'")).label("vin"),
            postgresql_ops={"vin": "text_pattern_ops"},
        ),
        Index(
            "contracts_vehicle_info_idx",
            "vehicle_info",
            postgresql_using="gin",
            postgresql_ops={"vehicle_info": "jsonb_path_ops"},
        ),
        Index(
            "contracts_customer_name_trgm_idx",
            "customer_name",
            postgresql_using="gin",
            postgresql_ops={"customer_name": "gin_trgm_ops"},
        ),
        Index("contracts_document_tsv_idx", "document_tsv", postgresql_using="gin"),
        Index("contracts_type_date_idx", "contract_type", "contract_date"),
        Index("contracts_contract_date_idx", "contract_date"),
    )

    contract_id: Mapped[str] = mapped_column(primary_key=True)
    account_number: Mapped[str]
    customer_name: Mapped[str]
    vehicle_info: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    contract_type: Mapped[str] = mapped_column(server_default=text("'retail_installment'::text"))
    contract_date: Mapped[dt.date | None]
    s3_bucket: Mapped[str | None]
    s3_key: Mapped[str | None]
    document_text: Mapped[str | None]
    document_sha256: Mapped[str | None]
    page_count: Mapped[int | None]
    text_extraction_status: Mapped[str] = mapped_column(server_default=text("'pending'::text"))
    text_extraction_error: Mapped[str | None]
    document_tsv: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('english'::regconfig, COALESCE(document_text, ''::text))", persisted=True),
    )
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


FIELD_CONFIDENCE = text("0")


# The weighed fields' weakest confidence (services/domain.py weighed_fields), 0 for an item the refund checks
# flag: min_confidence (migration 0011) and, for all but QA samples, queue_rank (migration 0013).
WEAKEST_FIELD = (
    "LEAST(gap_insurance_premium_confidence, refund_calculation_method_confidence, "
    "cancellation_fee_confidence, term_months_confidence, governing_state_confidence, "
    "CASE WHEN (refund_calculation_method = 'Actuarial'::text) THEN apr_confidence ELSE NULL::smallint END, "
    "CASE WHEN (refund_flags <> '{}'::text[]) THEN (0)::smallint ELSE NULL::smallint END)"
)


class Extraction(Base):
    __tablename__ = "extractions"
    __table_args__ = (
        UniqueConstraint("contract_id", name="extractions_contract_id_key"),
        Index(
            "extractions_queue_idx",
            "min_confidence",
            "extracted_at",
            "id",
            postgresql_where=text("status = 'pending'::text"),
        ),
        Index(
            "extractions_rank_queue_idx",
            "queue_rank",
            "extracted_at",
            "id",
            postgresql_where=text("status = 'pending'::text"),
        ),
        Index(
            "extractions_provider_queue_idx",
            "llm_provider",
            "queue_rank",
            "extracted_at",
            "id",
            postgresql_where=text("status = 'pending'::text"),
        ),
        Index(
            "extractions_routing_idx",
            "min_confidence",
            postgresql_include=[
                "llm_provider",
                "gap_insurance_premium_confidence",
                "refund_calculation_method_confidence",
                "cancellation_fee_confidence",
                "term_months_confidence",
                "governing_state_confidence",
                "apr_confidence",
                "refund_calculation_method",
                "refund_flags",
                "qa_sample",
            ],
            postgresql_where=text("status = 'pending'::text"),
        ),
        Index("extractions_claimed_by_idx", "claimed_by", postgresql_where=text("claimed_by IS NOT NULL")),
        Index(
            "extractions_reviewed_by_idx",
            "reviewed_by",
            "reviewed_at",
            postgresql_include=["status", "review_seconds"],
        ),
        Index("extractions_status_reviewed_at_idx", "status", "reviewed_at", postgresql_include=["id"]),
        Index(
            "extractions_extracted_at_idx",
            "extracted_at",
            postgresql_include=[
                "min_confidence",
                "gap_insurance_premium_confidence",
                "refund_calculation_method_confidence",
                "cancellation_fee_confidence",
                "term_months_confidence",
                "governing_state_confidence",
                "apr_confidence",
            ],
        ),
        Index("extractions_updated_at_idx", "updated_at"),
        Index("extractions_provider_model_idx", "llm_provider", "model_version", "extracted_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id", ondelete="CASCADE"))
    gap_insurance_premium: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    gap_insurance_premium_confidence: Mapped[int] = mapped_column(
        SmallInteger, server_default=FIELD_CONFIDENCE
    )
    gap_insurance_premium_source: Mapped[dict[str, Any] | None]
    refund_calculation_method: Mapped[str | None]
    refund_calculation_method_confidence: Mapped[int] = mapped_column(
        SmallInteger, server_default=FIELD_CONFIDENCE
    )
    refund_calculation_method_source: Mapped[dict[str, Any] | None]
    cancellation_fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    cancellation_fee_confidence: Mapped[int] = mapped_column(SmallInteger, server_default=FIELD_CONFIDENCE)
    cancellation_fee_source: Mapped[dict[str, Any] | None]
    # Migration 0011: NULL confidence = not yet extracted (an extraction older than these fields).
    term_months: Mapped[int | None]
    term_months_confidence: Mapped[int | None] = mapped_column(SmallInteger)
    term_months_source: Mapped[dict[str, Any] | None]
    governing_state: Mapped[str | None]
    governing_state_confidence: Mapped[int | None] = mapped_column(SmallInteger)
    governing_state_source: Mapped[dict[str, Any] | None]
    apr: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    apr_confidence: Mapped[int | None] = mapped_column(SmallInteger)
    apr_source: Mapped[dict[str, Any] | None]
    # Fields flagged by the refund checks (services/refunds/field_checks.py); a flagged item's min_confidence is 0.
    refund_flags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    # The weighed fields' weakest confidence (services/domain.py weighed_fields), rebuilt by migration 0011.
    min_confidence: Mapped[int | None] = mapped_column(
        SmallInteger,
        Computed(WEAKEST_FIELD, persisted=True),
    )
    llm_provider: Mapped[str]
    model_version: Mapped[str]
    prompt_version: Mapped[str]
    fallback_from: Mapped[str | None]
    fallback_reason: Mapped[str | None]
    processing_time_ms: Mapped[int] = mapped_column(server_default=text("0"))
    prompt_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    status: Mapped[str] = mapped_column(server_default=text("'pending'::text"))
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[dt.datetime | None]
    claim_expires_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[dt.datetime | None]
    review_seconds: Mapped[int | None]
    rejection_reason: Mapped[str | None]
    version: Mapped[int] = mapped_column(server_default=text("1"))
    extracted_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)
    qa_sample: Mapped[bool] = mapped_column(server_default=text("false"))
    # Where the queue places an extraction (schema/v0013): a QA sample by a random key drawn when it was
    # made, so that its place does not give its hidden confidence away; any other by its weakest field.
    queue_key: Mapped[int] = mapped_column(
        SmallInteger, server_default=text("(floor((random() * (100)::double precision)))::smallint")
    )
    queue_rank: Mapped[int | None] = mapped_column(
        SmallInteger,
        Computed(f"CASE WHEN qa_sample THEN queue_key ELSE {WEAKEST_FIELD} END", persisted=True),
    )
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class Correction(Base):
    __tablename__ = "corrections"
    __table_args__ = (
        Index("corrections_extraction_id_idx", "extraction_id", "corrected_at"),
        Index(
            "corrections_corrected_by_idx",
            "corrected_by",
            "corrected_at",
            postgresql_include=["extraction_id"],
        ),
        Index(
            "corrections_field_name_idx",
            "field_name",
            "corrected_at",
            postgresql_include=["extraction_id"],
        ),
    )

    id: Mapped[uuid.UUID] = _pk()
    extraction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"))
    field_name: Mapped[str]
    original_value: Mapped[str | None]
    corrected_value: Mapped[str | None]
    reason_code: Mapped[str]
    reason_note: Mapped[str | None]
    corrected_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    corrected_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)


class SystemConfig(Base):
    __tablename__ = "system_config"
    __table_args__ = (
        UniqueConstraint("key", name="system_config_key_key"),
        Index("system_config_updated_by_idx", "updated_by"),
    )

    id: Mapped[uuid.UUID] = _pk()
    key: Mapped[str]
    value: Mapped[str]
    value_type: Mapped[str]
    description: Mapped[str]
    allowed_values: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    min_value: Mapped[Decimal | None] = mapped_column(Numeric)
    max_value: Mapped[Decimal | None] = mapped_column(Numeric)
    is_secret: Mapped[bool] = mapped_column(server_default=text("false"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("chat_messages_contract_id_idx", "contract_id", "created_at"),
        Index("chat_messages_user_id_idx", "user_id", "created_at"),
        Index("chat_messages_session_id_idx", "session_id"),
    )

    id: Mapped[uuid.UUID] = _pk()
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.contract_id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    role: Mapped[str]
    content: Mapped[str]
    citations: Mapped[list[Any] | None]
    llm_provider: Mapped[str | None]
    model_version: Mapped[str | None]
    prompt_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    created_at: Mapped[dt.datetime] = _created()


class ExtractionMetric(Base):
    __tablename__ = "extraction_metrics"
    __table_args__ = (
        UniqueConstraint(
            "metric_date", "llm_provider", "model_version", name="extraction_metrics_day_provider_model_key"
        ),
        Index("extraction_metrics_provider_idx", "llm_provider", "model_version", "metric_date"),
    )

    id: Mapped[uuid.UUID] = _pk()
    metric_date: Mapped[dt.date]
    llm_provider: Mapped[str]
    model_version: Mapped[str]
    extractions_count: Mapped[int] = mapped_column(server_default=text("0"))
    pending_count: Mapped[int] = mapped_column(server_default=text("0"))
    approved_count: Mapped[int] = mapped_column(server_default=text("0"))
    rejected_count: Mapped[int] = mapped_column(server_default=text("0"))
    corrected_count: Mapped[int] = mapped_column(server_default=text("0"))
    below_threshold_count: Mapped[int] = mapped_column(server_default=text("0"))
    fallback_count: Mapped[int] = mapped_column(server_default=text("0"))
    avg_min_confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    avg_processing_ms: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), server_default=text("0"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
