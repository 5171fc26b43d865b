"""Two comparisons made in the same run, call for call: the service against its own SQL on bare asyncpg,
and the reviewer-activity panel against the straightforward query it replaces.

Service against bare SQL. For each of the five hot calls, every run makes the service call (its
statements captured), puts the rows it changed back as they were, then replays the captured statements
on a bare asyncpg connection — same statements, same values, same rows in the same state, so the bare
run does exactly the database work the service did. Both run on warm rows: before each run an unmeasured
read (or, for reads, an unmeasured service call) brings the rows the call touches into memory. Putting
rows back is the bench's own bookkeeping on the owner's connection, outside the application's audit log.

Activity panel against the naive query. The naive query joins users, extractions, corrections and audit
events per user and de-duplicates with COUNT(DISTINCT ...), the shape of the seed design's
v_user_activity; the panel (services.metrics.reviewer_activity) reads two covering indexes per person.
Both count the same day through the same engine and session: a day of the seeded history (30 days before
the seed), so that what earlier runs on a reused database did today cannot swell it. The naive one runs
a few times only, within a time budget, because it is slow.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from benchmarks.bare import BareConnection, capturing
from benchmarks.context import BenchContext
from benchmarks.figures import Figure, latency, ratio
from benchmarks.samples import WriteItem
from benchmarks.service_calls import CORRECTION_NOTE, QUEUE_PAGE, queue_position
from services.context import ServiceContext
from services.errors import Unavailable
from services.metrics import Period, reviewer_activity
from services.review import approve, claim_next, correct_field, get_detail, queue_page

GROUP = "service vs bare"
# The service may take at most this many times what its SQL takes on a bare connection.
MAX_SERVICE_OVERHEAD = 2.0
# The activity panel must be at least this many times faster than the naive query.
MIN_PANEL_SPEEDUP = 20.0
NAIVE_RUNS = 5
# The day both count: this many days before the seed, so that earlier benchmark runs are not in it.
SEEDED_DAY_BACK = 30
NAIVE_BUDGET_SECONDS = 60.0
NAIVE_TIMEOUT_SECONDS = 120
_NAIVE_TIMEOUT = text("SELECT set_config('statement_timeout', :timeout, true)")

_WARM_ROWS = (
    "SELECT e.*, length(c.document_text) FROM extractions e JOIN contracts c ON c.contract_id = e.contract_id "
    "WHERE e.id = $1",
    "SELECT count(*) FROM corrections WHERE extraction_id = $1",
)
_WARM_HISTORY = "SELECT count(*) FROM audit_events WHERE contract_id = $1"
_UNCLAIM = (
    "UPDATE extractions SET claimed_by = NULL, claimed_at = NULL, claim_expires_at = NULL "
    "WHERE claimed_by = $1 AND status = 'pending'"
)
_UNCORRECT = "UPDATE extractions SET gap_insurance_premium = $2, version = $3 WHERE id = $1"
_UNDECIDE = (
    "UPDATE extractions SET status = 'pending', reviewed_by = NULL, reviewed_at = NULL, review_seconds = NULL, "
    "rejection_reason = NULL, version = $2 WHERE id = $1"
)


@dataclass(frozen=True)
class Pair:
    """A hot call measured side by side: how to warm up, call, and put its rows back.

    `restore` runs between the service call and its replay; `reset` after the replay, when the next
    run needs the state the first run started from (a reviewer holding nothing).
    """

    name: str
    warm: Callable[[int], Awaitable[Any]]
    call: Callable[[int], Awaitable[Any]]
    restore: Callable[[int], Awaitable[Any]] | None = None
    reset: Callable[[int], Awaitable[Any]] | None = None


def _pairs(bench: BenchContext, corrected: list[WriteItem], approved: list[WriteItem]) -> list[Pair]:
    s, owner = bench.samples, bench.owner
    ctx = bench.reviewer

    async def warm_item(item: WriteItem) -> None:
        for statement in _WARM_ROWS:
            await owner.fetch(statement, item.extraction_id)
        await owner.fetch(_WARM_HISTORY, item.contract_id)

    def page(i: int) -> Awaitable[Any]:
        return queue_page(ctx(i), after=queue_position(bench, i), limit=QUEUE_PAGE)

    def detail(i: int) -> Awaitable[Any]:
        return get_detail(ctx(i), s.extraction_ids[i % len(s.extraction_ids)])

    async def unclaim(i: int) -> None:
        await owner.execute(_UNCLAIM, ctx(i).actor.user_id)

    async def claim(i: int) -> Any:
        return await claim_next(ctx(i))

    def correct(i: int) -> Awaitable[Any]:
        item = corrected[i]
        return correct_field(ctx(i), item.extraction_id, item.version, "gap_insurance_premium",
                             item.corrected_premium(), "misread_value", CORRECTION_NOTE)  # fmt: skip

    async def uncorrect(i: int) -> None:
        item = corrected[i]
        await owner.execute(_UNCORRECT, item.extraction_id, item.premium, item.version)

    async def undecide(i: int) -> None:
        await owner.execute(_UNDECIDE, approved[i].extraction_id, approved[i].version)

    async def nothing(i: int) -> None:
        return None

    return [
        Pair("queue page (50)", page, page),
        Pair("claim next", nothing, claim, unclaim, unclaim),
        Pair("open detail", detail, detail),
        Pair("correct a field", lambda i: warm_item(corrected[i]), correct, uncorrect),
        Pair("approve", lambda i: warm_item(approved[i]),
             lambda i: approve(ctx(i), approved[i].extraction_id, approved[i].version), undecide),
    ]  # fmt: skip


async def measure_against_bare(bench: BenchContext, bare: BareConnection) -> list[Figure]:
    total = bench.warmup + bench.runs
    corrected, approved = bench.take_items(total), bench.take_items(total)
    figures: list[Figure] = []
    engine = bench.db.app.sync_engine
    for pair in _pairs(bench, corrected, approved):
        service: list[float] = []
        replayed: list[float] = []
        for i in range(total):
            await pair.warm(i)
            with capturing(engine) as capture:
                started = time.perf_counter()
                await pair.call(i)
                service_seconds = time.perf_counter() - started
            if pair.restore is not None:
                await pair.restore(i)
            started = time.perf_counter()
            await bare.replay(capture.steps)
            bare_seconds = time.perf_counter() - started
            if pair.reset is not None:
                await pair.reset(i)
            if i >= bench.warmup:
                service.append(service_seconds)
                replayed.append(bare_seconds)
        note = f"{capture.statements} statements"
        served = latency(GROUP, f"{pair.name}: service", service, note=note)
        floor = latency(GROUP, f"{pair.name}: bare asyncpg", replayed, note=note)
        figures += [
            served,
            floor,
            ratio(GROUP, f"{pair.name}: service / bare", served, floor, MAX_SERVICE_OVERHEAD, at_most=True),
        ]
    return figures


# The per-user question answered the straightforward way: everything joined, then de-duplicated.
NAIVE_ACTIVITY = text(
    """
    SELECT u.id, u.username, u.full_name, u.role,
           count(DISTINCT x.id) AS reviewed,
           count(DISTINCT x.id) FILTER (WHERE x.status = 'approved') AS approved,
           count(DISTINCT x.id) FILTER (WHERE x.status = 'rejected') AS rejected,
           count(DISTINCT c.id) AS corrections,
           count(DISTINCT c.extraction_id) AS corrected,
           count(DISTINCT a.id) AS events
      FROM users u
      LEFT JOIN extractions x ON x.reviewed_by = u.id AND x.reviewed_at >= :start AND x.reviewed_at < :end
      LEFT JOIN corrections c ON c.corrected_by = u.id AND c.corrected_at >= :start AND c.corrected_at < :end
      LEFT JOIN audit_events a ON a.user_id = u.id AND a.occurred_at >= :start AND a.occurred_at < :end
     GROUP BY u.id, u.username, u.full_name, u.role
     ORDER BY reviewed DESC, u.username
    """
)


async def _naive(ctx: ServiceContext, period: Period) -> float:
    """Seconds the naive query took; its timeout when it took longer (then the ratio is a lower bound)."""
    started = time.perf_counter()
    try:
        async with ctx.unit_of_work() as uow:
            await uow.session.execute(_NAIVE_TIMEOUT, {"timeout": f"{NAIVE_TIMEOUT_SECONDS}s"})
            await uow.session.execute(NAIVE_ACTIVITY, period.bounds())
            await uow.commit()
    except Unavailable:
        return NAIVE_TIMEOUT_SECONDS
    return time.perf_counter() - started


async def _seeded_day(bench: BenchContext) -> Period:
    """A day of the seeded history, 30 days before the seed: only seeded activity, whatever runs since."""
    seeded = await bench.owner.fetchval(
        "SELECT occurred_at FROM audit_events WHERE event_type = 'seed' ORDER BY seq DESC LIMIT 1"
    )
    day = (seeded or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=SEEDED_DAY_BACK)
    return Period.between(day, day)


async def measure_activity_against_naive(bench: BenchContext) -> list[Figure]:
    period = await _seeded_day(bench)
    sup = bench.supervisor
    panel: list[float] = []
    for i in range(bench.warmup + bench.runs):
        started = time.perf_counter()
        await reviewer_activity(sup, period)
        if i >= bench.warmup:
            panel.append(time.perf_counter() - started)
    naive: list[float] = []
    budget_end = time.perf_counter() + NAIVE_BUDGET_SECONDS
    while len(naive) < NAIVE_RUNS and (not naive or time.perf_counter() < budget_end):
        naive.append(await _naive(sup, period))
    group = "activity vs naive"
    day = f"{period.first_day:%Y-%m-%d}"
    fast = latency(group, "reviewer activity panel, one day", panel, note=day)
    slow = latency(group, "naive COUNT(DISTINCT) query, one day", naive, note=day)
    return [fast, slow, ratio(group, "naive / panel", slow, fast, MIN_PANEL_SPEEDUP, at_most=False)]
