"""`refund-review audit export|verify-export|history` and `maintain --archive-dir`, end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main


def cli(url: URL | None, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    options = ["--database-url", url.render_as_string(hide_password=False)] if url else []
    result = runner.invoke(main, [*options, *args])
    return result.exit_code, result.stdout, result.stderr


async def run_cli(url: URL | None, *args: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(cli, url, *args)


@pytest.fixture
async def january(superuser: asyncpg.Connection) -> asyncpg.Connection:
    """Four events in January 2030 (one a search) and one on the first of February."""
    for when in (
        "2030-01-01 00:00",
        "2030-01-15 12:00",
        "2030-01-20 08:00",
        "2030-01-31 23:59",
        "2030-02-01 00:00",
    ):
        search = when.startswith("2030-01-20")
        await superuser.execute(
            "INSERT INTO audit_events (event_type, occurred_at, user_agent, event_data) "
            "VALUES ($1, $2::text::timestamptz, '=cmd|calc', $3)",
            "search" if search else "view",
            when + "+00",
            {"query": "Honda", "results": 3} if search else {"at": when},
        )
    return superuser


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


async def test_export_then_verify_then_tamper(
    database_url: URL, january: asyncpg.Connection, tmp_path: Path
) -> None:
    output = tmp_path / "january.jsonl"
    code, out, err = await run_cli(
        database_url, "audit", "export", "--from", "2030-01-01", "--to", "2030-01-31", "--output", str(output)
    )
    assert code == 0, err
    assert f"Exported 4 events (#1..#4) to {output}" in out
    assert [json.loads(line).get("seq") for line in lines_of(output)[1:-1]] == [1, 2, 3, 4]
    recorded = await january.fetchrow(
        "SELECT event_type, event_data FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert recorded["event_type"] == "audit_exported"
    assert recorded["event_data"]["count"] == 4

    code, out, err = await run_cli(None, "audit", "verify-export", str(output))
    assert code == 0, err
    assert out.startswith("Export intact: 4 events verified; anchor " + "0" * 64)

    lines = lines_of(output)
    lines[2] = lines[2].replace("2030-01-15 12:00", "2030-01-15 13:00")
    await asyncio.to_thread(output.write_text, "".join(lines), encoding="utf-8")
    code, _, err = await run_cli(None, "audit", "verify-export", str(output))
    assert code == 1
    assert "Export BROKEN at event #2: its content no longer matches its hash" in err


async def test_csv_export_lands_in_the_data_directorys_exports_under_a_default_name(
    database_url: URL, january: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the workstation writes too, not wherever the shell happens to be; and it says where."""
    home = tmp_path / "home"
    monkeypatch.setenv("REFUND_REVIEW_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    code, out, err = await run_cli(
        database_url, "audit", "export", "--from", "2030-01-01", "--to", "2030-01-31", "--format", "csv"
    )
    assert code == 0, err
    path = home / "exports" / "audit-2030-01-01_2030-01-31.csv"
    assert str(path) in out
    assert not (tmp_path / path.name).exists()
    content = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    assert "'=cmd|calc" in content and ",=cmd" not in content
    code, _, err = await run_cli(None, "audit", "verify-export", str(path))
    assert code == 2
    assert "CSV exports are for reading, not verifying" in err


async def test_export_refuses_a_backwards_period(database_url: URL, tmp_path: Path) -> None:
    code, _, err = await run_cli(
        database_url,
        "audit",
        "export",
        "--from",
        "2030-02-01",
        "--to",
        "2030-01-01",
        "--output",
        str(tmp_path / "x"),
    )
    assert code == 2
    assert "--to must not be before --from" in err


async def test_history_lists_filtered_events_newest_first(
    database_url: URL, january: asyncpg.Connection
) -> None:
    code, out, err = await run_cli(
        database_url, "audit", "history", "--from", "2030-01-15", "--to", "2030-01-31"
    )
    assert code == 0, err
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[3]) for r in rows] == [("#4", "view"), ("#3", "search"), ("#2", "view")]
    assert rows[1][5] == 'searched "Honda" (3 results)'
    code, out, _ = await run_cli(database_url, "audit", "history", "--type", "login")
    assert (code, out) == (0, "No audit events match.\n")


async def test_maintain_archives_only_with_an_archive_dir(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    await superuser.execute("SELECT create_audit_partition('2015-01-01')")
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at) VALUES ('view', '2015-01-10+00')"
    )
    code, out, err = await run_cli(database_url, "maintain")
    assert code == 0, err
    assert "archived" not in out
    code, out, err = await run_cli(database_url, "maintain", "--archive-dir", str(tmp_path / "archive"))
    assert code == 0, err
    assert (
        f"Audit partition archived: audit_events_y2015m01 (1 events #1..#1) -> {tmp_path / 'archive'}" in out
    )
    assert await superuser.fetchval("SELECT anchor_seq FROM audit_chain_head") == 1
    code, out, err = await run_cli(database_url, "audit", "verify")
    assert code == 0, err
