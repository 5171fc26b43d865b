"""`refund-review rules list|import` against a real database, through click's CliRunner."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from services.refunds.jurisdictions import CSV_COLUMNS
from tests.hostile import hidden_characters

HEADER = ",".join(CSV_COLUMNS)


async def _run(url: URL, *args: str) -> tuple[int, str, str]:
    def invoke() -> tuple[int, str, str]:
        result = CliRunner().invoke(
            main, ["--database-url", url.render_as_string(hide_password=False), *args]
        )
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(invoke)


async def test_import_then_list(database_url: URL, superuser: asyncpg.Connection, tmp_path: Path) -> None:
    rules_file = tmp_path / "more.csv"
    # A byte-order mark, as spreadsheets write it, is accepted.
    rules_file.write_text(
        "\ufeff" + HEADER + '\nTX,2025-09-01,,,50,Pro-Rata;Actuarial,,,,30,"Tex. Fin. Code, test",,\n',
        encoding="utf-8",
    )
    code, out, err = await _run(database_url, "rules", "import", str(rules_file))
    assert (code, err) == (0, "")
    assert out == f"Imported {rules_file}: 1 added, 0 changed, 0 already as given.\n"
    event = await superuser.fetchrow("SELECT event_type, user_id, user_agent, event_data FROM audit_events")
    assert (event["event_type"], event["user_id"]) == ("rules_changed", None)
    assert "(rules-import;" in event["user_agent"]

    code, out, _ = await _run(database_url, "rules", "list", "--state", "TX")
    assert code == 0
    assert out.splitlines() == [
        "*   from 1900-01-01  no free look; fee uncapped; methods: any; pro-rata on days; short-rate 0.9000",
        "    Default rule, not law: applies where no rule for the contract's state is on file",
        "TX  from 2025-09-01  no free look; fee ≤ $50.00; methods: Pro-Rata/Actuarial; pro-rata on days; "
        "short-rate 0.9000; pay within 30 d",
        "    Tex. Fin. Code, test",
    ]
    code, out, _ = await _run(database_url, "rules", "list")
    assert "Ark. Code §4-90-806" in out and "S.C. Code §37-30-150" in out


async def test_a_bad_file_is_refused_whole_and_nothing_is_written(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    rules_file = tmp_path / "bad.csv"
    rules_file.write_text(
        f"{HEADER}\nTX,2025-09-01,,,,,,,,,ok,,\nNV,2025-09-01,,,-5,,,,,,c,,\n", encoding="utf-8"
    )
    code, out, err = await _run(database_url, "rules", "import", str(rules_file))
    assert (code, out) == (2, "")
    assert err.startswith("Error: The rules file was not loaded: line 3: fee_cap:")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\nTX,2025-09-01,,,,,,,,,Citaci\xf3n,,\n".encode("latin-1"))
    code, _, err = await _run(database_url, "rules", "import", str(latin))
    assert (code, err) == (2, f"Error: {latin} is not UTF-8 text; save the CSV as UTF-8 and try again.\n")
    assert (
        await superuser.fetchval("SELECT count(*) FROM jurisdiction_rules WHERE state IN ('TX', 'NV')") == 0
    )
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_a_hostile_rules_file_gets_a_sentence_never_a_traceback_and_nothing_is_written(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    """A cell beyond the csv module's limit, megabytes of state code, a device and a pipe: each is one
    short sentence on stderr (exit 2), read no further than the size limit, and the database untouched."""
    huge_cell = tmp_path / "huge-cell.csv"
    huge_cell.write_text(f"{HEADER}\nTX,2025-09-01,,,,,,,,,{'A' * 200_000},,\n", encoding="utf-8")
    huge_state = tmp_path / "huge-state.csv"
    huge_state.write_text(
        f"{HEADER}\n{chr(0x1B) + '[2J' * 30_000},2025-09-01,,,,,,,,,c,,\n", encoding="utf-8"
    )
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    expected = {
        huge_cell: "Error: The rules file cannot be read as CSV (field larger than field limit (131072)); "
        "check that it is the rules file, saved as CSV.\n",
        Path("/dev/zero"): "Error: /dev/zero is not a regular file; give the CSV file of rules.\n",
        pipe: f"Error: {pipe} is not a regular file; give the CSV file of rules.\n",
    }
    for path, sentence in expected.items():
        code, out, err = await asyncio.wait_for(_run(database_url, "rules", "import", str(path)), 60)
        assert (code, out, err) == (2, "", sentence)
    code, _, err = await _run(database_url, "rules", "import", str(huge_state))
    assert code == 2 and len(err) < 300 and "…' is not a US state code" in err
    assert "\x1b" not in err
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0
    assert await superuser.fetchval("SELECT count(*) FROM jurisdiction_rules WHERE state = 'TX'") == 0


async def test_rules_list_never_writes_a_terminal_escape_from_a_row_written_around_the_program(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    """The workstation login may INSERT into jurisdiction_rules (schema/v0009), so a citation can hold
    what the import would have cleaned; the operator's terminal must not obey it."""
    await superuser.execute(
        "INSERT INTO jurisdiction_rules (state, effective_from, citation, notes) "
        "VALUES ('TX', '2025-09-01', $1, '')",
        "Tex. \x1b]0;pwned\x07\x1b[2J\u202e\x9b31m [link=file:///etc/passwd]x[/link]",
    )
    code, out, _ = await _run(database_url, "rules", "list", "--state", "TX")
    assert code == 0
    assert hidden_characters(out) == [] and "\u202e" not in out
    assert "[link=file:///etc/passwd]x[/link]" in out  # plain text on a terminal: shown as written


async def test_the_audited_source_of_an_import_is_the_cleaned_file_name(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    rules_file = tmp_path / "evil\x1b[2J\u202e.csv"
    rules_file.write_text(f"{HEADER}\nTX,2025-09-01,,,,,,,,,c,,\n", encoding="utf-8")
    code, out, _ = await _run(database_url, "rules", "import", str(rules_file))
    assert code == 0 and "\x1b" not in out
    source = await superuser.fetchval("SELECT event_data->>'source' FROM audit_events")
    assert source == "evil[2J.csv"
