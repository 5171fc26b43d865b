"""`refund-review bench`: the performance benchmark of issue 6 (see benchmarks/README.md).

The command lives with the benchmarks, not in app/cli: the product never imports benchmarks/, and the
command line loads this module by name only when `bench` is asked for (app.cli.CommandLine).
"""

from __future__ import annotations

import asyncio
import traceback

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from app.cli.runner import CliState, fail
from benchmarks.bench_database import SCALES
from benchmarks.figures import BenchReport
from benchmarks.harness import DEFAULT_RUNS, BenchConfig, run_bench
from benchmarks.report import print_report
from services.errors import ServiceError


@click.command()
@click.option(
    "--scale",
    type=click.Choice(sorted(SCALES)),
    default="quick",
    show_default=True,
    help="quick: 100,000 contracts and 1,000,000 audit events; full: 1,000,000 and 10,000,000.",
)
@click.option(
    "--contracts", type=click.IntRange(100), help="Contracts in the benchmark database (instead of --scale)."
)
@click.option("--audit-events", type=click.IntRange(0), help="Audit events (with --contracts).")
@click.option(
    "--reuse", is_flag=True, help="Keep the benchmark database when it already holds this scale's data."
)
@click.option(
    "--runs",
    type=click.IntRange(5),
    default=DEFAULT_RUNS,
    show_default=True,
    help="Measured runs of each call.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the results as JSON on stdout (progress goes to stderr)."
)
@click.pass_obj
def bench(
    state: CliState,
    scale: str,
    contracts: int | None,
    audit_events: int | None,
    reuse: bool,
    runs: int,
    as_json: bool,
) -> None:
    """Measure the service calls, the workstation and loading against a benchmark database.

    The database (refund_review_bench_<scale>, beside the application's on the same server) is seeded
    first, which takes minutes at full scale, unless --reuse finds it ready. The run writes to it and puts
    the queue back at the end; run without --reuse for a pristine one. Exits 0 when targets are missed
    (the table marks them); 1 when the benchmark could not run.
    """
    if (contracts is None) != (audit_events is None):
        fail("Give --contracts and --audit-events together (or neither, for --scale).", 2)
    sizes = (contracts, audit_events) if contracts is not None and audit_events is not None else SCALES[scale]
    config = BenchConfig(contracts=sizes[0], audit_events=sizes[1], reuse=reuse, runs=runs)
    settings = state.settings()
    command = _command(scale, contracts, audit_events, reuse, runs, as_json)
    columns = (TextColumn("{task.description:>13}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=None) as progress:
        tasks: dict[str, TaskID] = {}

        def seeding(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        try:
            report: BenchReport = asyncio.run(
                run_bench(settings, config, command, progress.console.print, seeding)
            )
        except ServiceError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("Interrupted. The benchmark database may hold claims and decisions of this run; "
                 "run again without --reuse to seed it anew.", 130)  # fmt: skip
        except Exception as exc:
            log = settings.home / "logs" / "refund-review-bench.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"--- {command}\n{traceback.format_exc()}\n")
            fail(f"The benchmark stopped: {type(exc).__name__}: {exc}. The details are in {log}.", 1)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_report(report, Console())


def _command(
    scale: str, contracts: int | None, audit_events: int | None, reuse: bool, runs: int, as_json: bool
) -> str:
    """The command line that reproduces this run, for the report (without the database URL)."""
    words = ["refund-review", "bench"]
    words += (
        ["--contracts", str(contracts), "--audit-events", str(audit_events)]
        if contracts
        else ["--scale", scale]
    )
    words += ["--reuse"] * reuse + ["--runs", str(runs)] * (runs != DEFAULT_RUNS) + ["--json"] * as_json
    return " ".join(words)
