"""The benchmark harness runs end to end at a tiny scale and reports every figure; no time is asserted."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from benchmarks.figures import latency, percentile, rate
from benchmarks.harness import BenchConfig, run_bench
from db.url import asyncpg_connect_args
from services.settings import Settings
from tests.conftest import admin_execute

TINY = BenchConfig(
    contracts=400,
    audit_events=3_000,
    runs=4,
    warmup=1,
    writers=2,
    claimers=3,
    items_per_writer=3,
    claim_cycles=4,
    ingest_documents=4,
    workstation_runs=2,
    workstation_reviews=3,
    cold_starts=1,
)
LATENCY_GROUPS = {
    "review",
    "search",
    "audit",
    "dashboard",
    "service vs bare",
    "activity vs naive",
    "workstation",
}


def test_percentiles_are_nearest_rank() -> None:
    runs = [float(n) for n in range(1, 101)]
    assert percentile(runs, 0.5) == 50
    assert percentile(runs, 0.95) == 95
    assert percentile(runs, 0.99) == 99
    assert percentile([3.0], 0.99) == 3
    figure = latency("review", "x", [0.001 * n for n in range(1, 101)], target_ms=90)
    assert (figure.count, figure.median, figure.p95, figure.p99) == (100, 50.5, 95, 99)
    assert figure.met is False
    assert rate("throughput", "y", 1000, 2.0, target=400).met is True


def test_contracts_without_audit_events_is_refused() -> None:
    result = CliRunner().invoke(main, ["bench", "--contracts", "1000"])
    assert result.exit_code == 2
    assert "--contracts and --audit-events together" in result.output


@pytest.fixture
async def bench_database(pg_server: URL):
    name = f"rr_bench_{uuid.uuid4().hex[:8]}"
    yield name
    await admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
async def test_a_tiny_run_reports_every_figure_and_puts_the_queue_back(
    pg_server: URL, bench_database: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=pg_server.render_as_string(hide_password=False),
        home=tmp_path,
        testing=True,
        bcrypt_rounds=4,
    )
    said: list[str] = []
    config = TINY.model_copy(update={"database_name": bench_database})
    report = await run_bench(settings, config, "refund-review bench (test)", said.append)

    assert report.seeded and report.contracts == 400 and report.pending > 0
    names = {(f.group, f.name) for f in report.figures}
    for expected in [
        ("loading", "seed"),
        ("review", "queue page (50)"),
        ("review", "claim next"),
        ("review", "open detail"),
        ("review", "correct a field"),
        ("review", "approve"),
        ("search", "full text, first page"),
        ("audit", "history of one contract"),
        ("dashboard", "reviewer activity"),
        ("service vs bare", "approve: service / bare"),
        ("activity vs naive", "naive / panel"),
        ("throughput", "audited writes, 2 sessions"),
        ("throughput", "claims, 3 claimers"),
        ("loading", "rules extractor, one core"),
        ("workstation", "n on the queue to review screen drawn"),
        ("workstation", "resident memory after 3 reviews"),
    ]:
        assert expected in names
    for figure in report.figures:
        if figure.unit == "ms" and figure.group in LATENCY_GROUPS:
            assert figure.count and figure.median is not None and figure.p95 is not None
            assert figure.median <= figure.p95 <= (figure.p99 or 0)
    hot = [f for f in report.figures if f.group == "review" and f.name != "queue page (50), filtered"]
    assert {f.count for f in hot} == {TINY.runs}
    assert all(f.target is not None for f in hot)
    ratios = [f for f in report.figures if f.unit == "×"]
    assert len(ratios) == 6 and all(f.value > 0 and f.met is not None for f in ratios)
    assert {c.name: c.ok for c in report.checks} == {
        "no item claimed twice": True,
        "audit chain intact": True,
    }
    writes = next(f for f in report.figures if f.name == "audited writes, 2 sessions")
    assert writes.count == 2 * TINY.writers * TINY.items_per_writer
    assert json.loads(report.model_dump_json())["missed"] == report.missed
    assert any("Putting the queue back" in line for line in said)

    conn = await asyncpg.connect(**asyncpg_connect_args(pg_server.set(database=bench_database)))
    try:
        pending = await conn.fetchval("SELECT count(*) FROM extractions WHERE status = 'pending'")
        held = await conn.fetchval("SELECT count(*) FROM extractions WHERE claimed_by IS NOT NULL")
        open_sessions = await conn.fetchval("SELECT count(*) FROM sessions WHERE ended_at IS NULL")
        # The seeder rebuilds the audit log's indexes after loading: on every partition, not the parent only.
        invalid = await conn.fetch(
            "SELECT indexrelid::regclass::text AS name FROM pg_index "
            "WHERE indrelid = 'audit_events'::regclass AND NOT indisvalid"
        )
    finally:
        await conn.close()
    assert (pending, held, open_sessions) == (report.pending, 0, 0)
    assert [r["name"] for r in invalid] == []
