"""`refund-review audit verify|anchor|anchor-key|export|verify-export|history`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from app import exit_codes
from app.cli.progress import bar
from app.cli.runner import CliState, echo, fail, run
from services.audit import (
    EVENT_TYPES,
    EXPORT_FORMATS,
    AnchorResult,
    AuditPage,
    ChainVerification,
    ExportCheck,
    ExportFormat,
    ExportSummary,
    anchor_chain,
    anchor_source,
    audit_page,
    check_against_database,
    check_export_file,
    export_audit,
    export_path,
    public_key_text,
    signer_from,
    verify_audit_chain,
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
@click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Also compare every partition_archived event with its manifest and file in DIR.",
)
@click.pass_obj
def verify(state: CliState, archive_dir: Path | None) -> None:
    """Walk the hash chain and check it against every signed anchor; exit 0 when all holds, 1 otherwise.

    The anchors come from REFUND_REVIEW_ANCHOR_STORE and are trusted when
    signed by the key in REFUND_REVIEW_ANCHOR_KEY or one named in
    REFUND_REVIEW_ANCHOR_PUBLIC_KEYS. Events after the last anchor are
    counted as "not yet anchored": a rewrite among them that recomputes
    every hash cannot be seen.
    """

    async def body(runtime: Runtime) -> ChainVerification:
        anchors = anchor_source(runtime.settings)
        with bar("Verifying") as report:
            return await verify_audit_chain(
                runtime.system_context("audit-verify"),
                progress=report,
                anchors=anchors,
                archive_dir=archive_dir,
            )

    result = run(state, body)
    for line in verification_lines(result):
        echo(line, err=not result.intact)
    if not result.intact:
        raise SystemExit(exit_codes.AUDIT_CHAIN_BROKEN)


def verification_lines(result: ChainVerification) -> list[str]:
    """The verdict, then each problem, then how far the anchors reach."""
    if result.broken_at is not None:
        lines = [
            f"Audit chain BROKEN {result.broken_at.describe()}. "
            f"{result.events_verified:,} events before it verified."
        ]
    elif result.problems:
        lines = [f"Audit chain NOT VERIFIED: {len(result.problems)} problems, although every link holds."]
    elif result.events_verified == 0:
        lines = ["Audit chain intact: the log holds no events yet."]
    else:
        lines = [
            f"Audit chain intact: {result.events_verified:,} events verified "
            f"(#{result.first_seq}..#{result.last_seq}) in {result.seconds:.1f} s; head {result.head_hash}."
        ]
    return [*lines, *result.finding_lines()]


@audit.command()
@click.pass_obj
def anchor(state: CliState) -> None:
    """Sign the chain head with the anchor key and append it to the anchor store (run from cron).

    The key (REFUND_REVIEW_ANCHOR_KEY, default <home>/anchor-key.pem) is
    created on first use; keep it off the database server and off the
    reviewers' machines. The store is REFUND_REVIEW_ANCHOR_STORE: a
    directory (default <home>/anchors) or s3://bucket/prefix.
    """

    async def body(runtime: Runtime) -> AnchorResult:
        signer = signer_from(runtime.settings)
        store = anchor_source(runtime.settings).store
        return await anchor_chain(runtime.system_context("audit-anchor"), signer, store)

    echo(anchor_line(run(state, body)))


def anchor_line(result: AnchorResult) -> str:
    statement = result.statement
    if not result.written:
        return (
            f"Audit chain already anchored at #{statement.seq} (key {statement.key_id}); nothing new to sign."
        )
    line = (
        f"Audit chain anchored at #{statement.seq} (hash {statement.hash}) with key {statement.key_id}: "
        f"{result.location}"
    )
    if result.locked_until is not None:
        return f"{line} (S3 Object Lock, compliance mode, until {result.locked_until:%Y-%m-%d})."
    if result.location.startswith("s3://"):
        return f"{line} (the bucket has no Object Lock: anything that may delete in it can delete anchors)."
    return f"{line}."


@audit.command("anchor-key")
@click.pass_obj
def anchor_key(state: CliState) -> None:
    """Print the anchor key's id and public key (creating the key if needed), for auditors."""
    settings = state.settings()
    try:
        signer = signer_from(settings)
    except ServiceError as exc:
        fail(exc.message, exc.exit_code)
        raise AssertionError("unreachable") from exc
    echo(f"Key id: {signer.key_id}")
    echo(f"Public key: {public_key_text(signer.public)}")
    echo(f"Key file: {signer.path}")
    echo("An auditor trusts it with REFUND_REVIEW_ANCHOR_PUBLIC_KEYS='[\"<public key>\"]'.")


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
        echo(f"No events from {first} to {until.date()}; wrote an empty export to {path}.")
        return
    echo(
        f"Exported {summary.count:,} events (#{summary.first_seq}..#{summary.last_seq}) to {path}; "
        f"sha256 {summary.sha256}."
    )


@audit.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Do not consult the database even when one is configured.")
@click.pass_obj
def verify_export_command(state: CliState, file: Path, offline: bool) -> None:
    """Recompute the hash chain of a JSON or JSON Lines export, and check it against what was recorded.

    The manifest beside an archive (FILE's name with .manifest.json) must
    describe the file exactly: count, first and last sequence number and
    hash, SHA-256. When a database is configured (--database-url or
    DATABASE_URL) and not --offline, the archive's partition_archived event
    (or an export's audit_exported event) must record the same.
    """
    with bar("Verifying", in_bytes=True) as report:
        try:
            check = check_export_file(file, progress=report)
        except ServiceError as exc:
            fail(exc.message, exc.exit_code)
            raise AssertionError("unreachable") from exc
    if check.chain.ok and not offline and state.settings().database_url:

        async def body(runtime: Runtime) -> ExportCheck:
            return await check_against_database(runtime.system_context("audit-verify-export"), file, check)

        check = run(state, body)
    result = check.chain
    if not result.ok:
        echo(
            f"Export BROKEN at event #{result.first_broken_seq}: {result.reason}. "
            f"{result.events_verified:,} events before it verified.",
            err=True,
        )
        raise SystemExit(exit_codes.AUDIT_CHAIN_BROKEN)
    for problem in check.problems:
        echo(f"Export BROKEN: {problem}", err=True)
    if check.problems:
        raise SystemExit(exit_codes.AUDIT_CHAIN_BROKEN)
    echo(
        f"Export intact: {result.events_verified:,} events verified; "
        f"anchor {result.anchor_hash}; last hash {result.last_hash}."
    )
    vouchers = [f"its manifest {check.manifest.name}" if check.manifest else None, check.recorded_by]
    named = [v for v in vouchers if v]
    if named:
        echo(f"It matches {' and '.join(named)}; sha256 {check.sha256}.")
    else:
        echo(
            f"No manifest beside it and no database consulted: only the chain inside the file was checked "
            f"(sha256 {check.sha256})."
        )


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
        echo(
            f"#{item.seq}\t{item.occurred_at:%Y-%m-%d %H:%M:%S}\t{item.username or 'system'}\t"
            f"{item.event_type}\t{item.contract_id or '-'}\t{item.summary}"
        )
    if not page.items:
        echo("No audit events match.")
