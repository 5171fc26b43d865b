"""The refund arithmetic: pure functions on ``Decimal``, each returning its amount and the steps behind it.

Nothing here reads a clock, a file or a database, so a quote can be recomputed and explained at any
time. Conventions (the README's "Refund calculation" states them for people):

- amounts stay exact until the very end, where the refund before the fee is rounded half-up to cents
  once; the fee is already in cents, so the refund after it needs no second rounding;
- the term ends ``term`` calendar months after the contract date (a day that month lacks becomes its
  last day: Jan 31 + 1 month = Feb 28/29);
- a month counts as elapsed once it has begun: cancelling on the same day of the month as the contract
  date ends the month before, cancelling one day later uses up the next one;
- pro-rata on days counts the days from the cancellation date to the term's end over the days from the
  contract date to the term's end.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

from services.extraction.types import CENT
from services.refunds.states import STATE_NAMES
from services.refunds.types import (
    REASON_LABELS,
    Calculation,
    JurisdictionRule,
    ProRataBasis,
    RefundInputs,
    RefundQuote,
    Step,
)

# Enough digits that 600 monthly compounding factors and their sums lose nothing a cent could show.
_PRECISION = 50
ZERO = Decimal("0.00")


def money(amount: Decimal) -> str:
    """$1,234.56, the way every step shows an amount."""
    return f"${amount:,.2f}"


def to_cents(amount: Decimal) -> Decimal:
    """Half-up to cents: the one rounding a refund goes through."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(contract_date: dt.date, term_months: int) -> dt.date:
    """The day coverage ends: ``term_months`` calendar months after the contract date."""
    return add_months(contract_date, term_months)


def months_elapsed(contract_date: dt.date, cancel_date: dt.date, term_months: int) -> int:
    """Months used up by the cancellation date, counting a month as elapsed once it has begun (≤ term)."""
    whole = 0
    while whole < term_months and add_months(contract_date, whole + 1) <= cancel_date:
        whole += 1
    begun = whole + (1 if whole < term_months and cancel_date > add_months(contract_date, whole) else 0)
    return min(begun, term_months)


def _month_steps(contract_date: dt.date, cancel_date: dt.date, term_months: int) -> tuple[int, Step]:
    elapsed = months_elapsed(contract_date, cancel_date, term_months)
    unexpired = term_months - elapsed
    step = Step(
        text=(
            f"Months: {elapsed} of {term_months} elapsed from {contract_date} to {cancel_date} "
            f"(a month counts as elapsed once it has begun), so {unexpired} unexpired."
        ),
        values={
            "term_months": str(term_months),
            "elapsed_months": str(elapsed),
            "unexpired_months": str(unexpired),
        },
    )
    return unexpired, step


def free_look(premium: Decimal, free_look_days: int) -> Calculation:
    """Cancelled within the free-look period: the whole premium comes back."""
    return Calculation(
        exact=premium,
        steps=(
            Step(
                text=f"Free look: cancelled within {free_look_days} days of the contract date, "
                f"so the whole premium of {money(premium)} is refunded with no fee.",
                values={"premium": str(premium), "free_look_days": str(free_look_days)},
            ),
        ),
    )


def pro_rata_days(
    premium: Decimal, contract_date: dt.date, cancel_date: dt.date, term_months: int
) -> Calculation:
    """Premium × unexpired days ÷ days in the term."""
    end = term_end(contract_date, term_months)
    total = (end - contract_date).days
    unexpired = max(0, min(total, (end - cancel_date).days))
    exact = premium * unexpired / total
    return Calculation(
        exact=exact,
        steps=(
            Step(
                text=f"Term: {term_months} months from {contract_date} to {end}, {total} days; "
                f"{unexpired} days unexpired on {cancel_date}.",
                values={"term_end": str(end), "total_days": str(total), "unexpired_days": str(unexpired)},
            ),
            Step(
                text=f"Pro-Rata on days: {money(premium)} × {unexpired} ÷ {total} = {money(to_cents(exact))}.",
                values={"premium": str(premium), "share": f"{unexpired}/{total}", "amount": str(exact)},
            ),
        ),
    )


def pro_rata_months(
    premium: Decimal, contract_date: dt.date, cancel_date: dt.date, term_months: int
) -> Calculation:
    """Premium × unexpired whole months ÷ months in the term."""
    unexpired, months = _month_steps(contract_date, cancel_date, term_months)
    exact = premium * unexpired / term_months
    return Calculation(
        exact=exact,
        steps=(
            months,
            Step(
                text=f"Pro-Rata on months: {money(premium)} × {unexpired} ÷ {term_months} = {money(to_cents(exact))}.",
                values={"premium": str(premium), "share": f"{unexpired}/{term_months}", "amount": str(exact)},
            ),
        ),
    )


def pro_rata(
    premium: Decimal, contract_date: dt.date, cancel_date: dt.date, term_months: int, basis: ProRataBasis
) -> Calculation:
    """Pro-Rata on the basis the state's rule names."""
    compute = pro_rata_days if basis == "days" else pro_rata_months
    return compute(premium, contract_date, cancel_date, term_months)


def rule_of_78s(
    premium: Decimal, contract_date: dt.date, cancel_date: dt.date, term_months: int
) -> Calculation:
    """Premium × U(U+1) ÷ (T(T+1)): the sum of the unexpired months' digits over the sum of all of them."""
    unexpired, months = _month_steps(contract_date, cancel_date, term_months)
    numerator = unexpired * (unexpired + 1)
    denominator = term_months * (term_months + 1)
    exact = premium * numerator / denominator
    return Calculation(
        exact=exact,
        steps=(
            months,
            Step(
                text=f"Rule of 78s: {money(premium)} × {unexpired}×{unexpired + 1} ÷ ({term_months}×{term_months + 1}) "
                f"= {money(premium)} × {numerator} ÷ {denominator} = {money(to_cents(exact))}.",
                values={"premium": str(premium), "share": f"{numerator}/{denominator}", "amount": str(exact)},
            ),
        ),
    )


def actuarial(
    premium: Decimal, contract_date: dt.date, cancel_date: dt.date, term_months: int, apr: Decimal
) -> Calculation:
    """Premium × the share of a level-payment loan's scheduled balances still ahead.

    The balance at the start of month k (k = 1..T) of a loan of 1 repaid in T level payments at the
    monthly rate r is ((1+r)^T − (1+r)^(k−1)) ÷ ((1+r)^T − 1), or (T−k+1) ÷ T at 0%, where the method
    becomes the Rule of 78s. The share is the sum over the unexpired months over the sum over all.
    """
    unexpired, months = _month_steps(contract_date, cancel_date, term_months)
    elapsed = term_months - unexpired
    with localcontext() as context:
        context.prec = _PRECISION
        rate = apr / 1200
        growth = [(1 + rate) ** k for k in range(term_months + 1)]
        # The common denominator ((1+r)^T − 1) cancels in the ratio; at 0% every term is (T − k + 1).
        balances = (
            [growth[term_months] - growth[k] for k in range(term_months)]
            if rate
            else [Decimal(term_months - k) for k in range(term_months)]
        )
        ahead, total = sum(balances[elapsed:], Decimal(0)), sum(balances, Decimal(0))
        share = ahead / total
        exact = premium * ahead / total
    return Calculation(
        exact=exact,
        steps=(
            months,
            Step(
                text=f"Actuarial at {apr}% APR: the scheduled balances of the {unexpired} unexpired months are "
                f"{share:.6f} of those of all {term_months}; {money(premium)} × {share:.6f} = {money(to_cents(exact))}.",
                values={"premium": str(premium), "apr": str(apr), "share": str(share), "amount": str(exact)},
            ),
        ),
    )


def short_rate(
    premium: Decimal,
    contract_date: dt.date,
    cancel_date: dt.date,
    term_months: int,
    factor: Decimal,
    basis: ProRataBasis,
) -> Calculation:
    """The state's short-rate factor × the pro-rata refund."""
    base = pro_rata(premium, contract_date, cancel_date, term_months, basis)
    exact = base.exact * factor
    return Calculation(
        exact=exact,
        steps=(
            *base.steps,
            Step(
                text=f"Short-Rate: {factor} × {money(to_cents(base.exact))} = {money(to_cents(exact))}.",
                values={"factor": str(factor), "pro_rata": str(base.exact), "amount": str(exact)},
            ),
        ),
    )


def fee_check(fee: Decimal, rule: JurisdictionRule) -> str | None:
    """The finding when a contract asks for a fee its state's rule forbids or caps lower; None when it may."""
    if not rule.fee_allowed and fee > 0:
        return f"The contract's fee of {money(fee)} is not allowed by {rule.name} ({rule.citation})."
    if rule.fee_allowed and rule.fee_cap is not None and fee > rule.fee_cap:
        return f"The contract's fee of {money(fee)} is above the {rule.name} cap of {money(rule.fee_cap)}."
    return None


def method_check(method: str, rule: JurisdictionRule) -> str | None:
    """The finding when the rule lists the methods allowed and ``method`` is not one of them."""
    if rule.methods_allowed and method not in rule.methods_allowed:
        return f"{rule.name} allows {', '.join(rule.methods_allowed)}, not {method} ({rule.citation})."
    return None


def capped_fee(fee: Decimal, gross: Decimal, rule: JurisdictionRule) -> tuple[Decimal, list[Step], list[str]]:
    """The fee actually kept: the contract's fee, capped by the rule, never more than the refund itself.

    Returns the fee, its steps, and flags for a person when the contract asks for more than the law allows.
    """
    steps: list[Step] = []
    finding = fee_check(fee, rule)
    flags: list[str] = [] if finding is None else [finding]
    allowed = fee
    if not rule.fee_allowed:
        allowed = ZERO
        steps.append(Step(text=f"Fee: {rule.name} allows no cancellation fee ({rule.citation}).", values={}))
    elif rule.fee_cap is not None and fee > rule.fee_cap:
        allowed = rule.fee_cap
        steps.append(
            Step(
                text=f"Fee: the contract's {money(fee)} is capped at {money(rule.fee_cap)} by {rule.name} ({rule.citation}).",
                values={"contract_fee": str(fee), "fee_cap": str(rule.fee_cap)},
            )
        )
    applied = min(allowed, gross)
    if applied < allowed:
        steps.append(
            Step(text=f"Fee: limited to the refund of {money(gross)}, so it never turns negative.", values={})
        )
    steps.append(
        Step(
            text=f"Refund: {money(gross)} − fee {money(applied)} = {money(gross - applied)}.",
            values={
                "refund_before_fee": str(gross),
                "fee_applied": str(applied),
                "refund": str(gross - applied),
            },
        )
    )
    return applied, steps, flags


def _method_calculation(inputs: RefundInputs, rule: JurisdictionRule) -> Calculation:
    assert inputs.premium is not None and inputs.term_months is not None
    dates = (inputs.premium, inputs.contract_date, inputs.cancel_date, inputs.term_months)
    match inputs.method:
        case "Pro-Rata":
            return pro_rata(*dates, rule.pro_rata_basis)
        case "Rule of 78s":
            return rule_of_78s(*dates)
        case "Actuarial":
            assert inputs.apr is not None
            return actuarial(*dates, inputs.apr)
        case "Short-Rate":
            return short_rate(*dates, rule.short_rate_factor, rule.pro_rata_basis)
    raise ValueError(f"no calculation for the method {inputs.method!r}")


def _missing(inputs: RefundInputs, rule: JurisdictionRule | None) -> list[str]:
    missing = []
    if inputs.premium is None:
        missing.append("the GAP premium")
    if inputs.state is None or rule is None:
        missing.append("the state whose law governs the contract")
    return missing


def _method_missing(inputs: RefundInputs) -> list[str]:
    missing = []
    if inputs.term_months is None:
        missing.append("the term in months")
    if inputs.method in (None, "Unknown"):
        missing.append("the refund method")
    if inputs.method == "Actuarial" and inputs.apr is None:
        missing.append("needs APR: the Actuarial method works from the loan's APR")
    return missing


def _needs_information(missing: list[str], steps: list[Step], rule: JurisdictionRule | None) -> RefundQuote:
    steps.append(Step(text="Needs information: " + "; ".join(missing) + ".", values={}))
    return RefundQuote(
        verdict="needs information",
        eligible=None,
        refund=None,
        gross_refund=None,
        fee_applied=ZERO,
        method=None,
        rule=rule,
        reasons=tuple(missing),
        flags=(),
        pay_by=None,
        steps=tuple(steps),
    )


def _not_eligible(
    reason: str, steps: list[Step], rule: JurisdictionRule | None, method: str | None
) -> RefundQuote:
    steps.append(Step(text=f"Not eligible: {reason}.", values={}))
    return RefundQuote(
        verdict="not eligible",
        eligible=False,
        refund=ZERO,
        gross_refund=ZERO,
        fee_applied=ZERO,
        method=method,
        rule=rule,
        reasons=(reason,),
        flags=(),
        pay_by=None,
        steps=tuple(steps),
    )


def _request_window(inputs: RefundInputs, rule: JurisdictionRule) -> tuple[list[Step], list[str]]:
    """A late written request is flagged for a person to decide, never refused by the program."""
    if rule.written_request_days is None:
        return [], []
    if inputs.request_date is None:
        return [
            Step(
                text=f"Written request: {rule.name} allows {rule.written_request_days} days after the loan ends; "
                "no request date was given, so the window was not checked.",
                values={},
            )
        ], []
    late_by = (inputs.request_date - inputs.cancel_date).days - rule.written_request_days
    if late_by <= 0:
        return [
            Step(
                text=f"Written request: received {inputs.request_date}, within the {rule.written_request_days} days "
                f"{rule.name} allows after the loan ends.",
                values={"request_date": str(inputs.request_date)},
            )
        ], []
    flag = (
        f"The written request arrived {inputs.request_date}, {late_by} days after the {rule.written_request_days}-day "
        f"window of {rule.name} ({rule.citation}) closed: a person should decide."
    )
    return [Step(text=f"Written request: {flag}", values={"request_date": str(inputs.request_date)})], [flag]


def quote_refund(inputs: RefundInputs, rule: JurisdictionRule | None) -> RefundQuote:
    """The verdict, the amount and the steps for one cancellation under ``rule`` (the state's rule in force).

    Order: a total loss with a benefit paid is not eligible; without premium or state nothing can be
    said; within the free look the whole premium comes back; otherwise the term, method (and APR for
    Actuarial) are needed, the method computes the unearned premium, and the capped fee comes off it.
    """
    reason_label = REASON_LABELS[inputs.reason]
    steps = [
        Step(
            text=f"Reason: {reason_label}; cancelled {inputs.cancel_date}.", values={"reason": inputs.reason}
        )
    ]
    if rule is not None:
        unlisted = (
            f"no rule for {STATE_NAMES[inputs.state]} is on file, so "
            if rule.is_default and inputs.state
            else ""
        )
        steps.append(
            Step(
                text=f"Rule: {unlisted}{rule.name} in force from {rule.effective_from} applies ({rule.citation}).",
                values={"state": rule.state, "effective_from": str(rule.effective_from)},
            )
        )
    if inputs.reason == "total-loss-benefit-paid":
        return _not_eligible(
            "a total loss with a GAP benefit paid: the benefit settled the contract",
            steps,
            rule,
            inputs.method,
        )
    missing = _missing(inputs, rule)
    if missing:
        return _needs_information(missing, steps, rule)
    assert rule is not None and inputs.premium is not None
    days_in = (inputs.cancel_date - inputs.contract_date).days
    if rule.free_look_days and days_in <= rule.free_look_days:
        calculation, method, fee = free_look(inputs.premium, rule.free_look_days), "Free look", None
    else:
        missing = _method_missing(inputs)
        if missing:
            return _needs_information(missing, steps, rule)
        assert inputs.term_months is not None and inputs.method is not None
        end = term_end(inputs.contract_date, inputs.term_months)
        if inputs.cancel_date >= end:
            return _not_eligible(
                f"the coverage ended on {end}, by the cancellation date, so no premium is unearned",
                steps,
                rule,
                inputs.method,
            )
        calculation, method, fee = _method_calculation(inputs, rule), inputs.method, inputs.fee or ZERO
    steps.extend(calculation.steps)
    gross = to_cents(calculation.exact)
    flags: list[str] = []
    disallowed = None if method == "Free look" else method_check(method, rule)
    if disallowed is not None:
        flags.append(disallowed)
    if fee is None:
        applied = ZERO
    else:
        applied, fee_steps, fee_flags = capped_fee(fee, gross, rule)
        steps.extend(fee_steps)
        flags.extend(fee_flags)
    window_steps, window_flags = _request_window(inputs, rule)
    steps.extend(window_steps)
    flags.extend(window_flags)
    pay_by = None
    if rule.payment_due_days is not None:
        # Counted from the request; a request received before the cancellation (asked in advance) counts
        # from the cancellation: a refund is never due before the contract has ended.
        from_request = inputs.request_date is not None and inputs.request_date >= inputs.cancel_date
        start = max(inputs.request_date or inputs.cancel_date, inputs.cancel_date)
        pay_by = start + dt.timedelta(days=rule.payment_due_days)
        steps.append(
            Step(
                text=f"Payment due by {pay_by}: {rule.payment_due_days} days after the "
                f"{'request' if from_request else 'cancellation'} under {rule.name}.",
                values={"pay_by": str(pay_by)},
            )
        )
    return RefundQuote(
        verdict="eligible",
        eligible=True,
        refund=gross - applied,
        gross_refund=gross,
        fee_applied=applied,
        method=method,
        rule=rule,
        reasons=(f"{reason_label}: the unearned premium is refundable",),
        flags=tuple(flags),
        pay_by=pay_by,
        steps=tuple(steps),
    )
