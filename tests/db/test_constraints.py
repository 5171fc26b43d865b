"""Every CHECK, UNIQUE and NOT NULL rule refuses a bad row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from tests.db.rows import contract_row, extraction_row, insert, session_row, user_row


@pytest.fixture
async def base(superuser: asyncpg.Connection) -> dict[str, Any]:
    user = await insert(superuser, "users", user_row())
    contract = await insert(superuser, "contracts", contract_row())
    extraction = await insert(superuser, "extractions", extraction_row(contract["contract_id"]))
    return {"user_id": user["id"], "contract_id": contract["contract_id"], "extraction_id": extraction["id"]}


USER_CASES = [
    ({"username": "Bad Name"}, "users_username_format"),
    ({"username": "x"}, "users_username_format"),
    ({"email": "not-an-email"}, "users_email_format"),
    ({"email": "two@@example.com"}, "users_email_format"),
    ({"full_name": ""}, "users_full_name_length"),
    ({"password_hash": "plaintext"}, "users_password_hash_bcrypt"),
    ({"role": "superuser"}, "users_role_valid"),
    ({"failed_login_count": -1}, "users_failed_login_count_nonnegative"),
]

CONTRACT_CASES = [
    ({"contract_id": "bad id with spaces"}, "contracts_contract_id_format"),
    ({"account_number": "12 34"}, "contracts_account_number_format"),
    ({"customer_name": ""}, "contracts_customer_name_length"),
    ({"vehicle_info": ["not", "an", "object"]}, "contracts_vehicle_info_object"),
    ({"contract_type": "mortgage"}, "contracts_contract_type_valid"),
    ({"s3_bucket": "bucket"}, "contracts_s3_location_complete"),
    ({"document_sha256": "xyz"}, "contracts_document_sha256_format"),
    ({"page_count": -1}, "contracts_page_count_nonnegative"),
    ({"text_extraction_status": "done"}, "contracts_text_status_valid"),
    ({"document_text": None}, "contracts_text_present_when_extracted"),
]

EXTRACTION_CASES = [
    ({"gap_insurance_premium": -1}, "extractions_premium_nonnegative"),
    ({"cancellation_fee": -0.01}, "extractions_fee_nonnegative"),
    ({"gap_insurance_premium_confidence": 101}, "extractions_premium_confidence_range"),
    ({"refund_calculation_method_confidence": -1}, "extractions_method_confidence_range"),
    ({"cancellation_fee_confidence": 150}, "extractions_fee_confidence_range"),
    ({"refund_calculation_method": "Pro Rata"}, "extractions_method_valid"),
    ({"gap_insurance_premium_source": [1]}, "extractions_premium_source_object"),
    ({"refund_calculation_method_source": "x"}, "extractions_method_source_object"),
    ({"cancellation_fee_source": 3}, "extractions_fee_source_object"),
    ({"llm_provider": "gpt"}, "extractions_provider_valid"),
    ({"fallback_from": "rules", "fallback_reason": "x"}, "extractions_fallback_provider_valid"),
    ({"fallback_from": "anthropic"}, "extractions_fallback_consistent"),
    ({"processing_time_ms": -5}, "extractions_processing_time_nonnegative"),
    ({"prompt_tokens": -1}, "extractions_tokens_nonnegative"),
    ({"cost_usd": -1}, "extractions_cost_nonnegative"),
    (
        {"status": "done", "reviewed_by": "USER", "reviewed_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
        "extractions_status_valid",
    ),
    ({"claim_expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, "extractions_claim_consistent"),
    ({"status": "approved"}, "extractions_review_consistent"),
    ({"rejection_reason": "bad"}, "extractions_rejection_reason"),
    ({"review_seconds": -1}, "extractions_review_seconds_nonnegative"),
    ({"version": 0}, "extractions_version_positive"),
]


async def _refused(conn: asyncpg.Connection, table: str, row: dict[str, Any], constraint: str) -> None:
    with pytest.raises(asyncpg.IntegrityConstraintViolationError) as caught:
        await insert(conn, table, row)
    assert caught.value.constraint_name == constraint


@pytest.mark.parametrize(("overrides", "constraint"), USER_CASES)
async def test_users_checks(superuser: asyncpg.Connection, overrides: dict, constraint: str) -> None:
    await _refused(superuser, "users", user_row(**overrides), constraint)


@pytest.mark.parametrize(("overrides", "constraint"), CONTRACT_CASES)
async def test_contracts_checks(superuser: asyncpg.Connection, overrides: dict, constraint: str) -> None:
    await _refused(superuser, "contracts", contract_row(**overrides), constraint)


@pytest.mark.parametrize(("overrides", "constraint"), EXTRACTION_CASES)
async def test_extractions_checks(superuser: asyncpg.Connection, overrides: dict, constraint: str) -> None:
    contract = await insert(superuser, "contracts", contract_row())
    user = await insert(superuser, "users", user_row())
    overrides = {key: user["id"] if value == "USER" else value for key, value in overrides.items()}
    await _refused(superuser, "extractions", extraction_row(contract["contract_id"], **overrides), constraint)


async def test_unique_rules(superuser: asyncpg.Connection, base: dict[str, Any]) -> None:
    first = await insert(superuser, "users", user_row())
    await _refused(superuser, "users", user_row(username=first["username"]), "users_username_key")
    await _refused(superuser, "users", user_row(email=first["email"]), "users_email_key")
    await _refused(
        superuser, "extractions", extraction_row(base["contract_id"]), "extractions_contract_id_key"
    )
    await _refused(superuser, "contracts", contract_row(contract_id=base["contract_id"]), "contracts_pkey")
    await _refused(
        superuser,
        "system_config",
        {"key": "confidence_threshold", "value": "1", "value_type": "integer", "description": "dup"},
        "system_config_key_key",
    )


async def test_session_rules(superuser: asyncpg.Connection, base: dict[str, Any]) -> None:
    now = dt.datetime.now(dt.UTC)
    user_id = base["user_id"]
    await _refused(
        superuser,
        "sessions",
        session_row(user_id, expires_at=now - dt.timedelta(hours=1)),
        "sessions_expiry_after_start",
    )
    await _refused(
        superuser,
        "sessions",
        session_row(user_id, ended_at=now, end_reason="bored"),
        "sessions_end_reason_valid",
    )
    await _refused(superuser, "sessions", session_row(user_id, ended_at=now), "sessions_end_consistent")
    await _refused(
        superuser, "sessions", session_row(user_id, user_agent="x" * 501), "sessions_user_agent_length"
    )


async def test_correction_rules(superuser: asyncpg.Connection, base: dict[str, Any]) -> None:
    good = {
        "extraction_id": base["extraction_id"],
        "field_name": "gap_insurance_premium",
        "original_value": "1250.00",
        "corrected_value": "1150.00",
        "reason_code": "misread_value",
        "corrected_by": base["user_id"],
    }
    await insert(superuser, "corrections", good)
    await _refused(
        superuser, "corrections", {**good, "field_name": "premium"}, "corrections_field_name_valid"
    )
    await _refused(
        superuser, "corrections", {**good, "corrected_value": "1250.00"}, "corrections_value_changed"
    )
    await _refused(
        superuser, "corrections", {**good, "reason_code": "because"}, "corrections_reason_code_valid"
    )
    await _refused(
        superuser, "corrections", {**good, "reason_note": "x" * 2001}, "corrections_reason_note_length"
    )


async def test_system_config_rules(superuser: asyncpg.Connection) -> None:
    row = {"key": "new_setting", "value": "12", "value_type": "integer", "description": "d"}
    await _refused(superuser, "system_config", {**row, "key": "Bad Key"}, "system_config_key_format")
    await _refused(
        superuser, "system_config", {**row, "value_type": "float"}, "system_config_value_type_valid"
    )
    await _refused(superuser, "system_config", {**row, "value": "twelve"}, "system_config_value_matches_type")
    await _refused(
        superuser,
        "system_config",
        {**row, "value_type": "boolean", "value": "yes"},
        "system_config_value_matches_type",
    )
    await _refused(
        superuser, "system_config", {**row, "allowed_values": ["1", "2"]}, "system_config_value_allowed"
    )
    await _refused(
        superuser,
        "system_config",
        {**row, "value_type": "string", "min_value": 1},
        "system_config_bounds_numeric",
    )


async def test_chat_and_metrics_rules(superuser: asyncpg.Connection, base: dict[str, Any]) -> None:
    chat = {
        "contract_id": base["contract_id"],
        "user_id": base["user_id"],
        "role": "user",
        "content": "What fee?",
    }
    await insert(superuser, "chat_messages", chat)
    await _refused(superuser, "chat_messages", {**chat, "role": "system"}, "chat_messages_role_valid")
    await _refused(superuser, "chat_messages", {**chat, "content": ""}, "chat_messages_content_length")
    await _refused(
        superuser, "chat_messages", {**chat, "citations": {"a": 1}}, "chat_messages_citations_array"
    )
    await _refused(
        superuser, "chat_messages", {**chat, "role": "assistant"}, "chat_messages_assistant_has_provider"
    )
    await _refused(superuser, "chat_messages", {**chat, "cost_usd": -1}, "chat_messages_cost_nonnegative")
    metric = {"metric_date": dt.date(2026, 1, 1), "llm_provider": "rules", "model_version": "rules-1"}
    await insert(superuser, "extraction_metrics", {**metric, "extractions_count": 2, "pending_count": 2})
    await _refused(superuser, "extraction_metrics", metric, "extraction_metrics_day_provider_model_key")
    await _refused(
        superuser,
        "extraction_metrics",
        {**metric, "model_version": "x", "extractions_count": 3},
        "extraction_metrics_counts_consistent",
    )
    await _refused(
        superuser,
        "extraction_metrics",
        {**metric, "model_version": "y", "cost_usd": -1},
        "extraction_metrics_cost_nonnegative",
    )


async def test_audit_event_rules(superuser: asyncpg.Connection) -> None:
    await _refused(superuser, "audit_events", {"event_type": "hacked"}, "audit_events_event_type_valid")
    await _refused(
        superuser,
        "audit_events",
        {"event_type": "login", "event_data": [1]},
        "audit_events_event_data_object",
    )


NOT_NULL_CASES = [
    ("users", user_row, "username"),
    ("users", user_row, "password_hash"),
    ("users", user_row, "role"),
    ("contracts", contract_row, "account_number"),
    ("contracts", contract_row, "customer_name"),
]


@pytest.mark.parametrize(("table", "make_row", "column"), NOT_NULL_CASES)
async def test_not_null(superuser: asyncpg.Connection, table: str, make_row: Any, column: str) -> None:
    with pytest.raises(asyncpg.NotNullViolationError) as caught:
        await insert(superuser, table, make_row(**{column: None}))
    assert caught.value.column_name == column


async def test_not_null_on_extractions_and_sessions(
    superuser: asyncpg.Connection, base: dict[str, Any]
) -> None:
    contract = await insert(superuser, "contracts", contract_row())
    for column in ("llm_provider", "model_version", "prompt_version"):
        with pytest.raises(asyncpg.NotNullViolationError):
            await insert(superuser, "extractions", extraction_row(contract["contract_id"], **{column: None}))
    for column in ("user_agent", "expires_at"):
        with pytest.raises(asyncpg.NotNullViolationError):
            await insert(superuser, "sessions", session_row(base["user_id"], **{column: None}))


async def test_foreign_keys_cascade_and_restrict(superuser: asyncpg.Connection, base: dict[str, Any]) -> None:
    await insert(superuser, "sessions", session_row(base["user_id"]))
    await insert(
        superuser,
        "corrections",
        {
            "extraction_id": base["extraction_id"],
            "field_name": "cancellation_fee",
            "original_value": "50.00",
            "corrected_value": "0.00",
            "reason_code": "misread_value",
            "corrected_by": base["user_id"],
        },
    )
    # A user with history cannot be deleted (corrections keep who made them).
    with pytest.raises(asyncpg.RestrictViolationError):
        await superuser.execute("DELETE FROM users WHERE id = $1", base["user_id"])
    # Deleting a contract takes its extraction and that extraction's corrections with it.
    await superuser.execute("DELETE FROM contracts WHERE contract_id = $1", base["contract_id"])
    assert await superuser.fetchval("SELECT count(*) FROM corrections") == 0
