"""`refund-review maintain`."""

from __future__ import annotations

import click

from app.cli.runner import CliState, run
from services.retention import MIN_PARTITIONS_AHEAD, run_maintenance
from services.runtime import Runtime


@click.command()
@click.option(
    "--months-ahead",
    type=click.IntRange(MIN_PARTITIONS_AHEAD, 120),
    default=None,
    help=f"Audit partitions to create ahead (default: system_config, at least {MIN_PARTITIONS_AHEAD}).",
)
@click.pass_obj
def maintain(state: CliState, months_ahead: int | None) -> None:
    """Create audit partitions ahead and remove expired sessions (safe to run any time)."""

    async def body(runtime: Runtime) -> None:
        report = await run_maintenance(runtime.system_context("maintain"), months_ahead)
        created = ", ".join(report.partitions_created) or "none needed"
        click.echo(f"Audit partitions created: {created}")
        click.echo(f"Expired sessions removed: {report.sessions_removed}")

    run(state, body)
