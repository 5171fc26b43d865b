"""The verdict of a refund request and the steps of its calculation (`enter` on the refunds screen).

What is shown is what was stored when the request was opened: the verdict a person approves is the
one computed then, whatever the rules say today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.dialogs.base import WorkstationDialog
from services.refunds.calculation import money
from services.refunds.requests import RefundRequestInfo
from services.refunds.types import REASON_LABELS, Step
from widgets.plain import plain


def verdict_line(request: RefundRequestInfo) -> Text:
    """ "eligible: refund $699.86 by Pro-Rata, fee $50.00" — the answer before the reasons for it."""
    if request.refund_amount is None:
        return plain(request.verdict, style="bold")
    return Text.assemble(
        (request.verdict, "bold"),
        plain(f": refund {money(request.refund_amount)} by {request.method_used or '—'}, "
              f"fee {money(request.fee_applied)}"),
    )  # fmt: skip


def steps_text(request: RefundRequestInfo) -> Text:
    """The reasons, the flags and the numbered steps, one per line, each step's values after it."""
    return explanation(verdict_line(request), request.reasons, request.flags, request.steps)


def explanation(headline: Text, reasons: Iterable[str], flags: Iterable[str], steps: Sequence[Step]) -> Text:
    """A verdict's headline, its reasons and flags, and the numbered steps with their values."""
    lines: list[Text] = [headline]
    lines += [plain(f"  – {reason}") for reason in reasons]
    lines += [plain(f"  ⚑ {flag}", style="yellow") for flag in flags]
    lines.append(Text("Steps", style="bold underline"))
    for number, step in enumerate(steps, 1):
        lines.append(plain(f"{number:>2}. {step.text}"))
        if step.values:
            values = ", ".join(f"{name} {value}" for name, value in step.values.items())
            lines.append(plain(f"    {values}", style="dim"))
    if not steps:
        lines.append(Text("No steps were recorded.", style="dim"))
    return Text("\n").join(lines)


class RefundStepsDialog(WorkstationDialog[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="close_refund_steps")]

    def __init__(self, request: RefundRequestInfo) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        request = self.request
        with VerticalScroll(id="refund-steps-box"):
            yield Static(
                Text.assemble(
                    (request.contract_id, "bold"),
                    plain(
                        f" — {REASON_LABELS[request.reason]}, cancelled {request.cancel_date}, "
                        f"request received {request.request_date}, {request.status.replace('_', ' ')}"
                    ),
                )
            )
            yield Static(steps_text(request), id="refund-steps")
