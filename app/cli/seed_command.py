"""`refund-review seed`: demo data for people, synthetic data at scale for benchmarks."""

from __future__ import annotations

import click

from app.cli.progress import staged_progress
from app.cli.runner import CliState, echo, fail, run
from services.runtime import Runtime
from services.schema_admin import upgrade_schema
from synthetic.seeding.demo import DemoReport, demo_logins, seed_demo
from synthetic.seeding.scale import SCALE_PASSWORD, ScaleSeedReport, scale_password_hash, seed_scale


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
    "--corrections",
    type=click.IntRange(0),
    default=None,
    help="About how many corrections (default: as many as a somewhat overconfident extractor's errors; either way a value's chance of being corrected falls with its confidence).",
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
        report = run(state, lambda runtime: load_demo(runtime, state.settings().bcrypt_rounds))
        echo_demo(report)
        if not contracts and not audit_events:
            return

    async def body(runtime: Runtime) -> ScaleSeedReport:
        await upgrade_schema(runtime.db)
        with staged_progress() as report:
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
    echo(
        f"Loaded {r.contracts:,} contracts ({r.pending:,} pending review, {r.corrections:,} corrections) and "
        f"{r.audit_events:,} audit events in {r.seconds:.1f} s; the database is now {r.database_bytes / 2**30:.2f} GiB."
    )
    echo(
        f"Synthetic users scale.reviewer01..40, scale.supervisor01..04, scale.admin01; password {SCALE_PASSWORD!r}."
    )


async def load_demo(runtime: Runtime, bcrypt_rounds: int) -> DemoReport:
    """The schema first (a new database has none), then the demo, once."""
    await upgrade_schema(runtime.db)
    return await seed_demo(runtime.system_context("demo"), bcrypt_rounds=bcrypt_rounds)


def echo_demo(report: DemoReport) -> None:
    if report.already_loaded:
        echo("The demo data is already loaded.")
    else:
        echo(
            f"Loaded the demo in {report.seconds:.0f} s: {report.contracts} contracts, {report.pending} pending review, "
            f"{report.approved} approved, {report.rejected} rejected, {report.corrections} corrections, "
            f"{report.chat_questions} chat questions."
        )
    echo("Demo logins (username / password / role):")
    for username, password, role in demo_logins():
        echo(f"  {username:<12} {password:<22} {role}")
