"""Adding a version of a state's jurisdiction rule, or correcting a rule no refund has used (admins).

Every field is typed as text and validated by the same function as a line of `rules import`
(services/refunds/jurisdictions.py `rule_from_fields`), so the form and the CSV accept and refuse the
same rules with the same sentences, which name the field by its CSV column (shown beside each label).
A correction keeps the state and effective date (they name the version); a new version starts from
the selected rule's values with the effective date to fill in.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from textual import work
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from app.dialogs.form_dialog import FormDialog
from services.errors import InvalidInput
from services.refunds.jurisdictions import rule_from_fields
from services.refunds.rules import add_rule_version, correct_rule
from services.refunds.types import JurisdictionRule
from widgets.plain import plain

RuleChange = Literal["add", "correct"]
# (CSV column, label, hint) of the fields typed as text; fee_allowed and pro_rata_basis are chosen.
TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("state", "State", "two letters, or * for the default rule"),
    ("effective_from", "Effective from", "YYYY-MM-DD: contracts dated from this day on"),
    ("free_look_days", "Free-look days", "0 to 365"),
    ("fee_cap", "Fee cap in $", "empty: no cap"),
    ("methods_allowed", "Methods allowed", "separated by ';', empty: any method"),
    ("short_rate_factor", "Short-rate factor", "above 0, at most 1"),
    ("written_request_days", "Written-request window in days", "empty: no window"),
    ("payment_due_days", "Pay within days", "empty: no deadline"),
    ("citation", "Citation", "the law, or that the default is not law"),
    ("notes", "Notes", "optional"),
)
MAX_FIELD_CHARS = 1000


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return "; ".join(value)
    return str(value)


class RuleDialog(FormDialog[JurisdictionRule | None]):
    """Closes with the rule as saved once the service accepts it."""

    def __init__(self, change: RuleChange, start: JurisdictionRule | None) -> None:
        super().__init__()
        self.change = change
        self.start = start
        if change == "correct" and start is not None:
            self.heading = f"Correct the rule {start.state} from {start.effective_from}"
            self.save_label = "Correct"
        else:
            self.heading = "Add a rule version (a new effective date)"
            self.save_label = "Add"

    def _initial(self, column: str) -> str:
        if self.start is None or (self.change == "add" and column == "effective_from"):
            return ""
        return _text(getattr(self.start, column))

    def fields(self) -> Iterable[Widget]:
        if self.change == "add":
            yield Static(
                plain(
                    "The version in force on a contract's date decides its refunds; earlier versions stay."
                ),
                classes="form-note",
            )
        fixed = {"state", "effective_from"} if self.change == "correct" else set()
        for column, label, hint in TEXT_FIELDS:
            yield Label(f"{label} ({column})")
            yield Input(
                self._initial(column),
                placeholder=hint,
                id=f"rule-{column}",
                max_length=MAX_FIELD_CHARS,
                disabled=column in fixed,
            )
            if column == "free_look_days":
                yield Label("Cancellation fee allowed (fee_allowed)")
                allowed = self.start.fee_allowed if self.start else True
                yield Select([("yes", "true"), ("no", "false")], value=str(allowed).lower(), allow_blank=False,
                             id="rule-fee_allowed")  # fmt: skip
            if column == "methods_allowed":
                yield Label("Pro-rata on (pro_rata_basis)")
                basis = self.start.pro_rata_basis if self.start else "days"
                yield Select([("days", "days"), ("whole months", "months")], value=basis, allow_blank=False,
                             id="rule-pro_rata_basis")  # fmt: skip

    def typed(self) -> dict[str, str]:
        """The form as the CSV columns' text, for `rule_from_fields`."""
        values = {column: self.query_one(f"#rule-{column}", Input).value for column, _, _ in TEXT_FIELDS}
        for column in ("fee_allowed", "pro_rata_basis"):
            values[column] = str(self.query_one(f"#rule-{column}", Select).value)
        values["is_default"] = "true" if values["state"].strip() == "*" else "false"
        return values

    @work(exclusive=True, group="rule-save", exit_on_error=False)
    async def save(self) -> None:
        try:
            rule = rule_from_fields(self.typed())
        except InvalidInput as exc:
            self.show_error(exc.message)
            return
        store = add_rule_version if self.change == "add" else correct_rule
        saved = await self.submit(store(self.ctx, rule))
        if saved is not None:
            self.dismiss(saved)
