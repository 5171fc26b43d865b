"""`refund-review rules list|import`: the jurisdiction rules refunds are decided under."""

from __future__ import annotations

from pathlib import Path

import click

from app import exit_codes
from app.cli.runner import CliState, echo, fail, run
from services.errors import InvalidInput
from services.input_text import without_control_characters
from services.refunds.calculation import money
from services.refunds.jurisdictions import read_rules_csv
from services.refunds.quoting import shorter
from services.refunds.rules import ImportSummary, RuleRecord, import_rules, list_rules
from services.refunds.types import JurisdictionRule
from services.runtime import Runtime

# A rules file holds a few hundred rows; a file far larger is the wrong file.
MAX_FILE_BYTES = 5_000_000
MAX_SOURCE_CHARS = 200


def _read_rules_file(path: Path) -> list[JurisdictionRule]:
    """The file's rules, checked whole before the database is touched.

    At most MAX_FILE_BYTES are read, whatever the size the file claims: a device (/dev/zero) or a file
    growing while it is read would otherwise be read until memory runs out, and a pipe never ends.
    """
    if not path.is_file():
        fail(f"{path} is not a regular file; give the CSV file of rules.", exit_codes.INVALID_INPUT)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        fail(f"Cannot read {path}: {exc.strerror or exc}.", exit_codes.INVALID_INPUT)
        raise AssertionError("unreachable") from exc
    if len(data) > MAX_FILE_BYTES:
        fail(
            f"{path} is larger than {MAX_FILE_BYTES:,} bytes; a rules file is far smaller.",
            exit_codes.INVALID_INPUT,
        )
    try:
        # utf-8-sig: spreadsheets save CSV with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{path} is not UTF-8 text; save the CSV as UTF-8 and try again.", exit_codes.INVALID_INPUT)
        raise AssertionError("unreachable") from exc
    try:
        return read_rules_csv(text)
    except InvalidInput as exc:
        fail(exc.message, exc.exit_code)
        raise AssertionError("unreachable") from exc


def _describe(rule: JurisdictionRule) -> str:
    fee = (
        "no fee"
        if not rule.fee_allowed
        else (f"fee ≤ {money(rule.fee_cap)}" if rule.fee_cap is not None else "fee uncapped")
    )
    parts = [
        f"free look {rule.free_look_days} d" if rule.free_look_days else "no free look",
        fee,
        "methods: " + ("/".join(rule.methods_allowed) if rule.methods_allowed else "any"),
        f"pro-rata on {rule.pro_rata_basis}",
        f"short-rate {rule.short_rate_factor}",
    ]
    if rule.written_request_days is not None:
        parts.append(f"request within {rule.written_request_days} d")
    if rule.payment_due_days is not None:
        parts.append(f"pay within {rule.payment_due_days} d")
    return "; ".join(parts)


@click.group()
def rules() -> None:
    """The jurisdiction rules (per state, by effective date) that refunds are decided under."""


@rules.command("list")
@click.option("--state", "only", metavar="CODE", help="Only this state's rules (and the default rule).")
@click.pass_obj
def list_command(state: CliState, only: str | None) -> None:
    """List the rules in the database: what each says, from when, and its citation."""

    async def body(runtime: Runtime) -> list[RuleRecord]:
        return await list_rules(runtime.system_context("rules-list"), only)

    # A row written around the program (SQL with the workstation login) may hold a terminal escape.
    for record in run(state, body):
        rule = record.rule
        echo(f"{rule.state:<2}  from {rule.effective_from}  {_describe(rule)}")
        echo(f"    {rule.citation}")


@rules.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_command(state: CliState, file: Path) -> None:
    """Load the rules in FILE (CSV, the columns of services/refunds/starter_rules.csv); existing ones are updated."""
    loaded = _read_rules_file(file)

    async def body(runtime: Runtime) -> ImportSummary:
        return await import_rules(runtime.system_context("rules-import"), loaded, source=source)

    # The file's name goes into the audit log: cleaned and bounded like any text from outside.
    source = shorter(without_control_characters(file.name), MAX_SOURCE_CHARS) or "a rules file"
    summary = run(state, body)
    echo(
        f"Imported {file}: {summary.added} added, {summary.changed} changed, {summary.unchanged} already as given."
    )
