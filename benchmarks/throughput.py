"""Many reviewers at once: audited writes per second, claims per second, and what must still hold after.

Each reviewer's workstation is a process of its own, so the sessions are spread over worker processes
(as many as there are cores, by default) rather than crowded into the benchmark's one Python process,
whose single core would otherwise be what is measured. Each worker opens its own pool, makes one call
per session to warm it, and waits until every worker is ready; the clock runs from the first session
starting to the last one finishing.

Writes: each of `writers` sessions corrects and approves its own items (from the far end of the queue),
as fast as it can; every write carries its audit event and its link in the hash chain, which serializes
the writes' last moment. Afterwards `refund-review audit verify` (services.audit.chain) walks the whole
chain.

Claims: each of `claimers` sessions claims the head of the queue and gives the item back, over and
over, all at the same head. A duplicate is an item claimed by one reviewer while another still held it;
they are counted from the audit log, whose order is the order the claims committed in.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from benchmarks.bench_database import database_with_pool
from benchmarks.context import BenchContext
from benchmarks.figures import Check, Figure, rate
from benchmarks.samples import WriteItem
from benchmarks.service_calls import CORRECTION_NOTE
from db.url import to_async_url
from services.audit import verify_audit_chain
from services.auth import validate_session
from services.context import Actor, ServiceContext
from services.errors import Conflict
from services.review import approve, claim_next, correct_field, release

GROUP = "throughput"
MIN_WRITES_PER_SECOND = 500.0
MIN_CLAIMS_PER_SECOND = 500.0


@dataclass(frozen=True)
class WorkerJob:
    """What one worker process runs: a share of the sessions, each with its work."""

    url: str
    kind: Literal["write", "claim"]
    actors: list[dict[str, Any]]
    # Writes: each session's items. Claims: unused.
    items: list[list[WriteItem]]
    cycles: int


@dataclass(frozen=True)
class WorkerResult:
    started: float
    finished: float
    operations: int
    conflicts: int
    # CPU seconds the worker process spent meanwhile (the services' share of the machine).
    cpu: float


async def _write(ctx: ServiceContext, items: Sequence[WriteItem]) -> tuple[int, int]:
    """Correct and approve each item; (writes done, conflicts met)."""
    done = conflicts = 0
    for item in items:
        try:
            detail = await correct_field(ctx, item.extraction_id, item.version, "gap_insurance_premium",
                                         item.corrected_premium(), "misread_value", CORRECTION_NOTE)  # fmt: skip
            await approve(ctx, item.extraction_id, detail.version)
            done += 2
        except Conflict:
            conflicts += 1
    return done, conflicts


async def _claim(ctx: ServiceContext, cycles: int) -> tuple[int, int]:
    """Claim the head and give it back, `cycles` times; (claims made, 0)."""
    claims = 0
    skip: list[uuid.UUID] = []
    for _ in range(cycles):
        detail = await claim_next(ctx, skip=skip)
        if detail is None:
            break
        claims += 1
        await release(ctx, detail.extraction_id)
        skip = [detail.extraction_id]
    return claims, 0


async def _work(job: WorkerJob, ready: Any, go: Any) -> WorkerResult:
    db = database_with_pool(to_async_url(job.url), len(job.actors) + 1)
    try:
        contexts = [ServiceContext(db=db, actor=Actor.model_validate(a)) for a in job.actors]
        await asyncio.gather(*(validate_session(ctx) for ctx in contexts))
        ready.put(len(contexts))
        await asyncio.to_thread(go.wait)
        started, cpu = time.time(), time.process_time()
        if job.kind == "write":
            results = await asyncio.gather(
                *(_write(c, items) for c, items in zip(contexts, job.items, strict=True))
            )
        else:
            results = await asyncio.gather(*(_claim(c, job.cycles) for c in contexts))
        finished, cpu = time.time(), time.process_time() - cpu
    finally:
        await db.dispose()
    return WorkerResult(started, finished, sum(r[0] for r in results), sum(r[1] for r in results), cpu)


def _run_worker(job: WorkerJob, ready: Any, go: Any) -> WorkerResult:
    return asyncio.run(_work(job, ready, go))


@dataclass(frozen=True)
class Outcome:
    seconds: float  # from the first session starting to the last finishing
    operations: int
    conflicts: int
    cpu: float  # CPU seconds of the worker processes

    def cpu_note(self, what: str) -> str:
        per = self.cpu / self.operations * 1000 if self.operations else 0.0
        return f"the services used {per:.1f} ms of CPU per {what}"


async def _run_concurrently(jobs: list[WorkerJob]) -> Outcome:
    """The jobs run in parallel, one worker process each."""
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with context.Manager() as manager, ProcessPoolExecutor(len(jobs), mp_context=context) as pool:
        ready, go = manager.Queue(), manager.Event()
        futures = [loop.run_in_executor(pool, _run_worker, job, ready, go) for job in jobs]
        sessions = sum(len(job.actors) for job in jobs)
        waiting = sessions
        while waiting:
            waiting -= await asyncio.to_thread(ready.get)
        go.set()
        results: list[WorkerResult] = await asyncio.gather(*futures)
    return Outcome(
        seconds=max(r.finished for r in results) - min(r.started for r in results),
        operations=sum(r.operations for r in results),
        conflicts=sum(r.conflicts for r in results),
        cpu=sum(r.cpu for r in results),
    )


def _jobs(
    bench: BenchContext, kind: Literal["write", "claim"], sessions: int, processes: int,
    items: list[list[WriteItem]], cycles: int,
) -> list[WorkerJob]:  # fmt: skip
    """The sessions dealt round-robin to the worker processes."""
    url = bench.db.url.render_as_string(hide_password=False)
    return [
        WorkerJob(
            url=url,
            kind=kind,
            actors=[bench.reviewer(s).actor.model_dump(mode="json") for s in range(p, sessions, processes)],
            items=[items[s] for s in range(p, sessions, processes)] if items else [],
            cycles=cycles,
        )
        for p in range(min(processes, sessions))
    ]


async def measure_writes(bench: BenchContext, writers: int, items_each: int, processes: int) -> list[Figure]:
    items = bench.take_items(writers * items_each)
    shares = [items[w * items_each : (w + 1) * items_each] for w in range(writers)]
    jobs = _jobs(bench, "write", writers, processes, shares, 0)
    done = await _run_concurrently(jobs)
    return [
        rate(GROUP, f"audited writes, {writers} sessions", done.operations, done.seconds, MIN_WRITES_PER_SECOND,
             note=f"correct + approve; {done.operations:,} in {done.seconds:.2f} s from {len(jobs)} processes; "
                  f"{done.conflicts} conflicts; {done.cpu_note('write')}"),
    ]  # fmt: skip


async def verify_chain(system: ServiceContext) -> tuple[Figure, Check]:
    verification = await verify_audit_chain(system)
    check = Check(
        name="audit chain intact",
        ok=verification.intact,
        detail=(
            f"{verification.events_verified:,} events verified in {verification.seconds:.1f} s"
            if verification.intact
            else f"broken {verification.broken_at.describe() if verification.broken_at else ''}"
        ),
    )
    figure = rate(GROUP, "audit verify", verification.events_verified, verification.seconds,
                  note="events checked per second (the whole chain)")  # fmt: skip
    return figure, check


_CLAIM_EVENTS = """
    SELECT event_type, user_id, event_data ->> 'extraction_id' AS item FROM audit_events
     WHERE seq > $1 AND event_type IN ('claim', 'release', 'approve', 'reject')
     ORDER BY seq
"""


async def measure_claims(
    bench: BenchContext, claimers: int, cycles: int, processes: int
) -> tuple[Figure, Check]:
    first_seq = await bench.owner.fetchval("SELECT last_seq FROM audit_chain_head WHERE id = 1")
    jobs = _jobs(bench, "claim", claimers, processes, [], cycles)
    done = await _run_concurrently(jobs)
    holders: dict[str, uuid.UUID] = {}
    duplicates = 0
    for event in await bench.owner.fetch(_CLAIM_EVENTS, first_seq):
        if event["event_type"] != "claim":
            holders.pop(event["item"], None)
            continue
        holder = holders.get(event["item"])
        if holder is not None and holder != event["user_id"]:
            duplicates += 1
        holders[event["item"]] = event["user_id"]
    figure = rate(GROUP, f"claims, {claimers} claimers", done.operations, done.seconds, MIN_CLAIMS_PER_SECOND,
                  note=f"claim the head, give it back; {done.operations:,} in {done.seconds:.2f} s from "
                       f"{len(jobs)} processes; {done.cpu_note('claim and release')}")  # fmt: skip
    check = Check(
        name="no item claimed twice",
        ok=duplicates == 0,
        detail=f"{duplicates} duplicate claims among {done.operations:,} (from the audit log's order)",
    )
    return figure, check
