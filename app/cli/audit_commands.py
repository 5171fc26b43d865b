"""`refund-review audit verify|export|verify-export|history`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from app import exit_codes
from app.cli.progress import bar
from app.cli.runner import CliState, fail, run
from services.audit_chain import ChainVerification, verify_audit_chain
from services.audit_log import (
    EVENT_TYPES,
    EXPORT_FORMATS,
    AuditPage,
    ExportFormat,
    ExportSummary,
    audit_page,
    export_audit,
    export_path,
    verify_export,
)
from services.errors import ServiceError
from services.runtime import Runtime


class Day(click.DateTime):
    """A day typed as YYYY-MM-DD, shown in help as DATE rather than click's `[%Y-%m-%d]`."""

    name = "date"

    def get_metavar(self, *args: object, **kwargs: object) -> str:
        return "DATE"


DAY = Day(formats=["%Y-%m-%d"])


@click.group()
def audit() -> None:
    """Verify and export the tamper-evident audit log."""


@audit.command()
@click.pass_obj
def verify(state: CliState) -> None:
    """Walk the hash chain; exit 0 when it is whole, 1 naming the first broken event."""

    async def body(runtime: Runtime) -> ChainVerification:
        with bar("Verifying") as report:
            return await verify_audit_chain(runtime.system_context("audit-verify"), progress=report)

    result = run(state, body)
    if result.intact and result.events_verified == 0:
        click.echo("Audit chain intact: the log holds no events yet.")
        return
    if result.intact:
        click.echo(
            f"Audit chain intact: {result.events_verified:,} events verified "
            f"(#{result.first_seq}..#{result.last_seq}) in {result.seconds:.1f} s; head {result.head_hash}."
        )
        return
    assert result.broken_at is not None
    click.echo(
        f"Audit chain BROKEN {result.broken_at.describe()}. "
        f"{result.events_verified:,} events before it verified.",
        err=True,
    )
    raise SystemExit(exit_codes.AUDIT_CHAIN_BROKEN)


def _days(since: dt.datetime | None, until: dt.datetime | None) -> tuple[dt.date | None, dt.date | None]:
    """--from and --to name whole days, both included: the service's end is the day after --to."""
    first = since.date() if since else None
    last = until.date() if until else None
    if first and last and last < first:
        fail("--to must not be before --from.", exit_codes.INVALID_INPUT)
    return first, last + dt.timedelta(days=1) if last else None


@audit.command()
@click.option("--from", "since", type=DAY, required=True, help="First day of the period (UTC), YYYY-MM-DD.")
@click.option(
    "--to", "until", type=DAY, required=True, help="Last day of the period (UTC, included), YYYY-MM-DD."
)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: audit-FROM_TO.FORMAT in the exports folder of the data directory, "
    "where the workstation writes too).",
)
@click.pass_obj
def export(
    state: CliState, since: dt.datetime, until: dt.datetime, fmt: ExportFormat, output: Path | None
) -> None:
    """Export a period with every column and hash, for auditors (JSON Lines verifies offline)."""
    first, end = _days(since, until)
    assert first is not None and end is not None
    path = output or export_path(state.settings().exports_dir, first, until.date(), fmt)

    async def body(runtime: Runtime) -> ExportSummary:
        with bar("Exporting") as report:
            return await export_audit(
                runtime.system_context("audit-export"),
                since=first,
                until=end,
                fmt=fmt,
                destination=path,
                progress=report,
            )

    summary = run(state, body)
    if summary.count == 0:
        click.echo(f"No events from {first} to {until.date()}; wrote an empty export to {path}.")
        return
    click.echo(
        f"Exported {summary.count:,} events (#{summary.first_seq}..#{summary.last_seq}) to {path}; "
        f"sha256 {summary.sha256}."
    )


@audit.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_export_command(file: Path) -> None:
    """Recompute the hash chain of a JSON or JSON Lines export, offline: no database needed."""
    with bar("Verifying", in_bytes=True) as report:
        try:
            result = verify_export(file, progress=report)
        except ServiceError as exc:
            fail(exc.message, exc.exit_code)
            raise AssertionError("unreachable") from exc
    if result.ok:
        click.echo(
            f"Export intact: {result.events_verified:,} events verified; "
            f"anchor {result.anchor_hash}; last hash {result.last_hash}."
        )
        return
    click.echo(
        f"Export BROKEN at event #{result.first_broken_seq}: {result.reason}. "
        f"{result.events_verified:,} events before it verified.",
        err=True,
    )
    raise SystemExit(exit_codes.AUDIT_CHAIN_BROKEN)


@audit.command()
@click.option("--contract", "contract_id", help="Only this contract's events.")
@click.option("--user", help="Only this user's events (username or id).")
@click.option("--type", "event_types", type=click.Choice(EVENT_TYPES), multiple=True, help="Repeatable.")
@click.option("--from", "since", type=DAY, help="From this day (UTC), YYYY-MM-DD.")
@click.option("--to", "until", type=DAY, help="To this day (UTC, included), YYYY-MM-DD.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_obj
def history(
    state: CliState,
    contract_id: str | None,
    user: str | None,
    event_types: tuple[str, ...],
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
) -> None:
    """The latest audit events, newest first; the filters combine."""
    first, end = _days(since, until)

    async def body(runtime: Runtime) -> AuditPage:
        return await audit_page(
            runtime.system_context("audit-history"),
            user=user,
            contract_id=contract_id,
            event_types=event_types,
            since=first,
            until=end,
            limit=limit,
        )

    page = run(state, body)
    for item in page.items:
        click.echo(
            f"#{item.seq}\t{item.occurred_at:%Y-%m-%d %H:%M:%S}\t{item.username or 'system'}\t"
            f"{item.event_type}\t{item.contract_id or '-'}\t{item.summary}"
        )
    if not page.items:
        click.echo("No audit events match.")
