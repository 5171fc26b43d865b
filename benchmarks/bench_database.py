"""The benchmark's own database: built with the scale seeder, or reused when it already holds that data.

It lives beside the application's database on the same server (the embedded one unless DATABASE_URL
names another), under a name of its own, so that benchmarking never touches real data. The benchmark
writes to it (claims, corrections, approvals, ingested documents) and puts the queue back afterwards,
but its history keeps those writes: re-seeding (running without --reuse) gives a pristine database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from pydantic import BaseModel
from sqlalchemy.engine import URL

from db.database import Database, connect_database, ensure_database_exists, probe
from db.embedded import start_embedded_server
from db.engine import SERVICE_POOL, PoolSize
from db.logins import ensure_login, generate_password, login_url
from db.url import asyncpg_connect_args, to_async_url, with_database
from services.context import ServiceContext, system_actor
from services.metrics import refresh_extraction_metrics
from services.runtime import user_agent
from services.schema_admin import upgrade_schema
from services.settings import Settings
from synthetic.seeding.bulk import raw_connection
from synthetic.seeding.scale import Progress, scale_password_hash, seed_scale

# name: (contracts, audit events)
SCALES: dict[str, tuple[int, int]] = {"quick": (100_000, 1_000_000), "full": (1_000_000, 10_000_000)}
# A reused database whose queue has shrunk below this share of what was seeded is seeded again.
MIN_PENDING_SHARE = 0.9
# Contracts the ingestion measurement adds (they stay: their audit events refer to them).
INGESTED_PREFIX = "BENCH-INGEST-"


@dataclass(frozen=True)
class BenchScale:
    contracts: int
    audit_events: int

    @classmethod
    def named(cls, name: str) -> BenchScale:
        contracts, audit_events = SCALES[name]
        return cls(contracts, audit_events)

    @property
    def database_name(self) -> str:
        for name, sizes in SCALES.items():
            if sizes == (self.contracts, self.audit_events):
                return f"refund_review_bench_{name}"
        return f"refund_review_bench_{self.contracts}_{self.audit_events}"


class BenchData(BaseModel):
    """What the benchmark database holds as the measurements start."""

    database: str
    contracts: int
    audit_events: int
    pending: int
    corrections: int
    database_bytes: int
    server_version: str
    seeded: bool
    seed_seconds: float | None
    # The refresh of extraction_metrics before measuring: full after a seed, incremental on reuse.
    metrics_refresh_seconds: float


def bench_system_context(db: Database) -> ServiceContext:
    return ServiceContext(db=db, actor=system_actor(user_agent("bench")))


async def _server_url(settings: Settings) -> URL:
    # The bench creates its own database and login: it needs the owner's (or a superuser's) URL.
    if settings.owner_database_url or settings.database_url:
        return to_async_url(settings.owner_database_url or settings.database_url or "")
    server = await asyncio.to_thread(start_embedded_server, settings.home)
    return server.url


async def _on_server(server: URL, statement: str, *args: object) -> object:
    conn = await asyncpg.connect(**asyncpg_connect_args(server.set(database="postgres")))
    try:
        return await conn.fetchval(statement, *args)
    finally:
        await conn.close()


async def _seeded_as_asked(db: Database, scale: BenchScale) -> bool:
    """The database holds the last seed's data at this scale, with most of its queue still pending."""
    async with raw_connection(db.owner) as conn:
        # The owner engine's connections decode jsonb (SQLAlchemy's codec).
        data = await conn.fetchval(
            "SELECT event_data FROM audit_events WHERE event_type = 'seed' ORDER BY seq DESC LIMIT 1"
        )
        if data is None:
            return False
        if (data.get("contracts"), data.get("audit_events")) != (scale.contracts, scale.audit_events):
            return False
        contracts = await conn.fetchval(
            "SELECT count(*) FROM contracts WHERE contract_id NOT LIKE $1", INGESTED_PREFIX + "%"
        )
        pending = await conn.fetchval("SELECT count(*) FROM extractions WHERE status = 'pending'")
    return contracts == scale.contracts and pending >= MIN_PENDING_SHARE * data.get("pending", 0)


async def _describe(db: Database, name: str, seed_seconds: float | None, refresh_seconds: float) -> BenchData:
    async with raw_connection(db.owner) as conn:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM contracts) AS contracts,
                   (SELECT count(*) FROM extractions WHERE status = 'pending') AS pending,
                   (SELECT count(*) FROM corrections) AS corrections,
                   (SELECT last_seq FROM audit_chain_head WHERE id = 1) AS audit_events,
                   pg_database_size(current_database()) AS bytes,
                   current_setting('server_version') AS version
            """
        )
    return BenchData(
        database=name,
        contracts=row["contracts"],
        audit_events=row["audit_events"],
        pending=row["pending"],
        corrections=row["corrections"],
        database_bytes=row["bytes"],
        server_version=row["version"],
        seeded=seed_seconds is not None,
        seed_seconds=seed_seconds,
        metrics_refresh_seconds=round(refresh_seconds, 3),
    )


@asynccontextmanager
async def bench_database(
    settings: Settings,
    scale: BenchScale,
    *,
    reuse: bool,
    database_name: str | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[tuple[Database, BenchData]]:
    """The benchmark database, seeded unless `reuse` finds it holding this scale's data already."""
    server = await _server_url(settings)
    name = database_name or scale.database_name
    url = with_database(server, name)
    existed = bool(await _on_server(server, "SELECT count(*) FROM pg_database WHERE datname = $1", name))
    drop = f'DROP DATABASE "{name}" WITH (FORCE)'
    if existed and not reuse:
        await _on_server(server, drop)
    await ensure_database_exists(server, name)
    await probe(url)
    db = connect_database(await _bench_login(url), owner_url=url)
    try:
        await upgrade_schema(db)
        fresh = not (existed and reuse)
        if not fresh and not await _seeded_as_asked(db, scale):
            await db.dispose()
            await _on_server(server, drop)
            await ensure_database_exists(server, name)
            await upgrade_schema(db)
            fresh = True
        seed_seconds = None
        if fresh:
            report = await seed_scale(
                bench_system_context(db),
                contracts=scale.contracts,
                audit_events=scale.audit_events,
                password_hash=await scale_password_hash(),
                progress=progress,
            )
            seed_seconds = report.seconds
        # The seeder leaves extraction_metrics to the refresh, as an operator's load would.
        started = time.perf_counter()
        await refresh_extraction_metrics(bench_system_context(db), full=seed_seconds is not None)
        refresh_seconds = time.perf_counter() - started
        yield db, await _describe(db, name, seed_seconds, refresh_seconds)
    finally:
        await db.dispose()


BENCH_LOGIN = "refund_review_bench"


async def _bench_login(owner_url: URL) -> URL:
    """A workstation login for the bench's services (a fresh password each run), as a deployment has."""
    password = generate_password()
    conn = await asyncpg.connect(**asyncpg_connect_args(owner_url))
    try:
        await ensure_login(conn, BENCH_LOGIN, password)
    finally:
        await conn.close()
    return login_url(owner_url, BENCH_LOGIN, password)


def database_with_pool(url: URL, pool_size: int) -> Database:
    """connect_database's Database with a service pool of `pool_size` connections.

    For concurrent sessions: a pool smaller than the sessions using it at once would measure
    reconnections (connections beyond the pool are closed when given back).
    """
    return connect_database(url, pool=PoolSize(size=pool_size, overflow=SERVICE_POOL.overflow))
