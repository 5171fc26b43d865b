"""The scale seeder's corrections follow the stated confidence, so the calibration report has a curve."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from synthetic.seeding.scale import OVERCONFIDENCE, _contract_and_extraction_rows, _Timeline, error_scale_for

CONFIDENCE_COLUMNS = {"gap_insurance_premium": 3, "refund_calculation_method": 6, "cancellation_fee": 9}


def _observed(scale: float, count: int = 4000) -> dict[tuple[int, int], tuple[int, int]]:
    """Per confidence band: (reviewed values, corrected values) of the approved extractions."""
    contracts: list[tuple] = []
    extractions: list[tuple] = []
    corrections: list[tuple] = []
    timeline = _Timeline(3, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    _contract_and_extraction_rows(
        count, 1, 7, 0.3, timeline, [uuid.uuid4()], scale, contracts, extractions, corrections
    )
    corrected = {(row[0], row[1]) for row in corrections}
    bands = {(25, 79): [0, 0], (80, 89): [0, 0], (90, 99): [0, 0]}
    for row in extractions:
        if row[18] != "approved":
            continue
        for field, column in CONFIDENCE_COLUMNS.items():
            band = next(b for b in bands if b[0] <= row[column] <= b[1])
            bands[band][0] += 1
            bands[band][1] += (row[0], field) in corrected
    return {band: (n, wrong) for band, (n, wrong) in bands.items()}


def test_a_value_is_wrong_more_often_the_lower_its_confidence_and_somewhat_overconfidently() -> None:
    observed = _observed(error_scale_for(None, 4000, 0.3))
    rates = {band: wrong / n for band, (n, wrong) in observed.items()}
    assert rates[(25, 79)] > rates[(80, 89)] > rates[(90, 99)] > 0
    # Stated 90-99 (mean 94.5): about 1.5 × 5.5% = 8% wrong, i.e. more than the stated confidence says.
    n, _ = observed[(90, 99)]
    expected = OVERCONFIDENCE * 0.055
    assert rates[(90, 99)] == pytest.approx(expected, abs=4 * (expected * (1 - expected) / n) ** 0.5)
    assert rates[(90, 99)] > 0.055


def test_a_number_of_corrections_is_kept_in_expectation() -> None:
    scale = error_scale_for(300, 4000, 0.3)
    total = sum(wrong for _, wrong in _observed(scale).values())
    assert 240 <= total <= 360
