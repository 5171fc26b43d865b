"""What a benchmark run reports: figures with their targets, and how a set of timings becomes one.

Every figure is one row of the printed table and one object of the `--json` output. A latency figure
carries the distribution of its runs (count, median, p95, p99) and is judged on its p95; ratios, rates
and sizes are single values judged against their target. A figure without a target is informative.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from pydantic import BaseModel, computed_field


class Figure(BaseModel):
    group: str
    name: str
    unit: str
    # The value judged against the target: the p95 of a latency, a ratio, a rate, a size.
    value: float
    target: float | None = None
    # True: the value must be at most the target (times, sizes, service/bare); False: at least (rates).
    at_most: bool = True
    count: int | None = None
    median: float | None = None
    p95: float | None = None
    p99: float | None = None
    note: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.at_most else self.value >= self.target


class Check(BaseModel):
    """A yes/no outcome the bench verifies (the audit chain is intact, no item claimed twice)."""

    name: str
    ok: bool
    detail: str


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted runs: the smallest run that `share` of the runs do not exceed."""
    if not ordered:
        raise ValueError("no runs to summarize")
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def latency(
    group: str, name: str, seconds: Sequence[float], target_ms: float | None = None, note: str = ""
) -> Figure:
    """A latency figure from the durations of many runs, in milliseconds, judged on its p95."""
    ordered = sorted(s * 1000 for s in seconds)
    p95 = percentile(ordered, 0.95)
    return Figure(
        group=group,
        name=name,
        unit="ms",
        value=round(p95, 3),
        target=target_ms,
        count=len(ordered),
        median=round(statistics.median(ordered), 3),
        p95=round(p95, 3),
        p99=round(percentile(ordered, 0.99), 3),
        note=note,
    )


def ratio(
    group: str, name: str, numerator: Figure, denominator: Figure, target: float, *, at_most: bool
) -> Figure:
    """The ratio of two latency figures' medians; the note gives both, and the ratio of their p95s."""
    assert numerator.median is not None and denominator.median is not None
    assert numerator.p95 is not None and denominator.p95 is not None
    return Figure(
        group=group,
        name=name,
        unit="×",
        value=round(numerator.median / max(denominator.median, 1e-6), 2),
        target=target,
        at_most=at_most,
        note=(
            f"medians {numerator.median:.2f} / {denominator.median:.2f} ms; "
            f"p95 ratio {numerator.p95 / max(denominator.p95, 1e-6):.2f}"
        ),
    )


def rate(
    group: str, name: str, operations: int, seconds: float, target: float | None = None, note: str = ""
) -> Figure:
    return Figure(
        group=group,
        name=name,
        unit="/s",
        value=round(operations / seconds, 1) if seconds > 0 else 0.0,
        target=target,
        at_most=False,
        count=operations,
        note=note or f"{operations:,} in {seconds:.2f} s",
    )


class BenchReport(BaseModel):
    """One run of `refund-review bench`: what was measured, on what, and how it compares."""

    command: str
    started_at: str
    finished_at: str
    seconds: float
    database: str
    server_version: str
    cpus: int
    contracts: int
    audit_events: int
    pending: int
    corrections: int
    database_bytes: int
    seeded: bool
    figures: list[Figure]
    checks: list[Check]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missed(self) -> list[str]:
        """The figures that missed their target, and the checks that failed."""
        return [f"{f.group}: {f.name}" for f in self.figures if f.met is False] + [
            c.name for c in self.checks if not c.ok
        ]
