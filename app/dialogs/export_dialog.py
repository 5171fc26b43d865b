"""Exporting a period of the audit log for auditors: from, to, format; the file goes under home/exports.

The whole chain of the period is exported, whatever the log's filters show,
so that the file can be verified offline (`refund-review audit verify-export`).
An existing file is never overwritten: an export is evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.widgets import Input, Label, ProgressBar, Select, Static

from app.dialogs.form_dialog import FormDialog
from services.audit import EXPORT_FORMATS, ExportFormat, ExportSummary, export_audit, export_path

DATE_FORMAT_HINT = "YYYY-MM-DD"


def parse_day(raw: str, name: str) -> dt.date:
    """A day typed as YYYY-MM-DD, or ValueError with a sentence naming the field."""
    text = raw.strip()
    if not text:
        raise ValueError(f"Give the {name} day ({DATE_FORMAT_HINT}).")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"The {name} day is {DATE_FORMAT_HINT}, such as 2024-03-31; {text[:20]!r} is not."
        ) from None


class ExportDialog(FormDialog[ExportSummary | None]):
    heading = "Export the audit log"
    save_label = "Export"

    def __init__(self, folder: Path, since: dt.date | None, until: dt.date | None) -> None:
        super().__init__()
        self.folder = folder
        self._since = since
        self._until = until

    def fields(self) -> Iterable[Widget]:
        yield Static(
            Text(
                "Every event of the period, with its hashes: user, contract and type filters do not apply, "
                "so the file can be verified offline (JSON and JSON Lines).",
                style="dim",
            )
        )
        yield Label("From (UTC, included)")
        yield Input(str(self._since or ""), placeholder=DATE_FORMAT_HINT, id="export-from", max_length=10)
        yield Label("To (UTC, included)")
        yield Input(str(self._until or ""), placeholder=DATE_FORMAT_HINT, id="export-to", max_length=10)
        yield Label("Format")
        yield Select([(f, f) for f in EXPORT_FORMATS], value="jsonl", allow_blank=False, id="export-format")
        yield Static(Text(f"Written to {self.folder}", style="dim"), id="export-folder")
        yield ProgressBar(id="export-progress", classes="hidden", show_eta=False)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def save(self) -> None:
        try:
            since = parse_day(self.query_one("#export-from", Input).value, "first")
            until = parse_day(self.query_one("#export-to", Input).value, "last")
        except ValueError as exc:
            self.show_error(str(exc))
            return
        if until < since:
            self.show_error("The last day comes before the first; swap them.")
            return
        fmt: ExportFormat = self.query_one("#export-format", Select).value  # type: ignore[assignment]
        path = export_path(self.folder, since, until, fmt)
        bar = self.query_one("#export-progress", ProgressBar)
        bar.remove_class("hidden")
        try:
            summary = await self.submit(
                export_audit(
                    self.ctx,
                    since=since,
                    until=until + dt.timedelta(days=1),
                    fmt=fmt,
                    destination=path,
                    progress=lambda done, total: bar.update(total=total, progress=done),
                )
            )
        except OSError as exc:
            self.show_error(
                f"Cannot write {path}: {exc.strerror or exc}. Check the folder and the free space."
            )
            return
        finally:
            bar.add_class("hidden")
        if summary is not None:
            self.dismiss(summary)
