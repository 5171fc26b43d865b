"""The refund a contract under review would give if cancelled today, and the checks that flag its fields.

The review screen shows it beside the fields so that a wrong premium, method or fee shows up as a strange
refund, and the checks name the field that breaks the state's rule in force on the contract date: a fee
above the cap (or any fee where none is allowed), a method the state does not allow, no method at all on
a contract that can be cancelled. Pure: the caller reads the rules and the date.

A contract holds only its start date, so a term that disagrees with the contract's dates cannot be
checked until end dates are stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from services.domain import REFUND_METHODS, FieldName
from services.refunds.calculation import fee_check, method_check, money, quote_refund
from services.refunds.jurisdictions import rule_in_force
from services.refunds.types import JurisdictionRule, RefundInputs, RefundQuote

NO_METHOD = (
    "No refund method is stated: a contract that can be cancelled must say how its refund is computed."
)


class RefundCheck(BaseModel):
    """A finding about one field against the state's rule; the review screen shows it as a flag."""

    model_config = ConfigDict(frozen=True)

    field: FieldName
    text: str


class RefundPreview(BaseModel):
    """The quote for a voluntary cancellation on ``cancel_date`` (today) and the checks of the fields."""

    model_config = ConfigDict(frozen=True)

    cancel_date: dt.date
    quote: RefundQuote
    checks: tuple[RefundCheck, ...]

    @property
    def headline(self) -> str:
        """ "If cancelled today: $749.86 by Pro-Rata; fee $50.00 (Arkansas cap $75.00); refund $699.86"."""
        quote = self.quote
        if quote.refund is None or quote.gross_refund is None:
            return f"If cancelled today: {quote.verdict} — {'; '.join(quote.reasons)}"
        return (
            f"If cancelled today: {money(quote.gross_refund)} by {quote.method}; "
            f"fee {money(quote.fee_applied)}{_fee_rule(quote.rule)}; refund {money(quote.refund)}"
        )


def _fee_rule(rule: JurisdictionRule | None) -> str:
    if rule is None:
        return ""
    if not rule.fee_allowed:
        return f" (none allowed in {rule.name})"
    return "" if rule.fee_cap is None else f" ({rule.name} cap {money(rule.fee_cap)})"


def refund_checks(
    method: str | None, fee: Decimal | None, rule: JurisdictionRule | None
) -> tuple[RefundCheck, ...]:
    """The fields that break the rule (``rule`` None: only the missing method can be told)."""
    checks: list[RefundCheck] = []
    if method is None or method == "Unknown":
        checks.append(RefundCheck(field="refund_calculation_method", text=NO_METHOD))
    elif rule is not None and (finding := method_check(method, rule)) is not None:
        checks.append(RefundCheck(field="refund_calculation_method", text=finding))
    if fee is not None and rule is not None and (finding := fee_check(fee, rule)) is not None:
        checks.append(RefundCheck(field="cancellation_fee", text=finding))
    return tuple(checks)


def preview_refund(
    *,
    premium: Decimal | None,
    method: str | None,
    fee: Decimal | None,
    term_months: int | None,
    state: str | None,
    apr: Decimal | None,
    contract_date: dt.date | None,
    today: dt.date,
    rules: Iterable[JurisdictionRule],
) -> RefundPreview | None:
    """The preview for a voluntary cancellation today under the rule in force on the contract date.

    None without a contract date: no term can be counted from nothing.
    """
    if contract_date is None:
        return None
    cancel_date = max(today, contract_date)
    rule = None if state is None else rule_in_force(rules, state, contract_date)
    inputs = RefundInputs(
        premium=premium,
        term_months=term_months,
        contract_date=contract_date,
        cancel_date=cancel_date,
        method=method if method in REFUND_METHODS else None,
        fee=fee,
        state=state,
        reason="voluntary",
        apr=apr,
        request_date=cancel_date,
    )
    return RefundPreview(
        cancel_date=cancel_date, quote=quote_refund(inputs, rule), checks=refund_checks(method, fee, rule)
    )
