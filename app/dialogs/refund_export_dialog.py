"""Exporting approved refunds for the payment system from the Refunds screen: the format and the file.

The same export as `refund-review refunds export`: every approved refund not handed over yet, each
once, audited. The file is proposed under REFUND_REVIEW_HOME/exports/ with the time in its name; the
person confirms or changes it, and an existing file is refused rather than overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from app.dialogs.form_dialog import FormDialog
from services.refunds.export_file import RefundFileExport, export_refunds_to_file, refund_export_path
from services.refunds.requests import EXPORT_FORMATS, ExportFormat

MAX_PATH_CHARS = 1000


class RefundExportDialog(FormDialog[RefundFileExport | None]):
    heading = "Export approved refunds for the payment system"
    save_label = "Export"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.moment = dt.datetime.now(dt.UTC)
        self._proposed = str(refund_export_path(folder, "csv", self.moment))

    def fields(self) -> Iterable[Widget]:
        yield Static(
            Text(
                "Every approved refund not exported yet, each handed over once; the export is audited "
                "and the file is never written over an earlier one.",
                style="dim",
            )
        )
        yield Label("Format")
        yield Select(
            [(f, f) for f in EXPORT_FORMATS], value="csv", allow_blank=False, id="refund-export-format"
        )
        yield Label("File")
        yield Input(self._proposed, id="refund-export-path", max_length=MAX_PATH_CHARS)

    @on(Select.Changed, "#refund-export-format")
    def _format_chosen(self, event: Select.Changed) -> None:
        """The proposed name follows the format, unless the person typed their own."""
        path = self.query_one("#refund-export-path", Input)
        if path.value == self._proposed:
            self._proposed = str(refund_export_path(self.folder, event.value, self.moment))  # type: ignore[arg-type]
            path.value = self._proposed

    @work(exclusive=True, group="refund-export", exit_on_error=False)
    async def save(self) -> None:
        fmt: ExportFormat = self.query_one("#refund-export-format", Select).value  # type: ignore[assignment]
        done = await self.submit(
            export_refunds_to_file(
                self.ctx, fmt=fmt, destination=self.query_one("#refund-export-path", Input).value
            )
        )
        if done is not None:
            self.dismiss(done)
