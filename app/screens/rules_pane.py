"""The administration screen's Rules tab: the jurisdiction rules, a new version, a correction (admins).

One row per state and effective date (the version in force on a contract's date decides its refund).
`a` adds a version — a new state's rule, or a state's next rule from a new effective date, starting
from the selected rule's values — and `e` (or enter) corrects the selected rule, which is allowed
only while no refund request was decided under it: such a rule stays as it was so that an auditor
sees the rule a past refund was decided under (services/refunds/rules.py says why). Every change is
audited as `rules_changed` with the admin's session, in the change's own transaction.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabPane
from textual.worker import Worker, WorkerState

from app.caller import report_failure
from app.dialogs.rule_dialog import RuleChange, RuleDialog
from services.refunds.calculation import money
from services.refunds.rules import RuleRecord, list_rules
from services.refunds.types import JurisdictionRule
from widgets.plain import notify_plain, plain
from widgets.sized_table import SizedDataTable

RULES_TAB = "rules-pane"
CITATION_CELL_CHARS = 40
RULE_COLUMNS = (
    ("State", "state"), ("From", "from"), ("Free look", "free_look"), ("Fee", "fee"), ("Methods", "methods"),
    ("Pro-rata", "basis"), ("Short-rate", "short_rate"), ("Request window", "window"), ("Pay within", "due"),
    ("Used by", "used"), ("Citation", "citation"),
)  # fmt: skip


def days(value: int | None, none: str) -> str:
    return none if value is None else f"{value} days"


def fee_text(rule: JurisdictionRule) -> str:
    """`no fee`, `cap $75.00`, `any fee`."""
    if not rule.fee_allowed:
        return "no fee"
    return "any fee" if rule.fee_cap is None else f"cap {money(rule.fee_cap)}"


def rule_cells(record: RuleRecord) -> list[str | Text]:
    rule = record.rule
    citation = plain(rule.citation)
    citation.truncate(CITATION_CELL_CHARS, overflow="ellipsis")
    return [
        Text(rule.state, style="bold"),
        str(rule.effective_from),
        days(rule.free_look_days, "—"),
        fee_text(rule),
        "; ".join(rule.methods_allowed) or "any",
        rule.pro_rata_basis,
        format(rule.short_rate_factor, "f"),
        days(rule.written_request_days, "none"),
        days(rule.payment_due_days, "—"),
        Text(f"{record.used_by:,} refunds" if record.used_by else "—", justify="right"),
        citation,
    ]


class RulesPane(TabPane):
    """The rules table and the selected rule in full; reads the rules again after every change."""

    BINDINGS = [
        Binding("a", "add_version", "Add version", id="rules_add_version"),
        Binding("e", "correct", "Correct rule", id="rules_correct"),
    ]

    def __init__(self) -> None:
        super().__init__("Rules", id=RULES_TAB)
        self._records: list[RuleRecord] = []

    def compose(self) -> ComposeResult:
        yield SizedDataTable(id="rules-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="rule-detail")

    def on_mount(self) -> None:
        table = self.query_one("#rules-table", DataTable)
        for label, key in RULE_COLUMNS:
            table.add_column(label, key=key)
        self.load()

    @work(exclusive=True, group="admin-rules", exit_on_error=False)
    async def load(self, keep: tuple[str, str] | None = None) -> None:
        """Read the rules; the cursor stays on `keep` (state, effective date) or the selected rule."""
        table = self.query_one("#rules-table", DataTable)
        table.loading = True
        try:
            records = await list_rules(self.screen.ctx)  # type: ignore[attr-defined]
        finally:
            table.loading = False
        selected = self.selected
        keep = keep or (
            (selected.rule.state, str(selected.rule.effective_from)) if selected is not None else None
        )
        self._records = records
        table.clear()
        keys = []
        for record in records:
            key = (record.rule.state, str(record.rule.effective_from))
            keys.append(key)
            table.add_row(*rule_cells(record), key="|".join(key))
        if keep in keys:
            table.move_cursor(row=keys.index(keep))
        self._show_rule()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            report_failure(self.screen, event.worker.error)

    @property
    def selected(self) -> RuleRecord | None:
        if not self.is_mounted:
            return None
        row = self.query_one("#rules-table", DataTable).cursor_row
        return self._records[row] if 0 <= row < len(self._records) else None

    def _show_rule(self) -> None:
        self.screen.refresh_bindings()
        record = self.selected
        detail = self.query_one("#rule-detail", Static)
        if record is None:
            detail.update("")
            return
        rule = record.rule
        use = (
            f"decided {record.used_by:,} refund request{'s' if record.used_by != 1 else ''}: kept as it is; "
            "a change of law is a new version (a)"
            if record.used_by
            else "no refund decided under it yet: e corrects it"
        )
        detail.update(
            Text.assemble(
                (f"{rule.name} from {rule.effective_from}", "bold"), "  ", plain(rule.citation), "\n",
                ("short-rate factor ", "dim"), format(rule.short_rate_factor, "f"),
                ("   changed by ", "dim"), plain(record.updated_by or "the program or the command line"),
                ("   ", "dim"), (use, "dim"),
                *(("\n", plain(rule.notes, style="dim")) if rule.notes else ()),
            )
        )  # fmt: skip

    @on(DataTable.RowHighlighted, "#rules-table")
    def _moved(self) -> None:
        self._show_rule()

    @on(DataTable.RowSelected, "#rules-table")
    def _chosen(self) -> None:
        self.action_correct()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`e` needs a selected rule; on one a refund used, it says why the rule is kept as it was."""
        if action == "correct":
            return self.selected is not None or None
        return True

    def action_add_version(self) -> None:
        record = self.selected
        self._open("add", record.rule if record else None)

    def action_correct(self) -> None:
        record = self.selected
        if record is None:
            return
        if record.used_by:
            notify_plain(
                self,
                f"The rule {record.rule.state} from {record.rule.effective_from} decided {record.used_by:,} "
                "refund request(s), so it is kept as it was: an auditor must see the rule a past refund was "
                "decided under. Press a to add a new version with a later effective date.",
                title="Not changed",
                severity="warning",
                timeout=10,
            )
            return
        self._open("correct", record.rule)

    def _open(self, change: RuleChange, start: JurisdictionRule | None) -> None:
        def done(rule: JurisdictionRule | None) -> None:
            if rule is None:
                return
            said = "Correction saved" if change == "correct" else "Rule version added"
            notify_plain(self, f"{said}: {rule.state} from {rule.effective_from}.", title="Rules")
            self.load(keep=(rule.state, str(rule.effective_from)))

        self.app.push_screen(RuleDialog(change, start), callback=done)
