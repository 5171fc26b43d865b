"""Marking an approved refund paid, with the payment system's reference (the service requires one)."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from app.dialogs.form_dialog import FormDialog
from services.refunds.calculation import money
from services.refunds.requests import MAX_REFERENCE_CHARS, RefundRequestInfo, mark_refund_paid
from widgets.plain import plain


class PaymentReferenceDialog(FormDialog[RefundRequestInfo | None]):
    save_label = "Mark paid"

    def __init__(self, request: RefundRequestInfo) -> None:
        super().__init__()
        self.request = request
        self.heading = f"Mark the refund for {request.contract_id} paid"

    def fields(self) -> Iterable[Widget]:
        amount = "—" if self.request.refund_amount is None else money(self.request.refund_amount)
        yield Static(
            plain(f"Refund {amount}, approved by {self.request.approved_by or '—'}."), classes="form-note"
        )
        yield Label("Payment reference (from the payment system)")
        yield Input(id="payment-reference", max_length=MAX_REFERENCE_CHARS)

    @work(exclusive=True, group="mark-paid", exit_on_error=False)
    async def save(self) -> None:
        paid = await self.submit(
            mark_refund_paid(
                self.ctx,
                self.request.id,
                self.request.version,
                self.query_one("#payment-reference", Input).value,
            )
        )
        if paid is not None:
            self.dismiss(paid)
