"""Migration 0011: the later refund fields, and the weakest-field rule of the rebuilt min_confidence."""

from __future__ import annotations

import asyncpg
import pytest

from tests.db.rows import contract_row, extraction_row, insert


async def _min_confidence(conn: asyncpg.Connection, **fields: object) -> int:
    contract = await insert(conn, "contracts", contract_row())
    row = await insert(conn, "extractions", extraction_row(contract["contract_id"], **fields))
    return row["min_confidence"]


async def test_fields_not_yet_extracted_do_not_count(superuser: asyncpg.Connection) -> None:
    # An extraction older than 0011: NULL confidences, the weakest of the first three as before.
    assert await _min_confidence(superuser) == 70


async def test_term_and_state_count_like_the_first_three(superuser: asyncpg.Connection) -> None:
    assert await _min_confidence(superuser, term_months=60, term_months_confidence=40) == 40
    assert await _min_confidence(superuser, governing_state="AR", governing_state_confidence=30) == 30


async def test_apr_counts_only_for_the_actuarial_method(superuser: asyncpg.Connection) -> None:
    assert await _min_confidence(superuser, apr=None, apr_confidence=35) == 70
    actuarial = {"refund_calculation_method": "Actuarial", "apr": None, "apr_confidence": 35}
    assert await _min_confidence(superuser, **actuarial) == 35


async def test_what_depended_on_min_confidence_is_back(superuser: asyncpg.Connection) -> None:
    indexes = set(
        await superuser.fetchval(
            "SELECT array_agg(indexname::text) FROM pg_indexes WHERE tablename = 'extractions'"
        )
    )
    assert {
        "extractions_queue_idx",
        "extractions_provider_queue_idx",
        "extractions_routing_idx",
        "extractions_extracted_at_idx",
    } <= indexes
    assert await superuser.fetchval(
        "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'extractions_confidence_buckets_stats'"
    )
    for role in ("refund_review_app", "refund_review_reporting"):
        assert await superuser.fetchval(
            "SELECT has_table_privilege($1, 'v_extraction_details', 'SELECT')", role
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [("term_months", 0), ("term_months", 601), ("governing_state", "Ohio"), ("apr", 100)],
)
async def test_out_of_range_values_are_refused(
    superuser: asyncpg.Connection, column: str, value: object
) -> None:
    contract = await insert(superuser, "contracts", contract_row())
    row = extraction_row(contract["contract_id"], **{column: value, f"{column}_confidence": 90})
    with pytest.raises(asyncpg.CheckViolationError):
        await insert(superuser, "extractions", row)
