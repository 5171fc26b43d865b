"""SQLAlchemy models mirroring schema/ exactly.

The SQL files are the source of truth; these classes let services build
queries with `select()` instead of strings. tests/db/test_migrations.py
(test_models_match_the_migrated_database) runs Alembic's comparison against a
migrated database, so a column added in SQL and forgotten here (or the
reverse) fails the build.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NOW = text("now()")
UUID_DEFAULT = text("gen_random_uuid()")
ZERO_HASH = text("'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea")


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=True),
        dt.date: Date(),
        str: Text(),
        dict[str, Any]: JSONB(),
        list[Any]: JSONB(),
    }


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, server_default=UUID_DEFAULT)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(server_default=NOW)


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
            "extractions_provider_queue_idx",
            "llm_provider",
            "min_confidence",
            "extracted_at",
            "id",
            postgresql_where=text("status = 'pending'::text"),
        ),
        Index(
            "extractions_routing_idx",
            "min_confidence",
            postgresql_include=[
                "gap_insurance_premium_confidence",
                "refund_calculation_method_confidence",
                "cancellation_fee_confidence",
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
    min_confidence: Mapped[int | None] = mapped_column(
        SmallInteger,
        Computed(
            "LEAST(gap_insurance_premium_confidence, refund_calculation_method_confidence, "
            "cancellation_fee_confidence)",
            persisted=True,
        ),
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
    """A cancellation's refund: its inputs, verdict and steps, and its way to payment (schema/v0009)."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        UniqueConstraint("approval_seq", name="refund_requests_approval_seq_key"),
        Index(
            "refund_requests_one_live_per_contract",
            "contract_id",
            unique=True,
            postgresql_where=text("status <> 'not_payable'::text"),
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
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    updated_at: Mapped[dt.datetime] = _created()


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
