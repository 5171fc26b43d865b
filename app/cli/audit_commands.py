"""`refund-review audit verify|export`."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app import exit_codes
from app.cli.runner import CliState, run
from services.audit_chain import ChainVerification, verify_audit_chain
from services.runtime import Runtime


@click.group()
def audit() -> None:
    """Verify and export the tamper-evident audit log."""


@audit.command()
@click.pass_obj
def verify(state: CliState) -> None:
    """Walk the hash chain; exit 0 when it is whole, 1 naming the first broken event."""

    async def body(runtime: Runtime) -> ChainVerification:
        columns = (TextColumn("Verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True, disable=None) as progress:
            task = progress.add_task("verify", total=None)
            return await verify_audit_chain(
                runtime.system_context("audit-verify"),
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )

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
