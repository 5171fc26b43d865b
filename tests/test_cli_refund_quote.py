"""`refund-review refund-quote`: a quote from the shipped rules, with no database, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.hostile import hidden_characters

WORKED_EXAMPLE = (
    *("refund-quote", "--premium", "500", "--term-months", "60"),
    *("--contract-date", "2024-01-15", "--cancel-date", "2026-01-15"),
    *("--method", "Rule of 78s", "--fee", "0", "--state", "OH", "--reason", "payoff"),
)


def _quote(*args: str) -> tuple[int, str, str]:
    # An unreachable database URL proves the command never connects to one.
    result = CliRunner().invoke(main, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", *args])
    return result.exit_code, result.stdout, result.stderr


def _with(**changes: str) -> list[str]:
    args = list(WORKED_EXAMPLE)
    for option, value in changes.items():
        flag = "--" + option.replace("_", "-")
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


def test_the_worked_example_prints_verdict_amount_and_steps() -> None:
    code, out, err = _quote(*WORKED_EXAMPLE)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Eligible: refund $181.97 by Rule of 78s (fee $0.00)."
    assert "no rule for Ohio is on file, so the default rule" in out
    assert "24 of 60 elapsed" in out and "a month counts as elapsed once it has begun" in out
    assert "$500.00 × 1332 ÷ 3660 = $181.97" in out


def test_json_gives_the_documented_keys_with_decimals_as_strings() -> None:
    code, out, _ = _quote(*WORKED_EXAMPLE, "--json")
    assert code == 0
    data = json.loads(out)
    assert {"eligible", "refund", "fee_applied", "method", "reasons", "steps"} <= set(data)
    assert (data["eligible"], data["refund"], data["fee_applied"], data["method"]) == (
        True,
        "181.97",
        "0.00",
        "Rule of 78s",
    )
    assert data["steps"][-1]["values"]["refund"] == "181.97"


def test_arkansas_caps_the_fee_and_flags_a_late_request() -> None:
    code, out, _ = _quote(*_with(state="AR", fee="100", request_date="2026-06-01"), "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["refund"], data["fee_applied"]) == ("106.97", "75.00")
    assert any("47 days after the 90-day window" in flag for flag in data["flags"])
    assert data["rule"]["citation"] == "Ark. Code §4-90-806"


def test_missing_information_and_ineligibility_have_null_and_false() -> None:
    _, out, _ = _quote(*_with(method="Unknown"), "--json")
    unknown = json.loads(out)
    assert (unknown["eligible"], unknown["refund"], unknown["reasons"]) == (None, None, ["the refund method"])
    _, out, _ = _quote(*_with(method="Actuarial"))
    assert out.startswith("Needs information: needs APR")
    _, out, _ = _quote(*_with(method="Actuarial", apr="7.9"))
    assert out.startswith("Eligible: refund $") and "7.9% APR" in out
    _, out, _ = _quote(*_with(reason="total-loss-benefit-paid"), "--json")
    assert (json.loads(out)["eligible"], json.loads(out)["refund"]) == (False, "0.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"premium": "five hundred"}, "Invalid value for '--premium'"),
        ({"premium": "-500"}, "cannot be negative"),
        (
            {"cancel_date": "2023-01-15"},
            "the cancellation date 2023-01-15 is before the contract date 2024-01-15",
        ),
        ({"contract_date": "15/01/2024"}, "Invalid value for '--contract-date'"),
        ({"state": "ZZ"}, "--state: 'ZZ' is not a US state code"),
        ({"apr": "lots"}, "give the APR in percent"),
        ({"method": "Rule of 79s"}, "Invalid value for '--method'"),
        # A date a calculation cannot count from: a sentence, never a traceback (a term ending past the
        # year 9999 broke the calculation).
        (
            {"contract_date": "9999-01-15", "cancel_date": "9999-06-15", "term_months": "600"},
            "the contract date 9999-01-15 is outside the years 1900 to 2199; check the date",
        ),
        ({"contract_date": "0001-01-01"}, "the contract date 0001-01-01 is outside the years 1900 to 2199"),
        ({"cancel_date": "9999-12-31"}, "the cancellation date 9999-12-31 is outside the years"),
        ({"request_date": "9999-12-31"}, "the request date 9999-12-31 is outside the years"),
        ({"premium": "1e999999"}, "Invalid value for '--premium'"),
        ({"premium": "NaN"}, "Invalid value for '--premium'"),
        ({"premium": "Infinity"}, "Invalid value for '--premium'"),
        ({"premium": "500.001"}, "at most two decimal places"),
        ({"fee": "1e999999"}, "Invalid value for '--fee'"),
        ({"apr": "1e999999"}, "between 0 and 100"),
        ({"apr": "NaN"}, "between 0 and 100"),
        ({"apr": "-Infinity"}, "between 0 and 100"),
    ],
)
def test_malformed_input_gets_a_sentence_and_a_non_zero_exit(changes: dict[str, str], message: str) -> None:
    code, out, err = _quote(*_with(**changes))
    assert code == 2
    assert out == ""
    assert message in err


@pytest.mark.parametrize(
    "state",
    [
        "\x1b]0;pwned\x07",
        "O\x9b2JH",
        "\u202eHO",
        "[link=file:///etc/passwd]OH[/link]",
        "\x00OH",
        "O" * 100_000,
    ],
)
def test_hostile_input_never_reaches_the_terminal_raw_and_the_sentence_stays_short(state: str) -> None:
    code, out, err = _quote(*_with(state=state), "--json")
    assert (code, out) == (2, "")
    assert hidden_characters(err, allowed="\n") == [] and len(err) < 400
    assert "is not a US state code" in err


def test_json_never_holds_a_raw_control_character() -> None:
    code, out, _ = _quote(*_with(state="AR", fee="100", request_date="2026-06-01"), "--json")
    assert code == 0
    assert hidden_characters(out, allowed="\n") == []


def test_a_request_received_before_the_cancellation_is_due_counted_from_the_cancellation() -> None:
    """Asked in advance (a payoff arranged for next month): the refund cannot fall due before the contract
    ends, so the deadline counts from the cancellation (California: 60 days); before, it counted from
    the request and the refund was "overdue" before the loan was even paid off."""
    early = _with(state="CA", request_date="2025-12-01")
    code, out, _ = _quote(*early, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["pay_by"] == "2026-03-16"
    assert "60 days after the cancellation under California" in data["steps"][-1]["text"]
    code, out, _ = _quote(*_with(state="CA", request_date="2026-01-20"), "--json")
    assert json.loads(out)["pay_by"] == "2026-03-21"
