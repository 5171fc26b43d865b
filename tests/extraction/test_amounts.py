"""Money in text and in user input: read what is meant, refuse what is ambiguous."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.extraction.amounts import (
    AmountError,
    amount_mentioned,
    find_amounts,
    parse_amount,
    read_amount,
    states_no_fee,
)

AMOUNTS = st.decimals(
    min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)

_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *(
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _in_words(number: int) -> str:
    """English words for 0..999,999 as contracts write them ("one thousand two hundred fifty")."""
    if number >= 1000:
        rest = number % 1000
        return f"{_in_words(number // 1000)} thousand" + (f" {_in_words(rest)}" if rest else "")
    if number >= 100:
        rest = number % 100
        return f"{_ONES[number // 100]} hundred" + (f" {_in_words(rest)}" if rest else "")
    if number >= 20:
        return _TENS[number // 10] + (f"-{_ONES[number % 10]}" if number % 10 else "")
    return _ONES[number]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GAP Waiver Charge: $1,250.00", ["1250.00"]),
        ("USD 1250", ["1250.00"]),
        ("a fee of $ 750", ["750.00"]),
        ("1250 dollars", ["1250.00"]),
        ("Seven Hundred Fifty and 00/100 Dollars", ["750.00"]),
        ("one thousand two hundred fifty dollars", ["1250.00"]),
        ("Fifty Dollars ($50.00)", ["50.00", "50.00"]),
        ("Twenty-Five Dollars and fifty cents", ["25.50"]),
        ("OCR: $1 ,250.00 and S1,095.00 and $1,O95.00", ["1250.00", "1095.00", "1095.00"]),
        ("a total of 795.00 in the table", ["795.00"]),
        ("OCR read the commas as points: $12.480.00 and S3.105.25", ["12480.00", "3105.25"]),
        ("the sum of TWO THOU-\nSAND ONE HUNDRED AND 00/100 DOLLARS", ["2100.00"]),
        ("three hundred sixty-\nfive dollars", ["365.00"]),
        ("Three Hundred Sixty-\nFive Dollars", ["365.00"]),
    ],
)
def test_find_amounts_reads_digits_and_words(text: str, expected: list[str]) -> None:
    assert [str(found.value) for found in find_amounts(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "1.250,00",
        "$1.250,00",
        "12.345",
        "1.250.00",
        "$1.250.000",
        "$1,250.5",
        "60 days",
        "10.00%",
        "sixty (60) months",
        "1,2,3",
        "00/100",
    ],
)
def test_find_amounts_does_not_guess(text: str) -> None:
    assert find_amounts(text) == []


def test_found_offsets_cover_the_amount() -> None:
    text = "Charge: $1,250.00 due"
    [found] = find_amounts(text)
    assert text[found.start : found.end] == "$1,250.00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1250", "1250.00"),
        ("1,250.00", "1250.00"),
        ("$ 1,250.5", "1250.50"),
        (" $0 ", "0.00"),
        ("99999999.99", "99999999.99"),
    ],
)
def test_parse_amount_accepts_plain_money(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12.345", "two decimal places"),
        ("-5", "negative"),
        ("(50.00)", "negative"),
        ("1,2,3", "Commas"),
        ("1.250,00", "point for cents"),
        ("abc", "digits"),
        ("", "Enter an amount"),
        ("NaN", "digits"),
        ("1e5", "digits"),
        ("9" * 100, "too long"),
        ("100000000", "too large"),
        ("١٢٣", "digits"),
    ],
)
def test_parse_amount_refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(AmountError, match=reason):
        parse_amount(text)


@given(AMOUNTS, st.sampled_from(["{:f}", "{:,f}", "${:,f}", "$ {:f}", "  {:,f}  "]))
def test_parse_amount_round_trips_any_amount_however_formatted(amount: Decimal, template: str) -> None:
    assert parse_amount(template.format(amount)) == amount
    if amount == amount.to_integral_value():
        assert parse_amount(f"{int(amount):,}") == amount


@given(st.text(max_size=60))
def test_parse_amount_raises_nothing_but_amount_error(text: str) -> None:
    try:
        value = parse_amount(text)
    except AmountError:
        return
    assert Decimal(0) <= value <= Decimal("99999999.99")
    assert value.as_tuple().exponent == -2


@given(
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False).filter(lambda d: d * 100 % 1 != 0)
)
def test_parse_amount_never_accepts_fractions_of_a_cent(amount: Decimal) -> None:
    with pytest.raises(AmountError):
        parse_amount(f"{amount:f}")


@given(st.decimals(max_value=Decimal("-0.01"), min_value=-(10**8), places=2, allow_nan=False))
def test_parse_amount_never_accepts_negatives(amount: Decimal) -> None:
    with pytest.raises(AmountError):
        parse_amount(f"{amount:f}")


@given(st.text(max_size=80))
def test_read_amount_raises_nothing_but_amount_error(text: str) -> None:
    try:
        value = read_amount(text)
    except AmountError:
        return
    assert value >= 0


@given(st.integers(min_value=1, max_value=999_999))
def test_worded_amounts_are_read_exactly(number: int) -> None:
    found = find_amounts(f"the sum of {_in_words(number)} dollars is due")
    assert [amount.value for amount in found] == [Decimal(number).quantize(Decimal("0.01"))]


def test_read_amount_is_lenient_about_form_only() -> None:
    assert read_amount("Fifty Dollars ($50.00)") == Decimal("50.00")
    assert read_amount("1250 USD") == Decimal("1250.00")
    assert read_amount("fifty") == Decimal("50.00")
    with pytest.raises(AmountError, match="negative"):
        read_amount("-50")
    with pytest.raises(AmountError, match="more than one"):
        read_amount("$50 or $75")


def test_amount_mentioned_accepts_table_cells_without_currency() -> None:
    assert amount_mentioned("GAP Waiver .......... 1,250", Decimal("1250.00"))
    assert amount_mentioned("a fee of fifty dollars", Decimal("50.00"))
    assert not amount_mentioned("a fee of $75.00", Decimal("50.00"))


@pytest.mark.parametrize(
    "text",
    [
        "There is no cancellation fee.",
        "You may cancel at any time without any fee.",
        "We will not charge a fee for cancellation.",
        "No fee will be charged.",
        "cancel at any time without charge",
        "Cancellation Fee: None",
        "there is no can-\ncellation fee",
        "The Creditor will not charge a cancellation or administrative fee.",
        "without any cancellation or processing fee",
    ],
)
def test_no_fee_wording(text: str) -> None:
    assert states_no_fee(text)


def test_a_fee_is_not_no_fee() -> None:
    assert not states_no_fee("A $50.00 cancellation fee will be retained.")
