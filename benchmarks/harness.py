"""`refund-review bench`: build or reuse the benchmark database, measure everything, put the queue back.

The order matters: latencies first, on an undisturbed database; then the side-by-side comparisons; then
the concurrent writes and claims (and the audit chain verified after them); then loading and the
workstation. Whatever happens, the end puts back what the measurements changed in the queue — claims
released, decided items reopened by a supervisor, sessions logged out — so that the next run with
--reuse finds the queue as deep as this one did. The audit log keeps all of it (it is append-only), and
the bench's own bookkeeping writes rows back on the owner's connection (see side_by_side.py): to
start again from a pristine database, run without --reuse, which seeds it anew.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid
from collections.abc import Callable

from pydantic import BaseModel

from benchmarks.bare import BareConnection
from benchmarks.bench_database import BenchData, BenchScale, bench_database, bench_system_context
from benchmarks.context import BenchContext, log_in
from benchmarks.figures import BenchReport, Check, Figure
from benchmarks.loading import measure_loading, preparation_figures
from benchmarks.samples import draw_samples, tail_items
from benchmarks.service_calls import measure_service_calls
from benchmarks.side_by_side import measure_activity_against_naive, measure_against_bare
from benchmarks.throughput import measure_claims, measure_writes, verify_chain
from benchmarks.workstation import measure_workstation
from db.database import Database
from services.auth import logout
from services.context import ServiceContext
from services.errors import SessionExpired
from services.review import release, reopen
from services.settings import Settings
from synthetic.seeding.bulk import raw_connection
from synthetic.seeding.scale import Progress

Say = Callable[[str], None]
DEFAULT_RUNS = 200
REOPEN_REASON = "Benchmark run over: back to the queue."


class BenchConfig(BaseModel):
    """How much to measure. The defaults are the issue's; the test suite shrinks them."""

    contracts: int
    audit_events: int
    reuse: bool = False
    database_name: str | None = None
    runs: int = DEFAULT_RUNS
    # Unkept runs before the kept ones; a tenth of them (at least two) unless given.
    warmup: int | None = None
    writers: int = 8
    claimers: int = 16
    items_per_writer: int = 150
    claim_cycles: int = 60
    ingest_documents: int = 1000
    workstation_runs: int = 50
    workstation_reviews: int = 500
    cold_starts: int = 10
    # Worker processes the concurrent sessions are spread over; one per core unless given.
    processes: int | None = None
    random_seed: int = 6

    @property
    def warmups(self) -> int:
        return self.warmup if self.warmup is not None else max(2, self.runs // 10)


def _write_items_needed(config: BenchConfig) -> int:
    per_call = config.warmups + config.runs
    # correct/approve latencies, the correct and approve pairs against bare SQL, the concurrent writes
    return per_call + 2 * per_call + config.writers * config.items_per_writer


async def run_bench(
    settings: Settings, config: BenchConfig, command: str, say: Say, seed_progress: Progress | None = None
) -> BenchReport:
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    scale = BenchScale(config.contracts, config.audit_events)
    name = config.database_name or scale.database_name
    say(f"Benchmark database {name}: {'reused if it holds this scale' if config.reuse else 'seeding'}…")
    async with bench_database(
        settings, scale, reuse=config.reuse, database_name=config.database_name, progress=seed_progress
    ) as (db, data):
        figures, checks = await _measure(settings, db, data, config, say)
    figures = preparation_figures(scale, data) + figures
    return BenchReport(
        command=command,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 1),
        database=data.database,
        server_version=data.server_version,
        cpus=os.cpu_count() or 0,
        contracts=data.contracts,
        audit_events=data.audit_events,
        pending=data.pending,
        corrections=data.corrections,
        database_bytes=data.database_bytes,
        seeded=data.seeded,
        figures=figures,
        checks=checks,
    )


async def _measure(
    settings: Settings, db: Database, data: BenchData, config: BenchConfig, say: Say
) -> tuple[list[Figure], list[Check]]:
    system = bench_system_context(db)
    figures: list[Figure] = []
    checks: list[Check] = []
    async with raw_connection(db.owner) as owner:
        # After a bulk load (and after an earlier run's writes), as an operator would: the visibility map
        # must be current for index-only scans, and every run should start from the same state.
        say("Vacuuming the review tables…")
        await owner.execute("VACUUM (ANALYZE) extractions, corrections, contracts, users, sessions")
        first_seq = await owner.fetchval("SELECT last_seq FROM audit_chain_head WHERE id = 1")
        say("Logging in the reviewers and a supervisor…")
        usernames = [f"scale.reviewer{n:02d}" for n in range(1, max(config.writers, config.claimers, 1) + 1)]
        reviewers = await log_in(db, settings.bcrypt_rounds, usernames)
        (supervisor,) = await log_in(db, settings.bcrypt_rounds, ["scale.supervisor01"])
        rng = random.Random(config.random_seed)
        bench = BenchContext(
            db=db,
            owner=owner,
            reviewers=reviewers,
            supervisor=supervisor,
            samples=await draw_samples(owner, max(config.warmups + config.runs, 50), rng),
            write_items=await tail_items(owner, _write_items_needed(config)),
            runs=config.runs,
            warmup=config.warmups,
        )
        try:
            say(f"Service calls, {config.runs} runs each…")
            figures += await measure_service_calls(bench)
            say("The five hot calls against their SQL on bare asyncpg…")
            bare = await BareConnection.open(db.url)
            try:
                figures += await measure_against_bare(bench, bare)
            finally:
                await bare.close()
            say("The reviewer-activity panel against the naive query…")
            figures += await measure_activity_against_naive(bench)
            say(f"Audited writes from {config.writers} sessions…")
            processes = config.processes or os.cpu_count() or 1
            figures += await measure_writes(bench, config.writers, config.items_per_writer, processes)
            say(f"Claims from {config.claimers} claimers…")
            claims, duplicates = await measure_claims(bench, config.claimers, config.claim_cycles, processes)
            say("Verifying the audit chain…")
            verified, intact = await verify_chain(system)
            figures += [claims, verified]
            checks += [duplicates, intact]
            say(f"Ingesting {config.ingest_documents} text contracts; the rules extractor…")
            figures += await measure_loading(system, config.ingest_documents)
            say("The workstation (headless, in its own process)…")
            figures += await measure_workstation(
                settings,
                db,
                runs=config.workstation_runs,
                reviews=config.workstation_reviews,
                cold_runs=config.cold_starts,
                pending=data.pending,
            )
        finally:
            say("Putting the queue back…")
            await _put_back(bench, settings, first_seq)
    return figures, checks


_DECIDED_SINCE = """
    SELECT e.id, e.version FROM extractions e
     WHERE e.status <> 'pending' AND e.id IN (
           SELECT (event_data ->> 'extraction_id')::uuid FROM audit_events
            WHERE seq > $1 AND event_type IN ('approve', 'reject'))
"""
_HELD_BY = "SELECT id FROM extractions WHERE claimed_by = $1 AND status = 'pending'"


async def _put_back(bench: BenchContext, settings: Settings, first_seq: int) -> None:
    """Reopen what the run decided, release what its reviewers hold, and log everyone out."""
    (supervisor,) = await log_in(bench.db, settings.bcrypt_rounds, ["scale.supervisor01"])
    for row in await bench.owner.fetch(_DECIDED_SINCE, first_seq):
        await reopen(supervisor, row["id"], row["version"], REOPEN_REASON)
    for ctx in bench.reviewers:
        for row in await bench.owner.fetch(_HELD_BY, ctx.actor.user_id):
            await _release(ctx, row["id"])
    for ctx in [*bench.reviewers, bench.supervisor, supervisor]:
        await logout(ctx)


async def _release(ctx: ServiceContext, extraction_id: uuid.UUID) -> None:
    """Give a claim back; a session that has gone idle meanwhile leaves it to its lease running out."""
    try:
        await release(ctx, extraction_id)
    except SessionExpired:
        return
