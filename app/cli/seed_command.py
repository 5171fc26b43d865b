"""`refund-review seed`: demo data for people, synthetic data at scale for benchmarks."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from app.cli.runner import CliState, fail, run
from services.runtime import Runtime
from services.schema_admin import upgrade_schema
from services.seeding.scale import SCALE_PASSWORD, ScaleSeedReport, scale_password_hash, seed_scale


@click.command()
@click.option(
    "--demo",
    is_flag=True,
    help="Load the demo: users, ~180 realistic contracts, reviews, chat, audit events.",
)
@click.option(
    "--contracts", type=click.IntRange(0, 20_000_000), default=0, help="Synthetic contracts to load by COPY."
)
@click.option(
    "--audit-events", type=click.IntRange(0, 200_000_000), default=0, help="Synthetic audit events."
)
@click.option("--pending-share", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of synthetic extractions left pending review.")  # fmt: skip
@click.option(
    "--corrections", type=click.IntRange(0), default=None, help="Corrections (default: a tenth of contracts)."
)
@click.option("--months", type=click.IntRange(1, 120), default=24, show_default=True,
              help="Months of history the audit events span (one partition each).")  # fmt: skip
@click.option(
    "--seed", "random_seed", type=int, default=0, show_default=True, help="Random seed: same seed, same data."
)
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Loader processes.")
@click.pass_obj
def seed(
    state: CliState,
    demo: bool,
    contracts: int,
    audit_events: int,
    pending_share: float,
    corrections: int | None,
    months: int,
    random_seed: int,
    workers: int,
) -> None:
    """Load demo data (--demo) or synthetic data at scale (--contracts N --audit-events M).

    Scale loading needs a superuser connection (the embedded server's default)
    because it writes the audit log's hash chain itself, without the trigger.
    """
    if not demo and not contracts and not audit_events:
        fail("Say what to load: --demo, or --contracts N and/or --audit-events M.", 2)
    if demo:
        fail("The demo data is not available yet.", 2)

    async def body(runtime: Runtime) -> ScaleSeedReport:
        await upgrade_schema(runtime.db)
        columns = (
            TextColumn("{task.description:>13}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, disable=None) as progress:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            return await seed_scale(
                runtime.system_context("seed"),
                contracts=contracts,
                audit_events=audit_events,
                password_hash=await scale_password_hash(),
                pending_share=pending_share,
                corrections=corrections,
                months=months,
                seed=random_seed,
                workers=workers,
                progress=report,
            )

    r = run(state, body)
    click.echo(
        f"Loaded {r.contracts:,} contracts ({r.pending:,} pending review, {r.corrections:,} corrections) and "
        f"{r.audit_events:,} audit events in {r.seconds:.1f} s; the database is now {r.database_bytes / 2**30:.2f} GiB."
    )
    click.echo(
        f"Synthetic users scale.reviewer01..40, scale.supervisor01..04, scale.admin01; password {SCALE_PASSWORD!r}."
    )
