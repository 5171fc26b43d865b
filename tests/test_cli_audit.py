"""`refund-review audit export|verify-export|history` and `maintain --archive-dir`, end to end."""

from __future__ import annotations

import asyncio
import json
import os
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


@pytest.fixture(autouse=True)
def own_anchor_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's commands sign with a key of its own into a store of its own, never the user's."""
    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_KEY", str(tmp_path / "anchor-key.pem"))
    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_STORE", str(tmp_path / "anchors"))
    return tmp_path / "anchors"


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


async def test_anchor_then_verify_then_rewrite_behind_the_triggers(
    database_url: URL, january: asyncpg.Connection, own_anchor_store: Path, tmp_path: Path
) -> None:
    code, out, err = await run_cli(database_url, "audit", "anchor")
    assert code == 0, err
    assert out.startswith("Audit chain anchored at #5 (hash ")
    assert (tmp_path / "anchor-key.pem").stat().st_mode & 0o777 == 0o600
    assert len(await asyncio.to_thread(os.listdir, own_anchor_store)) == 1
    code, out, err = await run_cli(database_url, "audit", "anchor")
    assert code == 0, err
    assert "already anchored at #5" in out

    code, out, err = await run_cli(database_url, "audit", "verify")
    assert code == 0, err
    assert "Audit chain intact: 5 events verified" in out
    assert "1 of 1 anchors confirmed, the latest at #5" in out
    assert out.rstrip().endswith("not yet anchored: 0.")

    # A superuser changes event #2 and recomputes every later hash and the head: the walk cannot see it.
    await january.execute(
        "BEGIN; ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_chain_head DISABLE TRIGGER USER; "
        "UPDATE audit_events SET event_data = '{}' WHERE seq = 2; "
        "DO $$ DECLARE r record; prev bytea := (SELECT prev_hash FROM audit_events WHERE seq = 2); h bytea; BEGIN "
        "FOR r IN SELECT * FROM audit_events WHERE seq >= 2 ORDER BY seq LOOP "
        "h := audit_event_hash(prev, r.id, r.seq, r.occurred_at, r.event_type, r.user_id, r.session_id, "
        "r.contract_id, r.ip_address, r.user_agent, r.event_data); "
        "UPDATE audit_events SET prev_hash = prev, hash = h WHERE seq = r.seq; prev := h; END LOOP; "
        "UPDATE audit_chain_head SET last_hash = prev; END $$; "
        "ALTER TABLE audit_events ENABLE TRIGGER USER; ALTER TABLE audit_chain_head ENABLE TRIGGER USER; COMMIT;"
    )
    code, _, err = await run_cli(database_url, "audit", "verify")
    assert code == 1
    assert "Audit chain NOT VERIFIED: 1 problems, although every link holds." in err
    assert "Problem: Event #5 no longer has the hash signed when it was anchored" in err


async def test_an_auditor_verifies_with_the_public_key_alone(
    database_url: URL, january: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = await run_cli(database_url, "maintain")
    assert code == 0, err
    assert "Audit chain anchored at #" in out.splitlines()[-1]
    code, out, err = await run_cli(None, "audit", "anchor-key")
    assert code == 0, err
    public = next(line for line in out.splitlines() if line.startswith("Public key: ")).removeprefix(
        "Public key: "
    )

    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_KEY", str(tmp_path / "the-auditor-has-no-key.pem"))
    code, _, err = await run_cli(database_url, "audit", "verify")
    assert code == 1
    assert "which is not a trusted anchor key here" in err
    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_PUBLIC_KEYS", f'["{public}"]')
    code, out, err = await run_cli(database_url, "audit", "verify")
    assert code == 0, err
    assert "1 of 1 anchors confirmed" in out
    assert not (tmp_path / "the-auditor-has-no-key.pem").exists()


async def test_verify_export_fails_a_cut_archive(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    await superuser.execute("SELECT create_audit_partition('2015-01-01')")
    for day in ("2015-01-10+00", "2015-01-11+00"):
        await superuser.execute(
            "INSERT INTO audit_events (event_type, occurred_at) VALUES ('view', $1::text::timestamptz)", day
        )
    code, _, err = await run_cli(database_url, "maintain", "--archive-dir", str(tmp_path / "archive"))
    assert code == 0, err
    archive = tmp_path / "archive" / "audit_events_y2015m01.jsonl"
    code, out, err = await run_cli(database_url, "audit", "verify-export", str(archive))
    assert code == 0, err
    assert (
        "It matches its manifest audit_events_y2015m01.manifest.json and the partition_archived event #"
        in out
    )

    lines = lines_of(archive)
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    header["last_seq"], trailer["count"], trailer["last_seq"] = 1, 1, 1
    trailer["last_hash"] = json.loads(lines[1])["hash"]
    cut = "".join([json.dumps(header) + "\n", lines[1], json.dumps(trailer) + "\n"])
    await asyncio.to_thread(archive.write_text, cut, encoding="utf-8")
    code, out, err = await run_cli(None, "audit", "verify-export", str(archive))
    assert code == 1
    assert "Export BROKEN: audit_events_y2015m01.jsonl is not the file its manifest" in err

    await asyncio.to_thread(archive.with_name("audit_events_y2015m01.manifest.json").unlink)
    code, out, err = await run_cli(None, "audit", "verify-export", str(archive))
    assert code == 0
    assert "only the chain inside the file was checked" in out
    code, out, err = await run_cli(database_url, "audit", "verify-export", str(archive))
    assert code == 1
    assert "is not the file the partition_archived event #" in err
    assert "row_count 2 recorded, 1 in the file" in err


async def test_history_writes_no_escape_from_the_data_to_the_terminal(
    database_url: URL, superuser: asyncpg.Connection
) -> None:
    """A reason stored with terminal escapes (before input cleaning, or by another tool) is shown, not obeyed."""
    reason = "[link=file:///etc/passwd]x[/link] \x1b]0;pwned\x07 \x1b[2J \x9b2J \u202eevil"
    await superuser.execute(
        "INSERT INTO audit_events (event_type, event_data) VALUES ('reject', $1)",
        {"reason": reason, "version": 2},
    )
    code, out, _ = await run_cli(database_url, "audit", "history", "--type", "reject")
    assert code == 0
    assert "[link=file:///etc/passwd]x[/link]" in out
    assert "␛]0;pwned␇" in out
    assert not [c for c in out if c not in "\n\t" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)]
    assert "\u202e" not in out
    code, _, err = await run_cli(database_url, "audit", "history", "--contract", "GAP\x1b[2J")
    assert code == 2
    assert "\x1b" not in err and "is not a contract id" in err
