"""Valid rows for every table, for tests that break them one rule at a time."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

BCRYPT_HASH = "$2b$04$" + "a" * 53
NOW = dt.datetime.now(dt.UTC)


async def insert(
    conn: asyncpg.Connection, table: str, row: dict[str, Any], returning: str = "*"
) -> asyncpg.Record:
    columns = ", ".join(row)
    params = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    return await conn.fetchrow(
        f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING {returning}", *row.values()
    )


def user_row(**overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "username": f"user{suffix}",
        "email": f"user{suffix}@example.com",
        "full_name": "Test User",
        "password_hash": BCRYPT_HASH,
        "role": "reviewer",
        **overrides,
    }


def contract_row(**overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().int % 1_000_000
    return {
        "contract_id": f"GAP-2024-{suffix:06d}",
        "account_number": f"{suffix:010d}",
        "customer_name": f"Customer #{suffix}",
        "vehicle_info": {"vin": "1HGCM82633A004352", "make": "Honda"},
        "contract_date": dt.date(2024, 3, 1),
        "document_text": "GAP WAIVER\nGAP Waiver Charge: $1,250.00",
        "text_extraction_status": "extracted",
        **overrides,
    }


def extraction_row(contract_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "gap_insurance_premium": 1250,
        "gap_insurance_premium_confidence": 95,
        "refund_calculation_method": "Pro-Rata",
        "refund_calculation_method_confidence": 70,
        "cancellation_fee": 50,
        "cancellation_fee_confidence": 88,
        "llm_provider": "rules",
        "model_version": "rules-1",
        "prompt_version": "n/a",
        **overrides,
    }


def session_row(user_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "user_agent": "refund-review/test",
        "expires_at": NOW + dt.timedelta(hours=4),
        **overrides,
    }
