"""The three views and two functions, on data where the right answer is known."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg

from tests.db.rows import contract_row, extraction_row, insert, session_row, user_row


async def _correct(
    conn: asyncpg.Connection, extraction_id, user_id, field: str, old: str | None, new: str | None, at: str
) -> None:
    await insert(
        conn,
        "corrections",
        {
            "extraction_id": extraction_id,
            "field_name": field,
            "original_value": old,
            "corrected_value": new,
            "reason_code": "misread_value",
            "corrected_by": user_id,
            "corrected_at": dt.datetime.fromisoformat(at),
        },
    )


async def test_calculate_extraction_accuracy(superuser: asyncpg.Connection) -> None:
    user = await insert(superuser, "users", user_row())
    contract = await insert(superuser, "contracts", contract_row())
    extraction = await insert(
        superuser,
        "extractions",
        extraction_row(contract["contract_id"], gap_insurance_premium=1150, cancellation_fee=None),
    )
    # The premium was corrected twice (1250 -> 1200 -> 1150); the fee once (50 -> none stated).
    await _correct(
        superuser,
        extraction["id"],
        user["id"],
        "gap_insurance_premium",
        "1250.00",
        "1200.00",
        "2026-01-01T10:00:00+00:00",
    )
    await _correct(
        superuser,
        extraction["id"],
        user["id"],
        "gap_insurance_premium",
        "1200.00",
        "1150.00",
        "2026-01-01T10:05:00+00:00",
    )
    await _correct(
        superuser,
        extraction["id"],
        user["id"],
        "cancellation_fee",
        "50.00",
        None,
        "2026-01-01T10:06:00+00:00",
    )
    rows = await superuser.fetch("SELECT * FROM calculate_extraction_accuracy($1)", extraction["id"])
    assert [dict(r) for r in rows] == [
        {
            "field_name": "gap_insurance_premium",
            "original_value": "1250.00",
            "corrected_value": "1150.00",
            "was_corrected": True,
            "correction_count": 2,
            "confidence": 95,
        },
        {
            "field_name": "refund_calculation_method",
            "original_value": "Pro-Rata",
            "corrected_value": None,
            "was_corrected": False,
            "correction_count": 0,
            "confidence": 70,
        },
        {
            "field_name": "cancellation_fee",
            "original_value": "50.00",
            "corrected_value": None,
            "was_corrected": True,
            "correction_count": 1,
            "confidence": 88,
        },
    ]
    assert await superuser.fetch("SELECT * FROM calculate_extraction_accuracy(gen_random_uuid())") == []


async def test_cleanup_expired_sessions_removes_ended_expired_and_idle(superuser: asyncpg.Connection) -> None:
    user = await insert(superuser, "users", user_row())
    now = dt.datetime.now(dt.UTC)
    live = await insert(superuser, "sessions", session_row(user["id"]))
    await insert(superuser, "sessions", session_row(user["id"], ended_at=now, end_reason="logout"))
    await insert(
        superuser,
        "sessions",
        session_row(
            user["id"],
            created_at=now - dt.timedelta(hours=5),
            last_activity_at=now - dt.timedelta(hours=5) + dt.timedelta(minutes=1),
            expires_at=now - dt.timedelta(hours=1),
        ),
    )
    await insert(
        superuser, "sessions", session_row(user["id"], last_activity_at=now - dt.timedelta(minutes=31))
    )
    assert await superuser.fetchval("SELECT cleanup_expired_sessions()") == 3
    assert [r["id"] for r in await superuser.fetch("SELECT id FROM sessions")] == [live["id"]]
    assert await superuser.fetchval("SELECT cleanup_expired_sessions()") == 0


async def test_v_extraction_details(superuser: asyncpg.Connection) -> None:
    reviewer = await insert(superuser, "users", user_row(username="rita"))
    contract = await insert(superuser, "contracts", contract_row(contract_id="GAP-2024-000042"))
    extraction = await insert(
        superuser,
        "extractions",
        extraction_row(
            contract["contract_id"],
            status="approved",
            reviewed_by=reviewer["id"],
            reviewed_at=dt.datetime.now(dt.UTC),
            refund_calculation_method_confidence=61,
        ),
    )
    await _correct(
        superuser,
        extraction["id"],
        reviewer["id"],
        "cancellation_fee",
        "50.00",
        "75.00",
        "2026-01-01T10:00:00+00:00",
    )
    row = await superuser.fetchrow("SELECT * FROM v_extraction_details WHERE contract_id = 'GAP-2024-000042'")
    assert row["min_confidence"] == 61
    assert row["below_threshold"] is True
    assert row["reviewed_by_username"] == "rita"
    assert row["correction_count"] == 1
    assert row["vin"] == "1HGCM82633A004352"
    await superuser.execute("UPDATE system_config SET value = '60' WHERE key = 'confidence_threshold'")
    assert await superuser.fetchval("SELECT below_threshold FROM v_extraction_details") is False


async def test_v_user_activity(superuser: asyncpg.Connection) -> None:
    ann = await insert(superuser, "users", user_row(username="ann"))
    bob = await insert(superuser, "users", user_row(username="bob"))
    now = dt.datetime.now(dt.UTC)
    for status in ("approved", "approved", "rejected"):
        contract = await insert(superuser, "contracts", contract_row())
        extraction = await insert(
            superuser,
            "extractions",
            extraction_row(
                contract["contract_id"],
                status=status,
                reviewed_by=ann["id"],
                reviewed_at=now,
                rejection_reason="illegible" if status == "rejected" else None,
            ),
        )
    await _correct(
        superuser,
        extraction["id"],
        ann["id"],
        "cancellation_fee",
        "50.00",
        "0.00",
        "2026-01-01T10:00:00+00:00",
    )
    await _correct(
        superuser,
        extraction["id"],
        ann["id"],
        "gap_insurance_premium",
        "1250.00",
        "1.00",
        "2026-01-01T10:01:00+00:00",
    )
    await superuser.execute("INSERT INTO audit_events (event_type, user_id) VALUES ('login', $1)", ann["id"])
    rows = {r["username"]: r for r in await superuser.fetch("SELECT * FROM v_user_activity")}
    assert (rows["ann"]["reviewed_count"], rows["ann"]["approved_count"], rows["ann"]["rejected_count"]) == (
        3,
        2,
        1,
    )
    assert (rows["ann"]["corrections_count"], rows["ann"]["corrected_extractions_count"]) == (2, 1)
    assert rows["ann"]["last_event_at"] is not None
    assert (
        rows["bob"]["reviewed_count"],
        rows["bob"]["corrections_count"],
        rows["bob"]["last_event_at"],
    ) == (0, 0, None)
    assert bob["id"] == rows["bob"]["user_id"]


async def test_v_daily_extraction_stats(superuser: asyncpg.Connection) -> None:
    await superuser.execute(
        "INSERT INTO extraction_metrics (metric_date, llm_provider, model_version, extractions_count, pending_count, "
        "approved_count, rejected_count, corrected_count, below_threshold_count, cost_usd) "
        "VALUES ('2026-01-02', 'anthropic', 'claude', 10, 2, 6, 2, 2, 4, 0.50)"
    )
    row = await superuser.fetchrow("SELECT * FROM v_daily_extraction_stats")
    assert row["cost_per_extraction_usd"] == Decimal("0.050000")
    assert row["correction_rate"] == Decimal("0.2500")
    assert row["review_rate"] == Decimal("0.4000")
