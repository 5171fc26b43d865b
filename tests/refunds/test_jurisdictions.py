"""The shipped jurisdiction rules, reading rules from CSV, and choosing the rule in force on a date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.errors import InvalidInput
from services.refunds.calculation import quote_refund
from services.refunds.jurisdictions import CSV_COLUMNS, read_rules_csv, rule_in_force, starter_rules
from services.refunds.types import DEFAULT_STATE, JurisdictionRule, RefundInputs

HEADER = ",".join(CSV_COLUMNS)


def _by_state() -> dict[str, JurisdictionRule]:
    return {rule.state: rule for rule in starter_rules()}


def test_the_starter_set_holds_the_issue_s_states_with_citations_and_a_default() -> None:
    rules = _by_state()
    assert set(rules) == {DEFAULT_STATE, "SC", "AR", "CA", "MS"}
    assert all(rule.citation for rule in rules.values())
    assert [rule.state for rule in rules.values() if rule.is_default] == [DEFAULT_STATE]
    assert "not law" in rules[DEFAULT_STATE].citation

    assert not rules["SC"].fee_allowed and "§37-30-150" in rules["SC"].citation
    assert (rules["AR"].fee_cap, rules["AR"].written_request_days) == (Decimal("75.00"), 90)
    assert "§4-90-806" in rules["AR"].citation
    california = rules["CA"]
    assert (california.free_look_days, california.fee_allowed, california.written_request_days) == (
        30,
        False,
        None,
    )
    assert "AB 2311" in california.citation
    assert rules["MS"].free_look_days == 30 and "SB 2929" in rules["MS"].citation


def test_the_rule_in_force_on_the_contract_date_applies() -> None:
    base = JurisdictionRule(state="OH", effective_from=dt.date(2020, 1, 1), citation="old")
    newer = base.model_copy(update={"effective_from": dt.date(2024, 7, 1), "citation": "new"})
    default = JurisdictionRule(
        state="*", effective_from=dt.date(1900, 1, 1), citation="default", is_default=True
    )
    rules = [newer, default, base]
    assert rule_in_force(rules, "OH", dt.date(2024, 6, 30)) == base
    assert rule_in_force(rules, "OH", dt.date(2024, 7, 1)) == newer
    assert rule_in_force(rules, "OH", dt.date(2019, 12, 31)) == default
    assert rule_in_force(rules, "TX", dt.date(2024, 7, 1)) == default
    assert rule_in_force([base], "OH", dt.date(2019, 1, 1)) is None


def test_california_contracts_before_ab_2311_fall_back_to_the_default() -> None:
    assert rule_in_force(starter_rules(), "CA", dt.date(2022, 12, 31)).is_default  # type: ignore[union-attr]
    assert rule_in_force(starter_rules(), "CA", dt.date(2023, 1, 1)).state == "CA"  # type: ignore[union-attr]


def test_a_quote_under_the_shipped_arkansas_rule_caps_the_fee() -> None:
    contract = dt.date(2024, 1, 15)
    request = RefundInputs(
        premium=Decimal("500.00"),
        term_months=60,
        contract_date=contract,
        cancel_date=dt.date(2026, 1, 15),
        method="Rule of 78s",
        fee=Decimal("100.00"),
        state="AR",
        reason="payoff",
    )
    quote = quote_refund(request, rule_in_force(starter_rules(), "AR", contract))
    assert (quote.fee_applied, quote.refund) == (Decimal("75.00"), Decimal("106.97"))


def test_reading_csv_takes_defaults_for_empty_cells_and_lists_methods() -> None:
    text = f"{HEADER}\nTX,2025-01-01,,,,Pro-Rata;Actuarial,months,,,,Tex. test,,\n"
    [rule] = read_rules_csv(text)
    assert rule.state == "TX" and rule.methods_allowed == ("Pro-Rata", "Actuarial")
    assert (rule.fee_allowed, rule.pro_rata_basis, rule.short_rate_factor) == (
        True,
        "months",
        Decimal("0.90"),
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("XY,2025-01-01,,,,,,,,,c,,", "line 2: state"),
        ("TX,2025-13-01,,,,,,,,,c,,", "line 2: effective_from"),
        ("TX,2025-01-01,,false,10,,,,,,c,,", "cannot also cap it"),
        ("TX,2025-01-01,,,,Rule of 79s,,,,,c,,", "methods_allowed"),
        ("TX,2025-01-01,,,,,,,,,c,,\nTX,2025-01-01,,,,,,,,,c,,", "two rules for TX from 2025-01-01"),
        ("TX,2025-01-01,,,,,,,,,,,", "citation"),
    ],
)
def test_a_bad_rules_file_is_refused_whole_with_the_line_and_the_problem(rows: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_rules_csv(f"{HEADER}\n{rows}\n")


def test_a_file_with_another_header_is_refused_naming_the_columns() -> None:
    with pytest.raises(InvalidInput, match="unknown columns colour"):
        read_rules_csv("state,effective_from,citation,colour\nTX,2025-01-01,c,red\n")
