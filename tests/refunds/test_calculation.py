"""The refund arithmetic, checked against amounts worked out by hand and against its invariants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.extraction.types import REFUND_METHODS
from services.refunds.calculation import (
    actuarial,
    add_months,
    months_elapsed,
    pro_rata_days,
    pro_rata_months,
    quote_refund,
    rule_of_78s,
    to_cents,
)
from services.refunds.types import REFUND_REASONS, JurisdictionRule, RefundInputs

CONTRACT = dt.date(2024, 1, 15)
AFTER_24_MONTHS = dt.date(2026, 1, 15)
PREMIUM = Decimal("500.00")

OHIO = JurisdictionRule(state="OH", effective_from=dt.date(2000, 1, 1), citation="test rule")
ARKANSAS = JurisdictionRule(
    state="AR",
    effective_from=dt.date(2000, 1, 1),
    fee_cap=Decimal("75.00"),
    written_request_days=90,
    citation="Ark. Code §4-90-806",
)
SOUTH_CAROLINA = JurisdictionRule(
    state="SC", effective_from=dt.date(2000, 1, 1), fee_allowed=False, citation="S.C. Code §37-30-150"
)
CALIFORNIA = JurisdictionRule(
    state="CA", effective_from=dt.date(2000, 1, 1), free_look_days=30, fee_allowed=False, citation="AB 2311"
)


def inputs(**changes: object) -> RefundInputs:
    values: dict[str, object] = {
        "premium": PREMIUM,
        "term_months": 60,
        "contract_date": CONTRACT,
        "cancel_date": AFTER_24_MONTHS,
        "method": "Rule of 78s",
        "fee": Decimal("0.00"),
        "state": "OH",
        "reason": "payoff",
    }
    values.update(changes)
    return RefundInputs.model_validate(values)


# --- worked examples ---------------------------------------------------------------------------


def test_rule_of_78s_after_exactly_24_of_60_months() -> None:
    # U = 36, T = 60: 500 × 36·37 ÷ (60·61) = 500 × 1332 ÷ 3660 = 181.967… → 181.97
    assert to_cents(rule_of_78s(PREMIUM, CONTRACT, AFTER_24_MONTHS, 60).exact) == Decimal("181.97")


def test_pro_rata_on_months_after_exactly_24_of_60_months() -> None:
    assert to_cents(pro_rata_months(PREMIUM, CONTRACT, AFTER_24_MONTHS, 60).exact) == Decimal("300.00")


def test_pro_rata_on_days_counts_leap_days() -> None:
    # 2024-01-15 → 2029-01-15 is 1827 days (two Feb 29ths); 1096 of them lie after 2026-01-15.
    # 500 × 1096 ÷ 1827 = 299.945…
    result = pro_rata_days(PREMIUM, CONTRACT, AFTER_24_MONTHS, 60)
    assert to_cents(result.exact) == Decimal("299.95")
    assert result.steps[0].values == {
        "term_end": "2029-01-15",
        "total_days": "1827",
        "unexpired_days": "1096",
    }


def test_a_begun_month_counts_as_elapsed_and_the_steps_say_so() -> None:
    one_day_later = AFTER_24_MONTHS + dt.timedelta(days=1)
    assert months_elapsed(CONTRACT, AFTER_24_MONTHS, 60) == 24
    assert months_elapsed(CONTRACT, one_day_later, 60) == 25
    result = rule_of_78s(PREMIUM, CONTRACT, one_day_later, 60)
    # U = 35: 500 × 35·36 ÷ 3660 = 172.131…
    assert to_cents(result.exact) == Decimal("172.13")
    assert "a month counts as elapsed once it has begun" in result.steps[0].text


def test_month_end_contract_dates_end_on_the_shorter_months_last_day() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert months_elapsed(dt.date(2024, 1, 31), dt.date(2024, 2, 29), 12) == 1


def _amortized_balance_share(apr: float, term: int, elapsed: int) -> float:
    """An independent schedule: pay level instalments month by month and add up the opening balances."""
    rate = apr / 1200
    payment = rate / (1 - (1 + rate) ** -term)
    balance, openings = 1.0, []
    for _ in range(term):
        openings.append(balance)
        balance = balance * (1 + rate) - payment
    return sum(openings[elapsed:]) / sum(openings)


@pytest.mark.parametrize(
    ("apr", "term", "months_in"), [(7.9, 60, 24), (12, 12, 6), (24.99, 84, 1), (3, 36, 35)]
)
def test_actuarial_matches_an_amortization_schedule(apr: float, term: int, months_in: int) -> None:
    cancel = add_months(CONTRACT, months_in)
    result = actuarial(PREMIUM, CONTRACT, cancel, term, Decimal(str(apr)))
    expected = Decimal(str(500 * _amortized_balance_share(apr, term, months_in)))
    assert abs(to_cents(result.exact) - expected) < Decimal("0.01")


def test_actuarial_at_zero_percent_is_the_rule_of_78s_and_with_interest_refunds_more() -> None:
    at_zero = actuarial(PREMIUM, CONTRACT, AFTER_24_MONTHS, 60, Decimal(0))
    with_interest = actuarial(PREMIUM, CONTRACT, AFTER_24_MONTHS, 60, Decimal("7.9"))
    assert to_cents(at_zero.exact) == Decimal("181.97")
    assert Decimal("181.97") < to_cents(with_interest.exact) < Decimal("300.00")


# --- the quote ---------------------------------------------------------------------------------


def test_quote_rule_of_78s_in_a_state_without_its_own_rule() -> None:
    quote = quote_refund(inputs(), OHIO)
    assert (quote.verdict, quote.eligible, quote.refund, quote.method) == (
        "eligible",
        True,
        Decimal("181.97"),
        "Rule of 78s",
    )
    assert any("Rule of 78s" in step.text and "$181.97" in step.text for step in quote.steps)


def test_short_rate_is_the_factor_times_pro_rata_on_the_states_basis() -> None:
    months_rule = OHIO.model_copy(update={"pro_rata_basis": "months"})
    assert quote_refund(inputs(method="Short-Rate"), months_rule).refund == Decimal("270.00")
    # On days: 0.90 × 299.945… = 269.950…
    assert quote_refund(inputs(method="Short-Rate"), OHIO).refund == Decimal("269.95")


def test_arkansas_caps_the_fee_at_75_and_flags_the_contract() -> None:
    quote = quote_refund(inputs(state="AR", method="Pro-Rata", fee=Decimal("100.00")), ARKANSAS)
    assert quote.gross_refund == Decimal("299.95")
    assert quote.fee_applied == Decimal("75.00")
    assert quote.refund == Decimal("224.95")
    assert any("above the Arkansas cap of $75.00" in flag for flag in quote.flags)


def test_south_carolina_forbids_any_fee() -> None:
    quote = quote_refund(inputs(state="SC", fee=Decimal("50.00")), SOUTH_CAROLINA)
    assert (quote.fee_applied, quote.refund) == (Decimal("0.00"), Decimal("181.97"))
    assert any("not allowed by South Carolina" in flag for flag in quote.flags)


def test_a_fee_larger_than_the_refund_leaves_zero_not_a_negative_refund() -> None:
    late = add_months(CONTRACT, 59)
    quote = quote_refund(inputs(cancel_date=late, fee=Decimal("50.00")), OHIO)
    # U = 1: 500 × 2 ÷ 3660 = 0.27
    assert (quote.gross_refund, quote.fee_applied, quote.refund) == (
        Decimal("0.27"),
        Decimal("0.27"),
        Decimal("0.00"),
    )


def test_free_look_returns_the_whole_premium_without_a_fee_even_with_no_method() -> None:
    quote = quote_refund(
        inputs(state="CA", cancel_date=CONTRACT + dt.timedelta(days=30), method="Unknown", fee=Decimal("50")),
        CALIFORNIA,
    )
    assert (quote.refund, quote.fee_applied, quote.method) == (PREMIUM, Decimal("0.00"), "Free look")
    after = quote_refund(inputs(state="CA", cancel_date=CONTRACT + dt.timedelta(days=31)), CALIFORNIA)
    assert after.method == "Rule of 78s"


def test_a_total_loss_with_a_benefit_paid_is_not_eligible() -> None:
    quote = quote_refund(inputs(reason="total-loss-benefit-paid"), OHIO)
    assert (quote.verdict, quote.eligible, quote.refund) == ("not eligible", False, Decimal("0.00"))
    assert "benefit" in quote.reasons[0]
    assert quote_refund(inputs(reason="total-loss-no-benefit"), OHIO).refund == Decimal("181.97")


def test_cancelling_after_the_term_has_ended_is_not_eligible() -> None:
    quote = quote_refund(inputs(cancel_date=add_months(CONTRACT, 60)), OHIO)
    assert (quote.eligible, quote.refund) == (False, Decimal("0.00"))
    assert "2029-01-15" in quote.reasons[0]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"method": "Unknown"}, "the refund method"),
        ({"method": None}, "the refund method"),
        ({"term_months": None}, "the term in months"),
        ({"state": None}, "the state whose law governs the contract"),
        ({"premium": None}, "the GAP premium"),
        ({"method": "Actuarial"}, "needs APR"),
    ],
)
def test_missing_information_gives_no_amount_and_names_what_is_missing(
    changes: dict[str, object], named: str
) -> None:
    quote = quote_refund(inputs(**changes), None if changes.get("state", "OH") is None else OHIO)
    assert (quote.verdict, quote.eligible, quote.refund) == ("needs information", None, None)
    assert any(reason.startswith(named) for reason in quote.reasons)
    assert named in quote.steps[-1].text


def test_a_late_written_request_is_flagged_for_a_person_not_refused() -> None:
    in_time = quote_refund(inputs(state="AR", request_date=AFTER_24_MONTHS + dt.timedelta(days=90)), ARKANSAS)
    late = quote_refund(inputs(state="AR", request_date=AFTER_24_MONTHS + dt.timedelta(days=91)), ARKANSAS)
    assert in_time.flags == ()
    assert (late.eligible, late.refund) == (True, Decimal("181.97"))
    assert any(
        "1 days after the 90-day window" in flag and "a person should decide" in flag for flag in late.flags
    )


def test_a_method_the_state_does_not_allow_is_flagged() -> None:
    pro_rata_only = OHIO.model_copy(update={"methods_allowed": ("Pro-Rata",)})
    quote = quote_refund(inputs(), pro_rata_only)
    assert quote.refund == Decimal("181.97")
    assert any("not Rule of 78s" in flag for flag in quote.flags)


def test_inputs_refuse_dates_out_of_order_and_unknown_states() -> None:
    with pytest.raises(ValueError, match="before the contract date"):
        inputs(cancel_date=CONTRACT - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="not a US state code"):
        inputs(state="XY")
    assert inputs(state="oh").state == "OH"


# --- properties --------------------------------------------------------------------------------

PREMIUMS = st.decimals(
    min_value=0, max_value=Decimal("20000"), places=2, allow_nan=False, allow_infinity=False
)
FEES = st.decimals(min_value=0, max_value=Decimal("1000"), places=2, allow_nan=False, allow_infinity=False)
TERMS = st.integers(min_value=1, max_value=120)
CONTRACT_DATES = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31))
OFFSETS = st.integers(min_value=0, max_value=120 * 31 + 60)
APRS = st.decimals(min_value=0, max_value=Decimal("36"), places=2, allow_nan=False, allow_infinity=False)
METHODS = st.sampled_from([m for m in REFUND_METHODS if m != "Unknown"])


@st.composite
def rules(draw: st.DrawFn) -> JurisdictionRule:
    fee_allowed = draw(st.booleans())
    return JurisdictionRule(
        state="OH",
        effective_from=dt.date(2000, 1, 1),
        free_look_days=draw(st.sampled_from([0, 30, 60])),
        fee_allowed=fee_allowed,
        fee_cap=draw(st.none() | FEES) if fee_allowed else None,
        pro_rata_basis=draw(st.sampled_from(["days", "months"])),
        short_rate_factor=draw(st.sampled_from([Decimal("0.90"), Decimal("0.75"), Decimal("1")])),
        citation="property rule",
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[RefundInputs, JurisdictionRule]:
    contract = draw(CONTRACT_DATES)
    return (
        RefundInputs(
            premium=draw(PREMIUMS),
            term_months=draw(TERMS),
            contract_date=contract,
            cancel_date=contract + dt.timedelta(days=draw(OFFSETS)),
            method=draw(METHODS),
            fee=draw(FEES),
            state="OH",
            reason=draw(st.sampled_from(REFUND_REASONS)),
            apr=draw(APRS),
        ),
        draw(rules()),
    )


@given(cases())
def test_the_refund_is_between_zero_and_the_premium(case: tuple[RefundInputs, JurisdictionRule]) -> None:
    quote = quote_refund(*case)
    assert quote.refund is not None and case[0].premium is not None
    assert Decimal(0) <= quote.refund <= case[0].premium


@given(cases(), st.integers(min_value=1, max_value=400))
def test_the_refund_never_grows_as_the_cancellation_moves_later(
    case: tuple[RefundInputs, JurisdictionRule], later_by: int
) -> None:
    request, rule = case
    later = request.model_copy(update={"cancel_date": request.cancel_date + dt.timedelta(days=later_by)})
    first, second = quote_refund(request, rule), quote_refund(later, rule)
    assert first.refund is not None and second.refund is not None
    assert second.refund <= first.refund


@given(PREMIUMS, TERMS, CONTRACT_DATES, OFFSETS)
def test_rule_of_78s_never_exceeds_pro_rata_on_months(
    premium: Decimal, term: int, contract: dt.date, offset: int
) -> None:
    cancel = contract + dt.timedelta(days=offset)
    assert (
        rule_of_78s(premium, contract, cancel, term).exact
        <= pro_rata_months(premium, contract, cancel, term).exact
    )


@given(cases())
def test_the_fee_never_exceeds_the_states_cap(case: tuple[RefundInputs, JurisdictionRule]) -> None:
    request, rule = case
    quote = quote_refund(request, rule)
    if not rule.fee_allowed:
        assert quote.fee_applied == 0
    elif rule.fee_cap is not None:
        assert quote.fee_applied <= rule.fee_cap


@given(cases(), st.integers(min_value=1, max_value=90))
def test_the_free_look_gives_the_whole_premium(
    case: tuple[RefundInputs, JurisdictionRule], days: int
) -> None:
    request, rule = case
    rule = rule.model_copy(update={"free_look_days": 90})
    request = request.model_copy(
        update={
            "cancel_date": request.contract_date + dt.timedelta(days=days),
            "method": "Unknown",
            "term_months": None,
        }
    )
    quote = quote_refund(request, rule)
    if request.reason == "total-loss-benefit-paid":
        assert quote.eligible is False
    else:
        assert (quote.refund, quote.fee_applied) == (request.premium, 0)
