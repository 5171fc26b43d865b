"""`refund-review seed --demo` and `seed --contracts/--audit-events`, end to end on a real database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main


def _cli(url: URL, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", url.render_as_string(hide_password=False), *args])
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFUND_REVIEW_BCRYPT_ROUNDS", "4")


async def test_demo_loads_once_through_the_services(database_url: URL, superuser: asyncpg.Connection) -> None:
    code, out = await asyncio.to_thread(_cli, database_url, "seed", "--demo")
    assert code == 0, out
    assert "alice" in out and "alice-demo-pass" in out
    counts = await superuser.fetchrow(
        """
        SELECT (SELECT count(*) FROM users) AS users,
               (SELECT count(*) FROM contracts) AS contracts,
               (SELECT count(*) FROM extractions WHERE status = 'pending') AS pending,
               (SELECT count(*) FROM extractions WHERE status = 'pending' AND min_confidence < 80) AS low,
               (SELECT count(*) FROM extractions WHERE status = 'approved') AS approved,
               (SELECT count(*) FROM extractions WHERE status = 'rejected') AS rejected,
               (SELECT count(*) FROM corrections) AS corrections,
               (SELECT count(*) FROM chat_messages) AS chat,
               (SELECT count(*) FROM extraction_metrics) AS metric_rows
        """
    )
    assert counts["users"] == 5
    assert counts["contracts"] == 180
    assert counts["pending"] > 50 and counts["low"] > 10
    assert counts["approved"] > 40 and counts["rejected"] > 0
    assert counts["corrections"] > 0 and counts["chat"] > 0 and counts["metric_rows"] > 0
    documents = await superuser.fetchval("SELECT count(*) FROM contracts WHERE document_text LIKE '%\f%'")
    assert documents == 180
    types = {r["event_type"] for r in await superuser.fetch("SELECT DISTINCT event_type FROM audit_events")}
    assert {
        "user_created",
        "ingest",
        "extract",
        "login",
        "claim",
        "correct",
        "approve",
        "reject",
        "chat",
    } <= types
    code, out = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert code == 0 and "intact" in out
    code, out = await asyncio.to_thread(_cli, database_url, "seed", "--demo")
    assert code == 0 and "already loaded" in out
    assert await superuser.fetchval("SELECT count(*) FROM contracts") == 180


async def test_scale_seed_loads_by_copy_with_an_intact_chain(
    database_url: URL, superuser: asyncpg.Connection
) -> None:
    code, out = await asyncio.to_thread(
        _cli, database_url, "seed", "--contracts", "600", "--audit-events", "3000", "--corrections", "50"
    )
    assert code == 0, out
    row = await superuser.fetchrow(
        "SELECT (SELECT count(*) FROM contracts) c, (SELECT count(*) FROM extractions) e, "
        "(SELECT count(*) FROM corrections) k, (SELECT count(*) FROM audit_events) a, "
        "(SELECT count(*) FROM extractions WHERE status = 'pending') p"
    )
    assert (row["c"], row["e"]) == (600, 600)
    assert row["a"] == 3001  # the events, then the `seed` event linked by the trigger
    assert 100 < row["p"] < 300
    assert 20 < row["k"] < 100
    indexes = await superuser.fetchval(
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'contracts_document_tsv_idx'"
    )
    assert indexes == 1  # dropped for the load and built again
    code, out = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert code == 0 and "3,001 events verified" in out


async def test_seed_needs_something_to_load(database_url: URL) -> None:
    code, out = await asyncio.to_thread(_cli, database_url, "seed")
    assert code == 2
    assert "--demo" in out
