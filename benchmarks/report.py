"""The bench's results as a table for people (rich) and as JSON for scripts and the README."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from benchmarks.figures import BenchReport, Figure


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    sign = "≤" if figure.at_most else "≥"
    return f"{sign} {_number(figure.target)} {figure.unit}"


def _verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "[green]met[/]" if figure.met else "[bold red]MISSED[/]"


def results_table(report: BenchReport) -> Table:
    table = Table(
        title=(
            f"refund-review bench — {report.contracts:,} contracts, {report.audit_events:,} audit events, "
            f"{report.pending:,} pending ({report.database}, PostgreSQL {report.server_version}, "
            f"{report.cpus} CPUs)"
        ),
        caption="Latencies in ms (median, p95, p99 of the runs; judged on p95). Ratios of medians.",
    )
    for column, justify in (("group", "left"), ("figure", "left"), ("n", "right"), ("median", "right"),
                            ("p95", "right"), ("p99", "right"), ("value", "right"), ("target", "right"),
                            ("", "left"), ("note", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for f in report.figures:
        table.add_row(
            f.group,
            f.name,
            "" if f.count is None else f"{f.count:,}",
            _number(f.median),
            _number(f.p95),
            _number(f.p99),
            f"{_number(f.value)} {f.unit}",
            _target(f),
            _verdict(f),
            f.note,
        )
    for check in report.checks:
        verdict = "[green]ok[/]" if check.ok else "[bold red]FAILED[/]"
        table.add_row("check", check.name, "", "", "", "", "", "", verdict, check.detail)
    return table


def print_report(report: BenchReport, console: Console) -> None:
    console.print(results_table(report))
    missed = report.missed
    if missed:
        console.print(f"[bold red]{len(missed)} target(s) missed:[/] " + "; ".join(missed))
    else:
        console.print("[green]Every target met.[/]")
    console.print(f"{report.seconds:,.0f} s in all; started {report.started_at}.")
