"""Synthetic data at scale: a million contracts and ten million audit events in minutes.

`refund-review seed --contracts N --audit-events M` and the benchmark use
this. Contracts come from the compact synthetic generator and go in by COPY;
extractions, corrections and audit events are derived from them with a
realistic shape: about 30% of extractions pending, confidences spread so that
a fifth fall below the review threshold, each reviewed value wrong (and
corrected) with a chance that falls with its stated confidence — somewhat
overconfident, as extractors are (``error_scale``) — so that the calibration
report shows a curve, reviews spread over reviewers and months, and an audit log over 24 monthly partitions whose hash chain is
computed here, exactly as the database trigger would, so that
`refund-review audit verify` passes on the result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
import random
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import asyncpg
import bcrypt
from pydantic import BaseModel

from db.url import asyncpg_connect_args, to_async_url
from services.context import ServiceContext
from services.errors import InvalidInput
from services.extraction.rules import RULES_VERSION
from services.permissions import Permission, require
from synthetic.contracts import contract_ids, generate_compact_rows
from synthetic.seeding.audit_events import AUDIT_COLUMNS, AuditSeedPlan, as_async, audit_chunks, prepare
from synthetic.seeding.bulk import BULK_SETTINGS, copy_rows, raw_connection, secondary_indexes

Progress = Callable[[str, int, int], None]

CONTRACT_COLUMNS = (
    "contract_id", "account_number", "customer_name", "contract_type", "contract_date", "vehicle_info",
    "document_text", "document_sha256", "page_count", "text_extraction_status", "s3_bucket", "s3_key",
)  # fmt: skip
EXTRACTION_COLUMNS = (
    "id", "contract_id",
    "gap_insurance_premium", "gap_insurance_premium_confidence", "gap_insurance_premium_source",
    "refund_calculation_method", "refund_calculation_method_confidence", "refund_calculation_method_source",
    "cancellation_fee", "cancellation_fee_confidence", "cancellation_fee_source",
    "llm_provider", "model_version", "prompt_version", "processing_time_ms", "prompt_tokens",
    "completion_tokens", "cost_usd", "status", "reviewed_by", "reviewed_at", "review_seconds",
    "rejection_reason", "extracted_at", "created_at", "updated_at",
)  # fmt: skip
_FIELDS = ("gap_insurance_premium", "refund_calculation_method", "cancellation_fee")
REJECTED_SHARE = 0.08
CORRECTION_COLUMNS = (
    "extraction_id", "field_name", "original_value", "corrected_value", "reason_code", "reason_note",
    "corrected_by", "corrected_at",
)  # fmt: skip

PROVIDERS = (
    ("rules", f"rules-{RULES_VERSION}", "n/a", 0, 0, Decimal(0)),
    ("anthropic", "claude-sonnet-4-5", "extract-v3", 4_200, 380, Decimal("0.018300")),
    ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "extract-v3", 4_300, 390, Decimal("0.018750")),
)
REJECTION_REASONS = (
    "Document is illegible",
    "Wrong contract attached",
    "Not a GAP contract",
    "Duplicate of another contract",
)
REASON_CODES = ("misread_value", "wrong_source", "missing_value", "method_misclassified", "document_quality")
SCALE_PASSWORD = "scale-data-password"


async def scale_password_hash() -> str:
    """One bcrypt hash shared by every synthetic user (12 rounds, computed once per load)."""
    return (await asyncio.to_thread(bcrypt.hashpw, SCALE_PASSWORD.encode(), bcrypt.gensalt(12))).decode()


class ScaleSeedReport(BaseModel):
    users: int
    contracts: int
    extractions: int
    pending: int
    corrections: int
    audit_events: int
    seconds: float
    database_bytes: int


def _line_span(text: str, needle: str) -> dict[str, object] | None:
    """The source span of the line holding `needle` (compact pages are one page, short lines)."""
    at = text.find(needle)
    if at < 0:
        return None
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    return {
        "page": 1, "line": text.count("\n", 0, start) + 1, "section": None, "start": start, "end": end,
        "quote": text[start:end], "alignment": "exact",
    }  # fmt: skip


_METHOD_NEEDLES = {
    "Pro-Rata": ("pro rata", "pro-rata", "proportion", "days remaining"),
    "Rule of 78s": ("78", "sum of the digits", "sum-of-the-digits"),
    "Actuarial": ("actuarial",),
    "Short-Rate": ("short-rate", "short rate"),
    "Unknown": ("refund",),
}


def _method_span(text: str, method: str) -> dict[str, object] | None:
    lowered = text.lower()
    for needle in _METHOD_NEEDLES[method]:
        at = lowered.find(needle)
        if at >= 0:
            return _line_span(text, text[at : at + len(needle)])
    return None


_LOW, _HIGH = (25, 79), (80, 99)
_REVIEWED_LOW_SHARE = 0.12
# How much likelier a value is to be wrong than its stated confidence says, by default: a stated 90 is
# right about 85 times in 100. Real extractors are overconfident; the calibration report should show it.
OVERCONFIDENCE = 1.5
_MOST_WRONG = 0.95


def _confidence(rng: random.Random, low_share: float) -> int:
    """Most fields are confident; a share sits below the threshold, as with a real extractor."""
    if rng.random() < low_share:
        return rng.randint(*_LOW)
    return rng.randint(*_HIGH)


def _mean_doubt(low_share: float) -> float:
    """The mean of 1 - confidence/100 over ``_confidence``'s distribution: a field's chance of being wrong
    were the stated confidence exact."""

    def mean(low: int, high: int) -> float:
        return 1 - (low + high) / 200

    return low_share * mean(*_LOW) + (1 - low_share) * mean(*_HIGH)


def error_scale_for(corrections: int | None, contracts: int, pending_share: float) -> float:
    """The factor on ``1 - confidence/100`` that gives a value's chance of being wrong (and corrected).

    Without a number of corrections, OVERCONFIDENCE; with one, the factor that makes the reviewed fields'
    expected errors that number, so that ``--corrections`` keeps its meaning while the errors still fall
    where the confidence is low.
    """
    if corrections is None:
        return OVERCONFIDENCE
    approved_fields = contracts * (1 - pending_share) * (1 - REJECTED_SHARE) * len(_FIELDS)
    return corrections / max(approved_fields * _mean_doubt(_REVIEWED_LOW_SHARE), 1)


class _Timeline:
    """Timestamps over the last `months` months, later sequence numbers later in time."""

    def __init__(self, months: int, now: dt.datetime) -> None:
        self.end = now
        self.start = now - dt.timedelta(days=30.4 * months)
        self.span = (self.end - self.start).total_seconds()

    def at(self, fraction: float) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.span * min(max(fraction, 0.0), 1.0))


async def _ensure_users(conn: asyncpg.Connection, password_hash: str) -> dict[str, list[uuid.UUID]]:
    """Forty reviewers, four supervisors and an admin named `scale.*` (created once)."""
    wanted = [("reviewer", 40), ("supervisor", 4), ("admin", 1)]
    for role, count in wanted:
        await conn.executemany(
            "INSERT INTO users (username, email, full_name, password_hash, role) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (username) DO NOTHING",
            [
                (
                    f"scale.{role}{i:02d}",
                    f"scale.{role}{i:02d}@example.com",
                    f"Scale {role.title()} {i}",
                    password_hash,
                    role,
                )
                for i in range(1, count + 1)
            ],
        )
    rows = await conn.fetch("SELECT id, role FROM users WHERE username LIKE 'scale.%' ORDER BY username")
    users: dict[str, list[uuid.UUID]] = {"reviewer": [], "supervisor": [], "admin": []}
    for row in rows:
        users[row["role"]].append(row["id"])
    return users


def _contract_and_extraction_rows(
    count: int, start: int, seed: int, pending_share: float, timeline: _Timeline, reviewers: list[uuid.UUID],
    error_scale: float, contract_rows: list[tuple], extraction_rows: list[tuple], correction_rows: list[tuple],
) -> None:  # fmt: skip
    """Fill the three row lists (kept in memory in batches by the caller)."""
    rng = random.Random(seed * 1_000_003 + start)
    for row in generate_compact_rows(count, start=start, seed=seed):
        cid, account, customer, ctype, cdate, vehicle, text, premium, method, fee = row
        contract_rows.append(
            (
                cid,
                account,
                customer,
                ctype,
                cdate,
                vehicle,
                text,
                None,
                1,
                "extracted",
                "synthetic",
                f"{cid}.txt",
            )
        )
        provider, model, prompt, p_tok, c_tok, cost = PROVIDERS[
            0 if rng.random() < 0.85 else rng.randint(1, 2)
        ]
        seq_fraction = rng.random()
        extracted_at = timeline.at(seq_fraction + rng.uniform(-0.01, 0.01))
        pending = rng.random() < pending_share
        low = 0.35 if pending else _REVIEWED_LOW_SHARE
        p_conf, m_conf, f_conf = _confidence(rng, low), _confidence(rng, low), _confidence(rng, low)
        premium_src = _line_span(text, f"${premium:,.2f}")
        if premium_src is None:
            p_conf = min(p_conf, 55)
        fee_src = _line_span(text, f"${fee:,.2f}") if fee else _line_span(text, " fee")
        ext_id = uuid.UUID(int=rng.getrandbits(128))
        status, reviewer, reviewed_at, seconds, reason = "pending", None, None, None, None
        if not pending:
            status = "rejected" if rng.random() < REJECTED_SHARE else "approved"
            reviewer = reviewers[rng.randrange(len(reviewers))]
            reviewed_at = extracted_at + dt.timedelta(minutes=rng.randint(5, 4_000))
            seconds = int(rng.lognormvariate(4.2, 0.6))
            reason = (
                REJECTION_REASONS[rng.randrange(len(REJECTION_REASONS))] if status == "rejected" else None
            )
            # A value is wrong (and its reviewer corrects it) with a chance that falls with its confidence.
            stated = dict(zip(_FIELDS, (p_conf, m_conf, f_conf), strict=True))
            for field in _FIELDS if status == "approved" else ():
                if rng.random() < min(_MOST_WRONG, error_scale * (1 - stated[field] / 100)):
                    original, corrected = _wrong_value(rng, field, premium, method, fee)
                    correction_rows.append(
                        (ext_id, field, original, corrected, REASON_CODES[rng.randrange(len(REASON_CODES))],
                         "Checked against the contract text.", reviewer,
                         reviewed_at - dt.timedelta(seconds=rng.randint(5, max(seconds, 6))))
                    )  # fmt: skip
        tokens = (p_tok + rng.randint(-400, 400), c_tok + rng.randint(-60, 60)) if p_tok else (0, 0)
        extraction_rows.append(
            (ext_id, cid,
             premium, p_conf, json.dumps(premium_src) if premium_src else None,
             method, m_conf, json.dumps(_method_span(text, method)) if method != "Unknown" else None,
             fee, f_conf, json.dumps(fee_src) if fee_src else None,
             provider, model, prompt, rng.randint(2, 9) if provider == "rules" else rng.randint(2_500, 9_000),
             tokens[0], tokens[1], cost, status, reviewer, reviewed_at, seconds, reason,
             extracted_at, extracted_at, reviewed_at or extracted_at)
        )  # fmt: skip


def _wrong_value(
    rng: random.Random, field: str, premium: Decimal, method: str, fee: Decimal | None
) -> tuple[str | None, str | None]:
    """A plausible AI mistake in ``field`` that a reviewer fixed: (what the AI said, what is right)."""
    if field == "gap_insurance_premium":
        return f"{premium + rng.choice((-100, 100, 50)):.2f}", f"{premium:.2f}"
    if field == "refund_calculation_method":
        return rng.choice(
            [m for m in ("Pro-Rata", "Rule of 78s", "Actuarial", "Short-Rate") if m != method]
        ), method
    return "75.00" if fee != Decimal("75.00") else "50.00", None if fee is None else f"{fee:.2f}"


async def _require_superuser(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT current_setting('is_superuser')") != "on":
        raise InvalidInput(
            "Loading synthetic data at scale writes the audit log without its insert trigger, which needs a "
            "superuser (the embedded server's default user is one; on RDS use an rds_superuser)."
        )


async def _ensure_month_partitions(conn: asyncpg.Connection, months: int, now: dt.datetime) -> None:
    first = (now - dt.timedelta(days=31 * months)).date().replace(day=1)
    await conn.execute(
        "SELECT create_audit_partition(m::date) FROM generate_series($1::date, $2::date, interval '1 month') m",
        first,
        now.date(),
    )
    await conn.execute("SELECT ensure_audit_partitions(3)")


@dataclass
class ContractJob:
    """What one contract worker process loads, and how."""

    ranges: list[tuple[int, int]]
    seed: int
    pending_share: float
    error_scale: float
    months: int
    now: dt.datetime
    reviewers: list[uuid.UUID]


async def _load_contract_ranges(url: str, job: ContractJob, queue: Any) -> tuple[int, int, int]:
    """One worker process: its share of the contract batches, each in its own transaction."""
    conn = await asyncpg.connect(**asyncpg_connect_args(to_async_url(url)))
    try:
        for statement in BULK_SETTINGS:
            await conn.execute(statement)
        timeline = _Timeline(job.months, job.now)
        loaded = pending = fixed = 0
        for start, count in job.ranges:
            c_rows: list[tuple] = []
            e_rows: list[tuple] = []
            k_rows: list[tuple] = []
            _contract_and_extraction_rows(
                count, start, job.seed, job.pending_share, timeline, job.reviewers, job.error_scale,
                c_rows, e_rows, k_rows,
            )  # fmt: skip
            async with conn.transaction():
                await copy_rows(conn, "contracts", CONTRACT_COLUMNS, c_rows)
                await copy_rows(conn, "extractions", EXTRACTION_COLUMNS, e_rows)
                await copy_rows(conn, "corrections", CORRECTION_COLUMNS, k_rows)
            loaded += count
            pending += sum(1 for r in e_rows if r[18] == "pending")
            fixed += len(k_rows)
            queue.put(("contracts", count))
        return loaded, pending, fixed
    finally:
        await conn.close()


async def _load_audit_events(url: str, plan: AuditSeedPlan, queue: Any) -> int:
    """The audit worker: one transaction holding the chain head, COPY without the trigger, head moved on."""
    conn = await asyncpg.connect(**asyncpg_connect_args(to_async_url(url)))
    try:
        for statement in BULK_SETTINGS:
            await conn.execute(statement)
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            head_seq, head_hash = await conn.fetchrow(
                "SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE"
            )
            plan.start_seq, plan.prev_hash = head_seq + 1, bytes(head_hash)
            reported = 0

            def progress(done: int) -> None:
                nonlocal reported
                queue.put(("audit events", done - reported))
                reported = done

            vocabulary = await prepare(conn, plan)
            chunks = as_async(audit_chunks(plan, vocabulary, progress))
            await conn.copy_to_table("audit_events", source=chunks, columns=list(AUDIT_COLUMNS), format="csv")
            await conn.execute(
                "UPDATE audit_chain_head SET last_seq = $1, last_hash = $2 WHERE id = 1",
                head_seq + plan.count,
                plan.prev_hash,
            )
        return plan.count
    finally:
        await conn.close()


def _run_contracts(url: str, job: ContractJob, queue: Any) -> tuple[int, int, int]:
    return asyncio.run(_load_contract_ranges(url, job, queue))


def _run_audit(url: str, plan: AuditSeedPlan, queue: Any) -> int:
    return asyncio.run(_load_audit_events(url, plan, queue))


BATCH = 25_000


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    done = 0
    while done < total:
        step = min(size, total - done)
        yield done, step
        done += step


async def seed_scale(
    ctx: ServiceContext,
    *,
    contracts: int,
    audit_events: int,
    password_hash: str,
    pending_share: float = 0.3,
    corrections: int | None = None,
    months: int = 24,
    seed: int = 0,
    workers: int = 2,
    progress: Progress | None = None,
) -> ScaleSeedReport:
    """Load synthetic contracts and audit events in parallel worker processes, then build the indexes.

    Indexes are dropped and rebuilt only for tables that start empty (a first
    load); appending to a loaded database keeps them and is slower.
    """
    require(ctx.actor, Permission.MAINTAIN)
    if contracts < 0 or audit_events < 0:
        raise InvalidInput("The numbers of contracts and audit events cannot be negative.")
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    url = ctx.db.owner.url.render_as_string(hide_password=False)  # the bulk loaders need the owner
    async with raw_connection(ctx.db.owner) as conn:
        await _require_superuser(conn)
        users = await _ensure_users(conn, password_hash)
        existing = await conn.fetchval("SELECT count(*) FROM contracts")
        audit_empty = await conn.fetchval("SELECT NOT EXISTS (SELECT 1 FROM audit_events)")
        await _ensure_month_partitions(conn, months, now)
        fresh = ["contracts", "extractions", "corrections"] if existing == 0 and contracts else []
        fresh += ["audit_events"] if audit_empty and audit_events else []
        rebuild = await secondary_indexes(conn, fresh)
        for name, _ in rebuild:
            await conn.execute(f"DROP INDEX {name}")
        known_ids: list[str] = [r[0] for r in await conn.fetch("SELECT contract_id FROM contracts")]
    try:
        reviewers = users["reviewer"]
        plan = AuditSeedPlan(
            count=audit_events, start_seq=0, prev_hash=b"", start=now - dt.timedelta(days=30.4 * months), end=now,
            contract_ids=known_ids + contract_ids(contracts, start=existing + 1, seed=seed),
            users=reviewers + users["supervisor"], seed=seed,
        )  # fmt: skip
        job = ContractJob(
            ranges=[(existing + 1 + offset, step) for offset, step in _batches(contracts, BATCH)],
            seed=seed,
            pending_share=pending_share,
            error_scale=error_scale_for(corrections, contracts, pending_share),
            months=months,
            now=now,
            reviewers=reviewers,
        )
        loaded, pending, fixed = await _run_workers(url, job, plan, workers, progress)
    finally:
        async with raw_connection(ctx.db.owner) as conn:
            for done, (_, ddl) in enumerate(rebuild, 1):
                await conn.execute(ddl)
                if progress:
                    progress("indexes", done, len(rebuild))
            await conn.execute("ANALYZE")
    async with ctx.unit_of_work() as uow:
        uow.record(
            ctx.actor.event(
                "seed", contracts=loaded, pending=pending, corrections=fixed, audit_events=audit_events
            )
        )
        await uow.commit()
    return ScaleSeedReport(
        users=sum(len(v) for v in users.values()),
        contracts=loaded,
        extractions=loaded,
        pending=pending,
        corrections=fixed,
        audit_events=audit_events,
        seconds=round(time.perf_counter() - started, 1),
        database_bytes=await database_size(ctx),
    )


async def _run_workers(
    url: str, job: ContractJob, plan: AuditSeedPlan, workers: int, progress: Progress | None
) -> tuple[int, int, int]:
    """Contract batches dealt round-robin to `workers` processes, the audit log to one more."""
    context = multiprocessing.get_context("spawn")
    totals = {"contracts": [0, sum(step for _, step in job.ranges)], "audit events": [0, plan.count]}
    with context.Manager() as manager, ProcessPoolExecutor(workers + 1, mp_context=context) as pool:
        queue = manager.Queue()
        loop = asyncio.get_running_loop()
        contract_jobs = [
            loop.run_in_executor(
                pool, _run_contracts, url, replace(job, ranges=job.ranges[i::workers]), queue
            )
            for i in range(workers)
            if job.ranges[i::workers]
        ]
        audit_jobs = [loop.run_in_executor(pool, _run_audit, url, plan, queue)] if plan.count else []
        everything = asyncio.gather(*contract_jobs, *audit_jobs)
        while not everything.done():
            await asyncio.sleep(0.2)
            while not queue.empty():
                stage, step = queue.get()
                totals[stage][0] += step
                if progress:
                    progress(stage, *totals[stage])
        results = await everything
    counted = results[: len(contract_jobs)]
    return sum(r[0] for r in counted), sum(r[1] for r in counted), sum(r[2] for r in counted)


async def database_size(ctx: ServiceContext) -> int:
    async with raw_connection(ctx.db.owner) as conn:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
