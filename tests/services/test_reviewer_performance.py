"""Reviewer performance from the audit log: counts, median seconds, QA items, the CSV and JSON shapes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from db.models import Extraction
from services.context import ServiceContext
from services.errors import Forbidden
from services.metrics import Period
from services.quality.reviewers import CSV_COLUMNS, render_performance, reviewer_performance
from services.review import ExtractionDetail, approve, claim_extraction, correct_field, reject
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]


async def _claimed_for(
    ctx: ServiceContext, extraction: Extraction, seconds: int, superuser: asyncpg.Connection
) -> ExtractionDetail:
    detail = await claim_extraction(ctx, extraction.id)
    await superuser.execute(
        "UPDATE extractions SET claimed_at = now() - make_interval(secs => $2) WHERE id = $1",
        extraction.id,
        seconds,
    )
    return detail


async def test_each_reviewer_gets_their_decisions_corrections_and_median_time(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    ana = await make_context("reviewer", "ana")
    bo = await make_context("reviewer", "bo")
    # ana: approves three (30 s, 50 s, 100 s), one a QA sample and one after correcting two fields.
    for seconds, qa, corrections in ((30, False, 0), (50, True, 0), (100, False, 2)):
        item = await add_contract(qa_sample=qa)
        detail = await _claimed_for(ana, item, seconds, superuser)
        version = detail.version
        if corrections:
            version = (
                await correct_field(
                    ana, item.id, version, "gap_insurance_premium", "1150", "misread_value", "p2"
                )
            ).version
            version = (
                await correct_field(ana, item.id, version, "cancellation_fee", "75", "misread_value", "p3")
            ).version
        await approve(ana, item.id, version)
    # bo: rejects one after 20 s.
    item = await add_contract()
    detail = await _claimed_for(bo, item, 20, superuser)
    await reject(bo, item.id, detail.version, "not a GAP contract")

    supervisor = await make_context("supervisor")
    rows = {row.username: row for row in await reviewer_performance(supervisor, Period.last_days(1))}
    assert set(rows) == {"ana", "bo"}
    ana_row, bo_row = rows["ana"], rows["bo"]
    assert (ana_row.items, ana_row.approvals, ana_row.rejections) == (3, 3, 0)
    assert (ana_row.corrections, ana_row.corrected_items, ana_row.qa_items) == (2, 1, 1)
    assert ana_row.median_seconds == pytest.approx(50, abs=1)
    assert (bo_row.items, bo_row.approvals, bo_row.rejections, bo_row.corrections) == (1, 0, 1, 0)
    assert bo_row.median_seconds == pytest.approx(20, abs=1)
    # No QA item was double-checked by a second reviewer in the period: no agreement to give.
    assert (ana_row.qa_double_checked, ana_row.qa_agreement) == (0, None)

    table = list(csv.reader(io.StringIO(render_performance(list(rows.values()), "csv"))))
    assert tuple(table[0]) == CSV_COLUMNS == (
        "username", "full_name", "role", "items", "approvals", "corrections", "corrected_items",
        "rejections", "median_seconds", "qa_items", "qa_double_checked", "qa_agreement",
    )  # fmt: skip
    assert table[1][:2] == ["ana", ana_row.full_name]
    assert table[1][3:8] == ["3", "3", "2", "1", "0"]
    assert float(table[1][8]) == pytest.approx(50, abs=1)
    assert table[1][9:] == ["1", "0", ""]
    assert json.loads(render_performance([bo_row], "json"))[0]["rejections"] == 1

    assert (
        await reviewer_performance(supervisor, Period.last_days(1, today=Period.last_days(400).first_day))
        == []
    )
    with pytest.raises(Forbidden):
        await reviewer_performance(ana, Period.last_days(1))
