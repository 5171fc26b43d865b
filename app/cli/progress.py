"""Progress bars for long command-line work: on stderr, and only on a terminal.

stdout carries the results that scripts read; a bar there (or a half-drawn
bar in a log file) would corrupt them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

StagedReport = Callable[[str, int, int], None]
Report = Callable[[int, int], None]


def _progress(*columns: object, transient: bool) -> Progress:
    console = Console(stderr=True)
    return Progress(*columns, console=console, transient=transient, disable=not console.is_terminal)  # type: ignore[arg-type]


@contextmanager
def staged_progress() -> Iterator[StagedReport]:
    """`report(stage, done, total)`: one bar per stage, added as stages appear."""
    columns = (TextColumn("{task.description:>13}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with _progress(*columns, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield report


@contextmanager
def bar(label: str, *, in_bytes: bool = False) -> Iterator[Report]:
    """`report(done, total)` for one piece of work; the bar disappears when it is done."""
    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    with _progress(TextColumn(label), BarColumn(), count, TimeRemainingColumn(), transient=True) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)
