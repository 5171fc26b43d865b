"""Opening a refund request for a contract: the dates, the reason, and what extraction did not yield.

The service computes the verdict from the contract's approved fields, term, state and APR included when
the extraction has them (migration 0011); the form's term, state and APR fill only what it lacks (an
extraction older than those fields), so they stay empty for a contract reviewed with them. Without a term
or a state the verdict is "needs information", which a person rarely means, so the form offers them
beside the dates rather than leaving them to a second step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from textual import work
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from app.dialogs.export_dialog import parse_day
from app.dialogs.form_dialog import FormDialog
from services.refunds.requests import RefundRequestInfo, open_refund_request
from services.refunds.types import REASON_LABELS, REFUND_REASONS, RefundReason


def optional_whole_number(raw: str, name: str) -> int | None:
    """A whole number typed in a field that may stay empty, or ValueError with a sentence naming it."""
    text = raw.strip()
    if not text:
        return None
    # ASCII digits only: str.isdigit() also accepts "²" (which int() then refuses with Python's words).
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"The {name} is a whole number, such as 60; {text[:20]!r} is not.")
    return int(text)


def optional_decimal(raw: str, name: str) -> Decimal | None:
    """A decimal typed in a field that may stay empty, or ValueError with a sentence naming it."""
    text = raw.strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"The {name} is a number, such as 7.9; {raw.strip()[:20]!r} is not.") from None
    if not value.is_finite():
        raise ValueError(f"The {name} is a number, such as 7.9.")
    return value


class OpenRefundDialog(FormDialog[RefundRequestInfo | None]):
    """Closes with the opened request (its verdict computed and stored) once the service accepts it."""

    heading = "Open a refund request"
    save_label = "Open request"

    def fields(self) -> Iterable[Widget]:
        yield Label("Contract id")
        yield Input(placeholder="GAP-2024-000123", id="refund-contract", max_length=64)
        yield Label("Cancellation date")
        yield Input(placeholder="YYYY-MM-DD", id="refund-cancel-date", max_length=10)
        yield Label("Reason")
        yield Select(
            [(REASON_LABELS[reason], reason) for reason in REFUND_REASONS],
            prompt="Why the contract ends",
            id="refund-reason",
        )
        yield Label("Written request received on")
        yield Input(placeholder="YYYY-MM-DD", id="refund-request-date", max_length=10)
        yield Label("Term in months (empty: the reviewed term)")
        yield Input(placeholder="such as 60", id="refund-term", max_length=4)
        yield Label("State (empty: the reviewed state)")
        yield Input(placeholder="two letters or the name, such as AR", id="refund-state", max_length=40)
        yield Label("APR in percent (empty: the reviewed APR, if any)")
        yield Input(placeholder="such as 7.9", id="refund-apr", max_length=12)

    def _text(self, input_id: str) -> str:
        return self.query_one(f"#{input_id}", Input).value

    def _reason(self) -> RefundReason:
        chosen = self.query_one("#refund-reason", Select).value
        if chosen is Select.NULL:
            raise ValueError("Choose the reason the contract ends.")
        return chosen  # type: ignore[return-value]

    @work(exclusive=True, group="open-refund", exit_on_error=False)
    async def save(self) -> None:
        try:
            cancel_date: dt.date = parse_day(self._text("refund-cancel-date"), "cancellation")
            reason = self._reason()
            request_date = parse_day(self._text("refund-request-date"), "request received")
            term = optional_whole_number(self._text("refund-term"), "term in months")
            apr = optional_decimal(self._text("refund-apr"), "APR")
        except ValueError as exc:
            self.show_error(str(exc))
            return
        request = await self.submit(
            open_refund_request(
                self.ctx,
                self._text("refund-contract"),
                cancel_date=cancel_date,
                reason=reason,
                request_date=request_date,
                term_months=term,
                state=self._text("refund-state").strip() or None,
                apr=apr,
            )
        )
        if request is not None:
            self.dismiss(request)
