"""The refunds screen (f7): open requests by due date, those past their deadline first and marked.

`o` opens a request for a contract, `enter` shows the verdict and the steps it was computed by,
`a` approves (above the four-eyes amount a second person approves after the first), `x` rejects a
request not yet approved with a reason, `p` marks an approved refund paid with the payment system's
reference, `e` exports the approved refunds not handed over yet to a file for the payment system,
`r` reloads. Every change is a service call,
which checks the role, refuses what the rules forbid (the same person approving twice) in a sentence
shown as a notification, and audits it in the change's own transaction.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from app.dialogs.confirm_dialog import ConfirmDialog
from app.dialogs.open_refund_dialog import OpenRefundDialog
from app.dialogs.payment_reference_dialog import PaymentReferenceDialog
from app.dialogs.reason_dialog import ReasonDialog
from app.dialogs.refund_export_dialog import RefundExportDialog
from app.dialogs.refund_steps_dialog import RefundStepsDialog
from app.screens.base import WorkstationScreen
from services.permissions import Permission, allowed
from services.refunds.calculation import money
from services.refunds.export_file import RefundFileExport
from services.refunds.requests import (
    MAX_LIST,
    REJECTABLE_STATUSES,
    RefundRequestInfo,
    RefundStatus,
    approve_refund,
    list_open_refunds,
    reject_refund,
)
from services.refunds.types import REASON_LABELS
from widgets.key_footer import KeyFooter
from widgets.plain import notify_plain, plain
from widgets.sized_table import SizedDataTable

OVERDUE_STYLE = "bold red"
# Short enough that all nine columns fit 120 terminal columns; the approvals column says whose eyes.
STATUS_LABELS: dict[RefundStatus, str] = {
    "open": "open",
    "awaiting_second_approval": "awaiting 2nd",
    "approved": "approved",
    "paid": "paid",
    "not_payable": "not payable",
    "rejected": "rejected",
}
# The usual reasons to reject a request, picked by their digit in the reason dialog; "other" is typed.
REJECTION_REASONS = (
    "duplicate of another request",
    "the customer withdrew the request",
    "not the customer's contract",
    "no written request received",
)
ACTION_PERMISSIONS = {
    "open_request": Permission.REQUEST_REFUND,
    "approve": Permission.APPROVE_REFUND,
    "reject": Permission.REJECT_REFUND,
    "mark_paid": Permission.PAY_REFUND,
    "export": Permission.EXPORT_REFUNDS,
}


def approvals_text(request: RefundRequestInfo) -> str:
    """Who approved so far: "sue" for a single approval, "sue, ada" for four eyes, "sue (1 of 2)" while waiting."""
    if request.status == "awaiting_second_approval":
        return f"{request.first_approved_by or '—'} (1 of 2)"
    names = [name for name in (request.first_approved_by, request.approved_by) if name]
    return ", ".join(names) or "—"


def row_cells(request: RefundRequestInfo) -> list[Text]:
    """One request's cells; a request past its payment deadline is red from end to end."""
    style = OVERDUE_STYLE if request.overdue else ""
    refund = "—" if request.refund_amount is None else money(request.refund_amount)
    status = STATUS_LABELS[request.status] + (" · OVERDUE" if request.overdue else "")
    return [
        plain(request.contract_id, style),
        plain(REASON_LABELS[request.reason], style),
        plain(request.request_date, style),
        plain(request.verdict, style),
        Text(refund, style=style, justify="right"),
        plain(request.method_used or "—", style),
        plain(request.pay_by or "—", style),
        plain(status, style),
        plain(approvals_text(request), style),
    ]


class RefundsScreen(WorkstationScreen):
    """Refund requests not yet paid; the service orders them (overdue first, then by due date)."""

    BINDINGS = [
        Binding("o", "open_request", "Open request", id="refund_open"),
        Binding("enter", "show_steps", "Verdict and steps", id="refund_steps"),
        Binding("a", "approve", "Approve", id="refund_approve"),
        Binding("x", "reject", "Reject", id="refund_reject"),
        Binding("p", "mark_paid", "Mark paid", id="refund_paid"),
        Binding("e", "export", "Export", id="refund_export"),
        Binding("r", "refresh", "Refresh", id="refund_refresh"),
        # Pressed when the key above is not on offer (the role, the request's status): a sentence, not silence.
        *(
            Binding(
                key,
                f"why_not('{action}')",
                f"Why {label} is not open",
                show=False,
                id=f"refund_why_not_{action}",
            )
            for key, action, label in (
                ("a", "approve", "approving"),
                ("x", "reject", "rejecting"),
                ("p", "mark_paid", "marking paid"),
                ("e", "export", "exporting"),
            )
        ),
    ]
    AUTO_FOCUS = "#refunds-table"

    def __init__(self) -> None:
        super().__init__()
        self._requests: list[RefundRequestInfo] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the refund requests…", id="refunds-status")
        yield SizedDataTable(id="refunds-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#refunds-table", DataTable)
        for label, key in (("Contract", "contract"), ("Reason", "reason"), ("Received", "received"),
                           ("Verdict", "verdict"), ("Refund", "refund"), ("Method", "method"),
                           ("Due", "due"), ("Status", "status"), ("Approvals", "approvals")):  # fmt: skip
            table.add_column(label, key=key)
        self.reload()

    # --- loading -----------------------------------------------------------------------------------

    @work(exclusive=True, group="refunds-list", exit_on_error=False)
    async def reload(self, keep: str | None = None) -> None:
        """Read the open requests again; the cursor stays on `keep` (a request id) when it is still listed."""
        table = self.query_one("#refunds-table", DataTable)
        table.loading = not self._requests
        try:
            requests = await list_open_refunds(self.ctx, limit=MAX_LIST)
        finally:
            table.loading = False
        self._requests = requests
        table.clear()
        for request in requests:
            table.add_row(*row_cells(request), key=str(request.id))
        ids = [str(request.id) for request in requests]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._show_status()
        self.refresh_bindings()

    def _show_status(self) -> None:
        count = len(self._requests)
        # The service lists at most MAX_LIST; more than that is a backlog to name, not to hide.
        shown_count = f"First {count}" if count >= MAX_LIST else str(count)
        overdue = sum(request.overdue for request in self._requests)
        four_eyes = money(self.session.settings.refund_four_eyes_amount)
        parts = [
            Text(
                f"{shown_count} open request{'s' if count != 1 else ''}" if count else "No open requests",
                "bold",
            ),
            Text(f" · {overdue} past the payment deadline", OVERDUE_STYLE) if overdue else Text(""),
            Text(f" · by due date · two approvals above {four_eyes} · o opens a request"),
        ]
        self.query_one("#refunds-status", Static).update(Text.assemble(*parts))

    @property
    def selected(self) -> RefundRequestInfo | None:
        row = self.query_one("#refunds-table", DataTable).cursor_row
        return self._requests[row] if 0 <= row < len(self._requests) else None

    def _after_change(self, request: RefundRequestInfo, said: str) -> None:
        notify_plain(self, said, title=request.contract_id)
        self.reload(keep=str(request.id))

    # --- actions -----------------------------------------------------------------------------------

    def _refusal(self, action: str) -> str | None:
        """Why `action` cannot act on the selected request now, or None when it can."""
        permission = ACTION_PERMISSIONS.get(action)
        if permission is not None and not (
            self.workstation.logged_in and allowed(self.ctx.actor, permission)
        ):
            return f"Your role may not {permission.value}."
        if action not in ("approve", "reject", "mark_paid", "show_steps"):
            return None
        request = self.selected if self.is_mounted else None
        if request is None:
            return "No refund request is selected."
        status = STATUS_LABELS[request.status]
        if action == "approve" and request.status not in ("open", "awaiting_second_approval"):
            return f"{request.contract_id} is {status} already: there is nothing to approve."
        if action == "reject" and request.status not in REJECTABLE_STATUSES:
            return f"Only a request not yet approved can be rejected; {request.contract_id} is {status}."
        if action == "mark_paid" and request.status != "approved":
            return f"Only an approved refund can be marked paid; {request.contract_id} is {status}."
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A key that cannot act is not offered; a or p pressed anyway says why (`action_why_not`)."""
        return self._refusal(action) is None

    def action_why_not(self, action: str) -> None:
        if (message := self._refusal(action)) is not None:
            notify_plain(self, message, title="Nothing done", severity="warning", timeout=6)

    @on(DataTable.RowHighlighted, "#refunds-table")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#refunds-table")
    def _chosen(self) -> None:
        self.action_show_steps()

    def action_open_request(self) -> None:
        self.app.push_screen(OpenRefundDialog(), callback=self._opened)

    def _opened(self, request: RefundRequestInfo | None) -> None:
        if request is None:
            return
        self.reload(keep=str(request.id))
        # The verdict first. A request that cannot be paid is stored (and audited) but is not among the
        # open ones: say so, or the person would look for it in the list.
        if request.status == "not_payable":
            notify_plain(
                self,
                f"The request for {request.contract_id} is stored as not payable ({request.verdict}); "
                "it is not listed among the open requests. A new request for the contract can be opened.",
                title="Not payable",
                severity="warning",
                timeout=10,
            )
        self.app.push_screen(RefundStepsDialog(request))

    def action_show_steps(self) -> None:
        if (request := self.selected) is not None:
            self.app.push_screen(RefundStepsDialog(request))

    def action_approve(self) -> None:
        request = self.selected
        if request is None:
            return
        amount = "—" if request.refund_amount is None else money(request.refund_amount)
        self.app.push_screen(
            ConfirmDialog(
                f"Approve the refund of {amount} for {request.contract_id}?",
                f"By {request.method_used or '—'}, due {request.pay_by or '—'}. "
                f"Above {money(self.session.settings.refund_four_eyes_amount)} a second person approves too.",
                "Approve",
            ),
            callback=lambda yes: self._approve(request) if yes else None,
        )

    @work(exclusive=True, group="refund-approve", exit_on_error=False)
    async def _approve(self, request: RefundRequestInfo) -> None:
        approved = await approve_refund(self.ctx, request.id, request.version)
        if approved.status == "awaiting_second_approval":
            said = "First approval recorded; a second person must approve it too."
        else:
            said = "Refund approved; it goes to the payment system with the next export."
        self._after_change(approved, said)

    def action_reject(self) -> None:
        request = self.selected
        if request is None:
            return
        amount = "—" if request.refund_amount is None else money(request.refund_amount)
        self.app.push_screen(
            ReasonDialog(
                f"Reject the refund request for {request.contract_id} ({amount})?",
                "It leaves the open list and is never exported; the reason goes into the audit log.",
                REJECTION_REASONS,
            ),
            callback=lambda reason: self._reject(request, reason) if reason else None,
        )

    @work(exclusive=True, group="refund-reject", exit_on_error=False)
    async def _reject(self, request: RefundRequestInfo, reason: str) -> None:
        rejected = await reject_refund(self.ctx, request.id, request.version, reason)
        self._after_change(rejected, f"Request rejected ({rejected.rejection_reason}); it is no longer open.")

    def action_mark_paid(self) -> None:
        if (request := self.selected) is not None:
            self.app.push_screen(PaymentReferenceDialog(request), callback=self._paid)

    def _paid(self, request: RefundRequestInfo | None) -> None:
        if request is not None:
            self._after_change(request, f"Marked paid (reference {request.payment_reference}).")

    def action_export(self) -> None:
        self.app.push_screen(
            RefundExportDialog(self.workstation.settings.exports_dir), callback=self._exported
        )

    def _exported(self, done: RefundFileExport | None) -> None:
        if done is None:
            return
        what = f"{done.count} approved refund{'s' if done.count != 1 else ''}" if done.count else "No refund"
        notify_plain(
            self,
            f"{what} exported to {done.path} (cursor {done.cursor})."
            + ("" if done.count else " Nothing was approved since the last export; the file holds no rows."),
            title="Refunds exported",
            timeout=12,
        )
        self.reload()

    def action_refresh(self) -> None:
        selected = self.selected
        self.reload(keep=str(selected.id) if selected else None)
