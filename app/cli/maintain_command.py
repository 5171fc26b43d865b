"""`refund-review maintain`."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.audit_commands import anchor_line
from app.cli.runner import CliState, echo, run
from services.audit import MIN_PARTITIONS_AHEAD, anchor_source, run_maintenance, signer_from
from services.runtime import Runtime


@click.command()
@click.option(
    "--months-ahead",
    type=click.IntRange(MIN_PARTITIONS_AHEAD, 120),
    default=None,
    help=f"Audit partitions to create ahead (default: system_config, at least {MIN_PARTITIONS_AHEAD}).",
)
@click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Archive audit partitions older than the retention period (7 years) into DIR, then drop them. "
    "Needs the database owner's credentials.",
)
@click.option(
    "--anchor/--no-anchor",
    default=True,
    show_default=True,
    help="Finish by signing the chain head into the anchor store (as `audit anchor` does).",
)
@click.pass_obj
def maintain(state: CliState, months_ahead: int | None, archive_dir: Path | None, anchor: bool) -> None:
    """Create audit partitions ahead and remove expired sessions (safe to run any time).

    With --archive-dir, monthly audit partitions past the retention period are
    exported to DIR (JSON Lines and a manifest, verified from disk), then
    dropped, and the audit chain's archive mark moves to the last archived event.
    This must run with the database owner's credentials (--database-url).
    Last, the chain head is signed and appended to the anchor store
    (REFUND_REVIEW_ANCHOR_KEY, REFUND_REVIEW_ANCHOR_STORE) unless --no-anchor.
    """

    async def body(runtime: Runtime) -> None:
        anchor_with = (
            (signer_from(runtime.settings), anchor_source(runtime.settings).store) if anchor else None
        )
        report = await run_maintenance(
            runtime.system_context("maintain"), months_ahead, archive_dir=archive_dir, anchor_with=anchor_with
        )
        created = ", ".join(report.partitions_created) or "none needed"
        echo(f"Audit partitions created: {created}")
        if archive_dir is not None:
            if not report.partitions_archived:
                echo("Audit partitions archived: none past the retention period")
            for part in report.partitions_archived:
                events = f"{part.row_count:,} events" + (
                    f" #{part.first_seq}..#{part.last_seq}" if part.row_count else ""
                )
                echo(f"Audit partition archived: {part.partition} ({events}) -> {part.file}")
        echo(f"Expired sessions removed: {report.sessions_removed}")
        echo(f"Extraction metric groups refreshed: {report.metric_groups_refreshed}")
        if report.anchor is not None:
            echo(anchor_line(report.anchor))

    run(state, body)
