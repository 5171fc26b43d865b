"""Amounts as contracts print them: in digits ("$1,250.00") and in words ("One Thousand ... and 00/100 Dollars")."""

from __future__ import annotations

from decimal import Decimal

_ONES = (
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen",
)  # fmt: skip
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "Hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(f"{_TENS[tens]}-{_ONES[ones]}" if ones else _TENS[tens])
    elif rest:
        words.append(_ONES[rest])
    return words


def dollars_in_words(dollars: int) -> str:
    """Whole dollars as a check writer spells them: 1250 -> "One Thousand Two Hundred Fifty"."""
    if not 0 <= dollars < 1_000_000:
        raise ValueError(f"amount out of range for words: {dollars}")
    if dollars == 0:
        return "Zero"
    thousands, rest = divmod(dollars, 1000)
    words = [*_below_thousand(thousands), "Thousand"] if thousands else []
    return " ".join(words + _below_thousand(rest))


def amount_in_words(amount: Decimal) -> str:
    """The legal-form spelling: ``Seven Hundred Fifty and 00/100 Dollars``."""
    cents = int((amount * 100).to_integral_value())
    return f"{dollars_in_words(cents // 100)} and {cents % 100:02d}/100 Dollars"


def money(amount: Decimal | int | float) -> str:
    return f"${amount:,.2f}"


def decimal_of_cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


# Premiums of the worked refund examples some contracts print.
EXAMPLE_PREMIUMS = (600, 750, 800, 900, 1000, 1200, 1500)


def amortized_payment(principal: float, apr: float, months: int, balloon: float = 0.0) -> Decimal:
    rate = apr / 1200
    if rate == 0:
        payment = (principal - balloon) / months
    else:
        payment = (principal - balloon / (1 + rate) ** months) * rate / (1 - (1 + rate) ** -months)
    return Decimal(f"{payment:.2f}")
