"""Calibration statistics: does "confidence 90" mean right nine times in ten? Pure functions, no database.

Observations are reviewed field values: right when the reviewer approved without correcting the field,
wrong when they corrected it. Reviewed items are a biased sample of all extractions — every item below a
threshold is reviewed, items above are reviewed only when drawn for QA — so each observation carries a
weight, the number of extractions it stands for (see ``stratum_weight``). Rates are weighted means; their
95% intervals are Wilson score intervals on the weighted rate with Kish's effective sample size
(``(Σw)² / Σw²``), which is the plain count when all weights are equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
# Stated confidence buckets, inclusive bounds: the lower half is one bucket because it is reviewed anyway.
BUCKETS: tuple[tuple[int, int], ...] = ((0, 49), (50, 59), (60, 69), (70, 79), (80, 89), (90, 100))


@dataclass(frozen=True)
class Observation:
    """``count`` reviewed field values with the same stated confidence, outcome and weight."""

    confidence: int
    right: bool
    weight: float = 1.0
    count: int = 1


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Rate:
    """A weighted proportion: ``count`` raw observations, ``effective_n`` after weighting."""

    count: int
    hits: int
    rate: float | None
    interval: Interval | None
    effective_n: float


@dataclass(frozen=True)
class BucketRow:
    """One row of a reliability table: stated confidence against observed accuracy."""

    low: int
    high: int
    count: int
    errors: int
    mean_confidence: float | None
    accuracy: Rate


def wilson(successes: float, n: float, z: float = Z_95) -> Interval | None:
    """Wilson score interval of ``successes`` out of ``n`` (which may be fractional); None when n is 0.

    Chosen over the normal approximation because it stays inside [0, 1] and stays honest at 0 or n
    successes, which is exactly where a well-calibrated high-confidence bucket sits.
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def weighted_rate(observations: Iterable[Observation], *, of_errors: bool = False) -> Rate:
    """The weighted share of right (or, with ``of_errors``, wrong) values, with its Wilson interval."""
    total = squares = hit_weight = 0.0
    count = hits = 0
    for observation in observations:
        hit = observation.right != of_errors
        weight = observation.weight * observation.count
        total += weight
        squares += observation.weight * observation.weight * observation.count
        count += observation.count
        if hit:
            hits += observation.count
            hit_weight += weight
    if total == 0:
        return Rate(count=count, hits=hits, rate=None, interval=None, effective_n=0.0)
    effective_n = total * total / squares
    rate = hit_weight / total
    return Rate(
        count=count,
        hits=hits,
        rate=rate,
        interval=wilson(rate * effective_n, effective_n),
        effective_n=effective_n,
    )


def reliability(observations: Sequence[Observation]) -> list[BucketRow]:
    """Accuracy per stated-confidence bucket (``BUCKETS``); empty buckets are kept, with no rate."""
    rows = []
    for low, high in BUCKETS:
        inside = [o for o in observations if low <= o.confidence <= high]
        weight = sum(o.weight * o.count for o in inside)
        mean = sum(o.confidence * o.weight * o.count for o in inside) / weight if weight else None
        accuracy = weighted_rate(inside)
        rows.append(
            BucketRow(
                low=low,
                high=high,
                count=accuracy.count,
                errors=accuracy.count - accuracy.hits,
                mean_confidence=mean,
                accuracy=accuracy,
            )
        )
    return rows


def suggested_threshold(observations: Sequence[Observation], target_error_rate: float) -> int | None:
    """The lowest threshold t such that the values stated at t or above have an error rate whose upper 95%
    Wilson bound is at most ``target_error_rate``; None when no threshold gets there ("none proven": too
    many errors even among the most confident values, or too few values — with no errors at all, about
    3/target values at or above t are needed, e.g. ~380 for 1%)."""
    for threshold in range(101):
        errors = weighted_rate((o for o in observations if o.confidence >= threshold), of_errors=True)
        if errors.interval is not None and errors.interval.high <= target_error_rate:
            return threshold
    return None


def stratum_weight(population: int, reviewed: int) -> float:
    """How many extractions each reviewed one of a stratum stands for: ``population / reviewed``.

    Below the thresholds every extraction is reviewed (weight 1, or a little more while some wait in the
    queue). Above them, with ``auto_approve`` on, only the QA sample is reviewed, so each QA item stands for
    about ``1 / qa_sample_rate`` extractions — the weight the brief asks for — but computed from the counts
    actually observed, so that a rate changed mid-period, or people reviewing above-threshold items while
    ``auto_approve`` is off (weight 1 then), still give an unbiased estimate of the auto-trusted population.
    """
    if reviewed <= 0:
        return 0.0
    return max(population, reviewed) / reviewed
