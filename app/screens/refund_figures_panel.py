"""What the dashboard's Refunds panel shows of the period's refund figures (services/refunds/figures.py).

Kept apart from the dashboard screen, which only places the panel and loads the figures in its worker:
four tiles (requested, approved with its sum, paid with its sum, overdue with how many are still
unpaid, red while any is) and, beside them, the approved amounts by method and by state.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from services.refunds.calculation import money
from services.refunds.figures import AmountGroup, RefundFigures
from widgets.big_number import BigNumber, compact_count
from widgets.plain import plain


def groups_line(label: str, groups: Sequence[AmountGroup]) -> Text:
    """`By state   CA $300.00 (1) · AR $200.00 (1)`: names come from the data, so they stay plain text."""
    line = Text.assemble((f"{label:<10}", "bold"))
    for index, group in enumerate(groups):
        line.append(" · " if index else "")
        line.append_text(plain(group.name))
        line.append(f" {money(group.amount)}", style="bold").append(f" ({group.count:,})", style="dim")
    return line


def amounts_text(figures: RefundFigures) -> Text:
    """The approved amounts by method and by state, or a sentence when nothing was approved."""
    if not figures.approved:
        return Text(
            "No refund was approved in the period, so there are no amounts by method or state.", "dim"
        )
    return Text("\n").join(
        [
            Text("Approved in the period", "dim"),
            groups_line("By method", figures.by_method),
            groups_line("By state", figures.by_state),
        ]
    )


class RefundFiguresView(Horizontal):
    """The tiles and the amounts; `show` draws a period's figures."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="refund-tiles"):
            yield BigNumber("Requested", id="tile-refunds-requested")
            yield BigNumber("Approved", id="tile-refunds-approved")
            yield BigNumber("Paid", id="tile-refunds-paid")
            yield BigNumber("Overdue", id="tile-refunds-overdue")
        yield Static(id="refund-amounts")

    def show(self, figures: RefundFigures) -> None:
        self.query_one("#tile-refunds-requested", BigNumber).show(compact_count(figures.requested))
        self.query_one("#tile-refunds-approved", BigNumber).show(
            compact_count(figures.approved), note=money(figures.approved_amount)
        )
        self.query_one("#tile-refunds-paid", BigNumber).show(
            compact_count(figures.paid), note=money(figures.paid_amount)
        )
        self.query_one("#tile-refunds-overdue", BigNumber).show(
            compact_count(figures.overdue),
            note=f"{figures.overdue_unpaid:,} unpaid",
            alert=figures.overdue_unpaid > 0,
        )
        self.query_one("#refund-amounts", Static).update(amounts_text(figures))
