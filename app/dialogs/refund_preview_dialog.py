"""The steps behind the review screen's refund panel (`m`): the refund if the contract were cancelled today.

Computed from the values on screen now (corrections included) under the rule in force on the contract
date; nothing is stored — a refund request is opened on the Refunds screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.dialogs.base import WorkstationDialog
from app.dialogs.refund_steps_dialog import explanation
from services.refunds.preview import RefundPreview
from widgets.plain import plain


class RefundPreviewDialog(WorkstationDialog[None]):
    BINDINGS = [Binding("escape,enter,q,m", "dismiss", "Close", id="close_refund_preview")]

    def __init__(self, contract_id: str, preview: RefundPreview) -> None:
        super().__init__()
        self.contract_id = contract_id
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        quote = preview.quote
        flags = [check.text for check in preview.checks]
        flags += [flag for flag in quote.flags if flag not in flags]
        with VerticalScroll(id="refund-steps-box"):
            yield Static(
                Text.assemble(
                    (self.contract_id, "bold"), plain(f" — voluntary cancellation on {preview.cancel_date}")
                )
            )
            yield Static(
                explanation(plain(preview.headline, style="bold"), quote.reasons, flags, quote.steps),
                id="refund-steps",
            )
