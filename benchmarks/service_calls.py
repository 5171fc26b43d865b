"""Latency of the service calls the workstation makes, with the targets of issue 6 (p95, full scale).

Each call is made as the workstation makes it — through the service, with a reviewer's (or a
supervisor's) real session, so every call also checks the permission and touches the session — with
arguments varied from run to run: another reviewer, another contract, account, word or queue position.

The write calls (correct, approve) take their items from the far end of the queue; claims give their
item back after each run (the clock stopped), so the queue keeps its depth and its head.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.context import BenchContext
from benchmarks.figures import Figure, latency
from benchmarks.samples import WriteItem
from benchmarks.timing import Measured, run_timed
from services.audit import contract_history
from services.contracts import search_contracts
from services.domain import PROVIDER_NAMES, ConfidenceBand
from services.extraction.types import FIELD_NAMES
from services.metrics import (
    Period,
    confidence_distribution,
    corrections_by_field,
    cost_by_provider,
    daily_extraction_stats,
    queue_health,
    reviewer_activity,
)
from services.review import (
    ExtractionDetail,
    QueueCursor,
    approve,
    claim_next,
    correct_field,
    get_detail,
    queue_page,
    release,
)

QUEUE_PAGE = 50
PERIODS_NOTE = "today, this week, last 30 and 365 days in turn"
CORRECTION_NOTE = "Benchmark: checked against the contract text."


def _periods() -> list[Period]:
    """The periods the dashboard offers (t, w, m, y): today, this week, the last 30 and 365 days."""
    return [Period.today(), Period.this_week(), Period.last_days(30), Period.last_days(365)]


def queue_filters(i: int) -> dict[str, str]:
    """Every filter the queue screen offers, in turn: a field below threshold, a provider, a band."""
    choices: list[dict[str, str]] = [
        *({"field": f} for f in FIELD_NAMES),
        *({"provider": p} for p in PROVIDER_NAMES),
        *({"band": b.value} for b in ConfidenceBand),
    ]
    return choices[i % len(choices)]


class Claims:
    """Claim the head of the queue and give it back after the clock stops; skip it on the next claim.

    A reviewer holds one item at a time, so each run's reviewer must be empty-handed when it claims:
    the release after each run sees to it.
    """

    def __init__(self, bench: BenchContext) -> None:
        self.bench = bench
        self._released: dict[uuid.UUID | None, list[uuid.UUID]] = {}

    async def claim(self, i: int) -> ExtractionDetail | None:
        ctx = self.bench.reviewer(i)
        return await claim_next(ctx, skip=self._released.get(ctx.actor.user_id, []))

    async def give_back(self, i: int, detail: ExtractionDetail | None) -> None:
        if detail is not None:
            ctx = self.bench.reviewer(i)
            await release(ctx, detail.extraction_id)
            self._released[ctx.actor.user_id] = [detail.extraction_id]


class Writes:
    """Correct an item's premium, then approve it with the version the correction returned."""

    def __init__(self, bench: BenchContext, items: list[WriteItem]) -> None:
        self.bench = bench
        self.items = items
        self.versions: dict[uuid.UUID, int] = {}

    async def correct(self, i: int) -> ExtractionDetail:
        item = self.items[i]
        detail = await correct_field(
            self.bench.reviewer(i),
            item.extraction_id,
            item.version,
            "gap_insurance_premium",
            item.corrected_premium(),
            "misread_value",
            CORRECTION_NOTE,
        )
        self.versions[item.extraction_id] = detail.version
        return detail

    async def approve(self, i: int) -> object:
        item = self.items[i]
        return await approve(
            self.bench.reviewer(i + 1), item.extraction_id, self.versions[item.extraction_id]
        )


def _cycle(values: list[Any], i: int) -> Any:
    return values[i % len(values)]


def queue_position(bench: BenchContext, i: int) -> QueueCursor | None:
    """The head of the queue one run in four, else a page that starts deep in it."""
    return None if i % 4 == 0 else _cycle(bench.samples.cursors, i)


def _prefix(value: str, i: int) -> str:
    """The whole value, or a prefix a few characters shorter, as people type a partial id."""
    return value[: max(4, len(value) - i % 4)]


def hot_calls(bench: BenchContext, writes: Writes) -> list[Measured]:
    """The five calls of the triage loop; benchmarks/bare.py measures them again against bare SQL."""
    s = bench.samples
    claims = Claims(bench)
    return [
        Measured("review", "queue page (50)", 5,
                 lambda i: queue_page(bench.reviewer(i), after=queue_position(bench, i), limit=QUEUE_PAGE),
                 note="first page or a page deep in the queue"),
        Measured("review", "claim next", 5, claims.claim, claims.give_back,
                 note="the head of the queue, given back after each run"),
        Measured("review", "open detail", 10,
                 lambda i: get_detail(bench.reviewer(i), _cycle(s.extraction_ids, i)),
                 note="document text, source spans, corrections, history"),
        Measured("review", "correct a field", 10, writes.correct, note="with its audit event"),
        Measured("review", "approve", 10, writes.approve, note="with its audit event"),
    ]  # fmt: skip


def other_calls(bench: BenchContext) -> list[Measured]:
    s = bench.samples
    sup = bench.supervisor
    periods = _periods()

    def panel(call: Callable[..., Awaitable[Any]]) -> Callable[[int], Awaitable[Any]]:
        return lambda i: call(sup, _cycle(periods, i))

    return [
        Measured("review", "queue page (50), filtered", 5,
                 lambda i: queue_page(bench.reviewer(i), limit=QUEUE_PAGE, **queue_filters(i)),
                 note="by field, provider or confidence band"),
        Measured("search", "contract id prefix", 5,
                 lambda i: search_contracts(bench.reviewer(i), _prefix(_cycle(s.contract_ids, i), i))),
        Measured("search", "account prefix", 5,
                 lambda i: search_contracts(bench.reviewer(i), _prefix(_cycle(s.accounts, i), i))),
        Measured("search", "full text, first page", 50,
                 lambda i: search_contracts(bench.reviewer(i), _cycle(s.words, i)),
                 note="ranked, with snippets"),
        Measured("audit", "history of one contract", 10,
                 lambda i: contract_history(bench.reviewer(i), _cycle(s.contract_ids, i))),
        Measured("dashboard", "queue health", 100, lambda i: queue_health(sup)),
        Measured("dashboard", "reviewer activity", 100, panel(reviewer_activity),
                 note=PERIODS_NOTE),
        Measured("dashboard", "corrections by field", 100, panel(corrections_by_field),
                 note=PERIODS_NOTE),
        Measured("dashboard", "confidence distribution", 100, panel(confidence_distribution),
                 note=PERIODS_NOTE),
        Measured("dashboard", "cost by provider", 100, panel(cost_by_provider),
                 note=PERIODS_NOTE),
        Measured("dashboard", "daily statistics", 100, panel(daily_extraction_stats),
                 note=PERIODS_NOTE),
    ]  # fmt: skip


async def measure_service_calls(bench: BenchContext) -> list[Figure]:
    writes = Writes(bench, bench.take_items(bench.warmup + bench.runs))
    figures = []
    for measured in [*hot_calls(bench, writes), *other_calls(bench)]:
        durations = await run_timed(measured, bench.runs, warmup=bench.warmup)
        figures.append(latency(measured.group, measured.name, durations, measured.target_ms, measured.note))
    return figures
