"""Calibration: the statistics against tables computed by hand, then the report on a seeded database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from db.models import Extraction
from services.context import ServiceContext
from services.metrics import Period
from services.quality.calibration import (
    Observation,
    reliability,
    stratum_weight,
    suggested_threshold,
    weighted_rate,
    wilson,
)
from services.quality.reports import Group, build_report, calibration_report
from services.system_settings import SystemSettings
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
THRESHOLDS = {"gap_insurance_premium": 80, "refund_calculation_method": 80, "cancellation_fee": 80}


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # p = 0.8, z² = 3.8415: centre (0.8 + 0.19207) / 1.38415 = 0.71674, half 1.41601 × 0.16001 = 0.22658.
        (8, 10, 0.4902, 0.9433),
        # No errors: the upper bound is z² / (n + z²): 3.8415 / 384.8415 = 0.009982 for n = 381.
        (0, 381, 0.0, 0.009982),
        (0, 380, 0.0, 0.010008),
        # p = 0.5, n = 120: symmetric, half = 1.95996 / 1.03201 × sqrt(0.0020833 + 0.0000667) = 1.89917 × 0.046368.
        (60, 120, 0.41194, 0.58806),
    ],
)
def test_wilson_interval_matches_hand_computation(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson(successes, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-6 if high < 0.1 else 5e-5)


def test_wilson_of_nothing_is_no_interval() -> None:
    assert wilson(0, 0) is None


def test_bucket_accuracy_and_mean_confidence() -> None:
    observations = [
        Observation(95, True, count=9),
        Observation(92, False),
        Observation(85, True, count=3),
        Observation(81, False),
        Observation(30, False, count=2),
    ]
    rows = {f"{row.low}-{row.high}": row for row in reliability(observations)}
    assert list(rows) == ["0-49", "50-59", "60-69", "70-79", "80-89", "90-100"]
    top = rows["90-100"]
    assert (top.count, top.errors, top.accuracy.rate) == (10, 1, pytest.approx(0.9))
    assert top.mean_confidence == pytest.approx((95 * 9 + 92) / 10)
    assert (rows["80-89"].count, rows["80-89"].errors, rows["80-89"].accuracy.rate) == (4, 1, 0.75)
    assert rows["0-49"].accuracy.rate == 0.0
    assert (rows["60-69"].count, rows["60-69"].accuracy.rate, rows["60-69"].mean_confidence) == (
        0,
        None,
        None,
    )


def test_weights_make_the_qa_sample_speak_for_the_auto_trusted_population() -> None:
    # 200 auto-trusted extractions of which 10 were QA-reviewed (weight 20), 30 below-threshold ones all
    # reviewed (weight 1). 1 QA error and 15 below-threshold errors: (20 + 15) / (200 + 30) = 0.152174,
    # effective n = 230² / (10 × 20² + 30 × 1²) = 52900 / 4030 = 13.1266.
    trusted, below = stratum_weight(200, 10), stratum_weight(30, 30)
    assert (trusted, below) == (20.0, 1.0)
    errors = weighted_rate(
        [
            Observation(95, True, trusted, 9),
            Observation(95, False, trusted, 1),
            Observation(60, True, below, 15),
            Observation(60, False, below, 15),
        ],
        of_errors=True,
    )
    assert (errors.count, errors.hits) == (40, 16)
    assert errors.rate == pytest.approx(35 / 230)
    assert errors.effective_n == pytest.approx(52900 / 4030)
    interval = wilson(35 / 230 * 52900 / 4030, 52900 / 4030)
    assert errors.interval == interval
    unweighted = weighted_rate(
        [Observation(95, False, count=16), Observation(95, True, count=24)], of_errors=True
    )
    assert unweighted.rate == pytest.approx(0.4)


def test_stratum_weight_is_one_when_everything_is_reviewed_and_zero_when_nothing_is() -> None:
    assert stratum_weight(50, 50) == 1.0
    assert stratum_weight(0, 0) == 0.0
    assert stratum_weight(1000, 50) == 20.0


def test_suggested_threshold_is_the_lowest_whose_upper_error_bound_meets_the_target() -> None:
    observations = [
        Observation(90, True, count=381),
        Observation(80, True, count=100),
        Observation(70, False, count=5),
        Observation(40, True, count=50),
    ]
    # At 71..80 the 481 values above have no error: upper bound 3.8415 / 484.84 = 0.0079 ≤ 0.01; at 70 and
    # below the 5 errors are included.
    assert suggested_threshold(observations, 0.01) == 71
    # 381 error-free values meet 1% only just; 300 do not: "none proven".
    assert suggested_threshold([Observation(90, True, count=381)], 0.01) == 0
    assert suggested_threshold([Observation(90, True, count=300)], 0.01) is None
    assert suggested_threshold([Observation(90, True, count=300)], 0.05) == 0


def _groups(field: str, *rows: tuple[int, bool, bool, bool, bool, int]) -> list[Group]:
    return [
        Group(
            provider="anthropic",
            model="claude-x",
            field=field,
            confidence=confidence,
            trusted=trusted,
            reviewed=reviewed,
            qa_sample=qa,
            right_value=right,
            n=n,
        )
        for confidence, trusted, reviewed, qa, right, n in rows
    ]


def test_build_report_weights_by_stratum_and_has_the_documented_shape() -> None:
    # Per field the same extractions: 190 auto-approved (not reviewed), 10 QA samples (one premium wrong),
    # 30 below-threshold reviewed.
    groups = []
    for field in THRESHOLDS:
        premium_error = 1 if field == "gap_insurance_premium" else 0
        groups += _groups(
            field,
            (95, True, False, False, True, 190),
            (95, True, True, True, True, 10 - premium_error),
            (60, False, True, False, True, 30),
        )
        if premium_error:
            groups += _groups(field, (95, True, True, True, False, 1))
    report = build_report(
        groups,
        period=Period.last_days(30, dt.date(2026, 1, 30)),
        settings=SystemSettings(),
        target_error_rate=0.01,
        qa_sample_rate=0.05,
    )
    assert (report.extractions, report.auto_trusted, report.auto_trusted_reviewed, report.qa_samples) == (
        230,
        200,
        10,
        10,
    )
    assert (report.weight_auto_trusted, report.weight_below) == (20.0, 1.0)
    # 1 wrong of 30 auto-trusted values (10 QA items × 3 fields, equal weights).
    assert (report.auto_trusted_error.errors, report.auto_trusted_error.count) == (1, 30)
    assert report.auto_trusted_error.rate == pytest.approx(1 / 30)
    data = report.model_dump(mode="json")
    assert set(data) == {
        "first_day", "last_day", "target_error_rate", "qa_sample_rate", "thresholds", "extractions",
        "auto_trusted", "auto_trusted_reviewed", "qa_samples", "weight_auto_trusted", "weight_below",
        "auto_trusted_error", "fields",
    }  # fmt: skip
    keys = [(f["provider"], f["model"], f["field"]) for f in data["fields"]]
    assert keys[:3] == [("all", "all", name) for name in THRESHOLDS]
    assert keys[3:] == [("anthropic", "claude-x", name) for name in THRESHOLDS]
    premium = data["fields"][0]
    assert set(premium) == {
        "provider", "model", "field", "threshold", "buckets", "auto_trusted_error", "suggested_threshold",
    }  # fmt: skip
    top = premium["buckets"][-1]
    assert (top["bucket"], top["count"], top["errors"], top["accuracy"]) == ("90-100", 10, 1, 0.9)
    assert set(top) == {"bucket", "count", "errors", "mean_confidence", "accuracy", "low", "high"}
    assert premium["suggested_threshold"] is None


async def test_report_reads_reviews_corrections_and_qa_samples_from_the_database(
    system: ServiceContext,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    reviewer = await make_context("reviewer")
    reviewer_id = reviewer.actor.user_id

    async def decided(
        extraction: Extraction, *, corrected: str | None = None, status: str = "approved"
    ) -> None:
        await superuser.execute(
            "UPDATE extractions SET status = $2, reviewed_at = now(), reviewed_by = $3, "
            "rejection_reason = CASE WHEN $2 = 'rejected' THEN 'not a GAP contract' END WHERE id = $1",
            extraction.id,
            status,
            reviewer_id,
        )
        if corrected:
            await superuser.execute(
                "INSERT INTO corrections (extraction_id, field_name, original_value, corrected_value, "
                "reason_code, corrected_by) VALUES ($1, $2, '1250.00', '1150.00', 'misread_value', $3)",
                extraction.id,
                corrected,
                reviewer_id,
            )

    # Below the threshold: two reviewed, one premium corrected; one rejected (no field evidence).
    await decided(await add_contract(premium_confidence=55), corrected="gap_insurance_premium")
    await decided(await add_contract(premium_confidence=58))
    await decided(await add_contract(premium_confidence=40), status="rejected")
    # Above: four extractions, one a QA sample that was reviewed and found right; three auto-approved.
    await decided(await add_contract(premium_confidence=93, qa_sample=True))
    for _ in range(3):
        auto = await add_contract(premium_confidence=97)
        await superuser.execute(
            "UPDATE extractions SET status = 'approved', reviewed_at = now() WHERE id = $1", auto.id
        )
    # A correction made before a re-extraction is not evidence about the new values.
    stale = await add_contract(premium_confidence=57)
    await decided(stale, corrected="cancellation_fee")
    await superuser.execute(
        "UPDATE extractions SET extracted_at = now() + interval '1 second' WHERE id = $1", stale.id
    )
    supervisor = await make_context("supervisor")
    report = await calibration_report(supervisor, Period.last_days(1))
    assert (report.extractions, report.auto_trusted, report.auto_trusted_reviewed, report.qa_samples) == (
        8,
        4,
        1,
        1,
    )
    assert report.weight_auto_trusted == 4.0
    overall = {f.field: f for f in report.fields if f.provider == "all"}
    premium = {b.bucket: b for b in overall["gap_insurance_premium"].buckets}
    assert (premium["50-59"].count, premium["50-59"].errors) == (3, 1)
    assert (premium["90-100"].count, premium["90-100"].errors) == (1, 0)
    assert premium["0-49"].count == 0
    fee = {b.bucket: b for b in overall["cancellation_fee"].buckets}
    assert fee["90-100"].errors == 0
    assert report.auto_trusted_error.count == 3
    assert [f.provider for f in report.fields] == ["all"] * 3 + ["rules"] * 3
    assert uuid.UUID(str(reviewer_id))
