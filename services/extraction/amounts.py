"""Money in contract text and in user input.

Two audiences with opposite needs: the correction dialog must refuse anything ambiguous with a sentence a
reviewer can act on (``parse_amount``), while the extractors must find every amount a contract states, in
digits or in words, without ever guessing at a European "1.250,00" (``find_amounts``, ``read_amount``).
"""

import re
from decimal import Decimal
from typing import NamedTuple

from services.extraction.locate import lower_preserving_offsets, unhyphenate
from services.extraction.types import CENT, MAX_AMOUNT


class AmountError(ValueError):
    """An amount a person typed (or a provider returned) that cannot be read safely; the message says why."""


class FoundAmount(NamedTuple):
    value: Decimal
    start: int
    end: int


_MAX_INPUT_CHARS = 40

# A currency marker is required for bare integers ("60 days" is not money); a number with cents or thousands
# separators is accepted without one because itemization tables often drop the "$". OCR turns "$" into "S",
# inserts a space before a thousands comma ("$1 ,250.00"), reads digits as letters ("$1,O95.00") and commas
# as points ("$1.295.00": with a currency marker and cents there is no other reading): these are read; a
# number that is still ambiguous ("1.250,00", "12.345") is not. The number pattern starts with a digit class
# (no look-around first) so the regex engine can skip ahead to digits; the currency marker before it is
# checked separately, on the few characters in front.
_NUMBER = re.compile(
    r"""
    [0-9](?<![0-9.,/][0-9])
    (?P<int_rest>[0-9]{0,2}(?:\ ?,[0-9]{3})+|(?P<points>[0-9]{0,2}(?:\.[0-9]{3})+(?=\.[0-9]{2}))|[0-9]{0,11})
    (?P<cents>\.[0-9]{2})?
    (?![0-9%]|[.,][0-9])
    (?P<suffix>\s?(?i:usd|dollars?)\b)?
    """,
    re.VERBOSE,
)
# OCR reads 0 as O and 1 as l or I inside numbers ("$1,O95.00", "$5O.00"); a letter between digits, commas
# and points is repaired one character for one, so offsets do not move.
_OCR_DIGIT = re.compile(r"[OolI](?<=[0-9$,.][OolI])(?=[0-9,.])|[OolI](?<=[0-9][OolI])(?=[OolI]?[0-9])")
_OCR_DIGIT_VALUE = str.maketrans("OolI", "0011")
_CURRENCY_BEFORE = re.compile(r"(?:US\s?\$|\$|\b(?i:usd)\s?|(?<![A-Za-z0-9])S)[ \t]{0,2}$")
_CURRENCY_LOOKBACK = 8

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"thousand": 1_000, "million": 1_000_000}
_NUMBER_WORD = r"(?:" + "|".join(sorted([*_UNITS, *_TENS, "hundred", *_SCALES], key=len, reverse=True)) + r")"
# The word patterns below are lower case and run over lower-cased text (faster than re.IGNORECASE).
_NUMBER_WORDS = rf"\b{_NUMBER_WORD}(?:(?:[\s-]+|\s+and\s+){_NUMBER_WORD})*\b"
# "Seven Hundred Fifty and 00/100 Dollars", "one thousand two hundred fifty dollars", "Fifty Dollars and
# twenty-five cents", "Fifty and no/100": words only count as money when dollars or a /100 fraction follow.
_WORD_AMOUNT = re.compile(
    rf"""
    (?P<words>{_NUMBER_WORDS})
    (?:
        \s+and\s+(?P<fraction>\d{{2}}|no)\s*/\s*100(?:ths)?(?:\s+(?:u\.?s\.?\s+)?dollars?\b)?
      | \s+(?:u\.?s\.?\s+)?dollars?\b(?:\s+and\s+(?P<cent_words>{_NUMBER_WORDS})\s+cents?\b)?
    )
    """,
    re.VERBOSE,
)
_WORD_AMOUNT_HINT = re.compile(r"dollar|/\s*100")
# A word broken at a line end, in any case ("ONE THOU-\nSAND"): the tail is moved back to its head and the gap
# padded with spaces, so offsets do not move.
_BROKEN_WORD = re.compile(r"-(?<=[a-z]-)[ \t]*\n[ \t]*([a-z]+)")
_BROKEN_WORD_HEAD = re.compile(r"[a-z]+$")
_WORD_WINDOW_BEFORE = 160
_WORD_WINDOW_AFTER = 80

# A number as a reader sees it: digits with the separators, OCR letters and unreadable characters glued to
# them. Spaces end it, so "$5.00 7" is two numbers; a letter counts only next to a digit or separator.
_UNREADABLE = frozenset("?*#~|\ufffd")
_OCR_LETTERS = frozenset("OolI")
_NUMBER_RUN = re.compile(
    r"(?:[0-9?*#~|\ufffd]|[OolI](?=[0-9,.]))"
    r"(?:[0-9,.?*#~|\ufffd]|[OolI](?=[0-9,.?OolI])|\ (?=,[0-9]{3}))*"
)
_STRICT_AMOUNT = re.compile(r"\$?\s*(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?")
_FEE_WORD = r"(?:fee|charge|penalty)s?\b"
# Words that qualify a fee, alone or joined ("a cancellation or administrative fee").
_FEE_KINDS = (
    r"(?:(?:cancel(?:l)?ation|administrative|processing|service|termination)\s+(?:(?:or|and|/)\s+)?)*"
)
_NO_FEE = re.compile(
    r"""
    \b(?=[cdfmnsw])(?:
      \bno\s+{kinds}{fee}
    | \bwithout\s+(?:any\s+|a\s+)?{kinds}{fee}
    | \b(?:will|shall|does|do|may)\s+not\s+(?:be\s+)?
      (?:charged?|imposed?|assess(?:ed)?|retain(?:ed)?|deduct(?:ed)?)
      (?:\s+(?:you|any|a|an|the))*\s+{kinds}{fee}
    | \b(?:will|shall)\s+not\s+be\s+charged\s+(?:for|to|when|if|upon)\s+(?:cancel|terminat)
    | \b(?:fee|charge|penalty)s?\s+(?:will|shall)\s+not\s+be\s+
      (?:charged|imposed|assessed|retained|deducted)\b
    | \bfree\s+of\s+(?:any\s+)?charge\b
    | \bno\s+(?:cancel(?:l)?ation\s+)?fee\s+(?:will|shall)\s+be\b
    | \bcancel(?:l)?ation\s+(?:fee|charge)s?\s*[:\-–]?\s*(?:none|n/a|waived)\b
    )
    """.replace("{kinds}", _FEE_KINDS).replace("{fee}", _FEE_WORD),
    re.VERBOSE,
)


def parse_amount(text: str) -> Decimal:
    """Read an amount typed by a person: "1250", "1,250.00", "$ 1,250.5"; refuse anything else with a reason.

    Refusing is the point: a reviewer's correction becomes the contract's value of record, so "12.345",
    "1.250,00" or "1e5" must be retyped rather than interpreted.
    """
    raw = text.strip()
    if not raw:
        raise AmountError("Enter an amount, for example 1250.00.")
    if len(raw) > _MAX_INPUT_CHARS:
        raise AmountError(f"That is too long for an amount (at most {_MAX_INPUT_CHARS} characters).")
    if raw.startswith(("-", "−", "(", "$-")):
        raise AmountError("An amount cannot be negative.")
    match = _STRICT_AMOUNT.fullmatch(raw)
    if match is None:
        raise AmountError(_why_malformed(raw))
    value = Decimal(match["int"].replace(",", "") + "." + (match["cents"] or "0"))
    if value > MAX_AMOUNT:
        raise AmountError(f"{raw} is too large: amounts must be at most {MAX_AMOUNT:,}.")
    return value.quantize(CENT)


def _why_malformed(raw: str) -> str:
    if re.fullmatch(r"\$?\s*[0-9][0-9,]*\.[0-9]{3,}", raw):
        return "Use at most two decimal places (cents), for example 1250.00."
    if re.fullmatch(r"\$?\s*[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]{1,2}", raw):
        return "Use a point for cents and commas for thousands, as in 1,250.00."
    if re.fullmatch(r"\$?\s*[0-9][0-9,.]*", raw):
        return "Commas may only separate thousands and a single point the cents, as in 1,250.00."
    return "Enter the amount in digits, for example 1250.00 or $1,250.00."


def read_amount(text: str) -> Decimal:
    """Read a provider's amount leniently ("$1,250.00", "1250 USD", "Fifty Dollars ($50.00)").

    Lenient about form, never about meaning: a negative number, an ambiguous number or several different
    amounts in one answer raise ``AmountError`` rather than being resolved by guessing.
    """
    try:
        return parse_amount(text)
    except AmountError as strict_error:
        stripped = text.strip()
        if stripped.startswith(("-", "−")) or stripped.lower().startswith("minus"):
            raise AmountError("An amount cannot be negative.") from strict_error
        values = {found.value for found in find_amounts(stripped)}
        if len(values) == 1:
            value = values.pop()
            if value <= MAX_AMOUNT:
                return value
        spelled = _words_to_number(stripped)
        if spelled is not None and spelled <= MAX_AMOUNT:
            return Decimal(spelled).quantize(CENT)
        if len(values) > 1:
            raise AmountError(f"{stripped!r} states more than one amount.") from strict_error
        raise AmountError(f"{stripped!r} is not an amount.") from strict_error


def find_amounts(text: str) -> list[FoundAmount]:
    """Every amount stated in ``text``, in digits or in words, ordered by position.

    A worded amount and its digits in parentheses are reported separately: callers decide whether agreement
    between the two makes a value stronger.
    """
    found = find_digit_amounts(text) + find_word_amounts(text)
    found.sort(key=lambda amount: amount.start)
    return found


def find_digit_amounts(text: str) -> list[FoundAmount]:
    found = []
    repaired = _OCR_DIGIT.sub(lambda letter: letter.group().translate(_OCR_DIGIT_VALUE), text)
    for match in _NUMBER.finditer(repaired):
        number_start, cents = match.start(), match["cents"]
        currency = _CURRENCY_BEFORE.search(repaired, max(0, number_start - _CURRENCY_LOOKBACK), number_start)
        if currency is None and match["suffix"] is None and cents is None:
            continue
        digits = repaired[number_start : match.start("int_rest")] + match["int_rest"]
        if currency is not None and currency.group().startswith("S") and cents is None and "," not in digits:
            continue
        if currency is None and match["points"] is not None:
            continue
        value = Decimal(digits.replace(",", "").replace(" ", "").replace(".", "") + (cents or ""))
        start = currency.start() if currency is not None else number_start
        found.append(FoundAmount(value.quantize(CENT), start, match.end()))
    return found


def find_word_amounts(text: str) -> list[FoundAmount]:
    """Worded amounts, looked for only around "dollars" and "/100" so that long documents stay cheap."""
    found: dict[int, FoundAmount] = {}
    lowered = _join_broken_words(lower_preserving_offsets(text))
    for hint in _WORD_AMOUNT_HINT.finditer(lowered):
        window_start = max(0, hint.start() - _WORD_WINDOW_BEFORE)
        window_end = min(len(lowered), hint.end() + _WORD_WINDOW_AFTER)
        for match in _WORD_AMOUNT.finditer(lowered, window_start, window_end):
            dollars = _words_to_number(match["words"])
            cents = _cents(match["fraction"], match["cent_words"])
            if dollars is not None and cents is not None and match.start() not in found:
                value = (Decimal(dollars) + Decimal(cents) / 100).quantize(CENT)
                found[match.start()] = FoundAmount(value, match.start(), match.end())
    # A window may open in the middle of a worded amount; keep only the longest reading of each.
    return [
        amount
        for amount in found.values()
        if not any(other.start < amount.start and other.end >= amount.end for other in found.values())
    ]


def _join_broken_words(lowered: str) -> str:
    """Join words broken at a line end, except a compound number's own hyphen ("ninety-\nfive" stays two)."""

    def join(match: re.Match[str]) -> str:
        head = _BROKEN_WORD_HEAD.search(lowered, max(0, match.start() - 10), match.start())
        if head is not None and head.group() in _TENS:
            return match.group()
        return match[1] + " " * (len(match.group()) - len(match[1]))

    return _BROKEN_WORD.sub(join, lowered)


def _cents(fraction: str | None, cent_words: str | None) -> int | None:
    if fraction is not None:
        return 0 if fraction.lower() == "no" else int(fraction)
    if cent_words is not None:
        cents = _words_to_number(cent_words)
        return cents if cents is not None and cents < 100 else None
    return 0


def _words_to_number(words: str) -> int | None:
    """English number words to an integer; None for sequences no one writes ("five seven", "hundred")."""
    tokens = [token for token in re.split(r"[\s-]+", words.lower().strip()) if token and token != "and"]
    if tokens and tokens[-1] in {"dollar", "dollars"}:
        tokens.pop()
    if not tokens:
        return None
    total, group = 0, 0
    last = "scale"
    for token in tokens:
        if token in _UNITS:
            if last in {"unit", "teen"} or (last == "tens" and _UNITS[token] >= 10):
                return None
            group += _UNITS[token]
            last = "teen" if _UNITS[token] >= 10 else "unit"
        elif token in _TENS:
            if last in {"unit", "teen", "tens"}:
                return None
            group += _TENS[token]
            last = "tens"
        elif token == "hundred":
            if last not in {"unit", "teen"} or group % 100 == 0 or group >= 100:
                return None
            group *= 100
            last = "hundred"
        elif token in _SCALES:
            if group == 0:
                return None
            total += group * _SCALES[token]
            group = 0
            last = "scale"
        else:
            return None
    return total + group


class AmountSupport(NamedTuple):
    """How a quote supports an amount: ``stated`` only when the quote holds it as a whole number;
    ``damage`` says what OCR damage a reviewer should know about (None when the digits are clean)."""

    stated: bool
    damage: str | None


def amount_support(text: str, value: Decimal) -> AmountSupport:
    """Whether ``text`` states ``value`` as a WHOLE amount, and through what OCR damage.

    A number is read as a whole: "$7?5.00" does not state 7.00 (or 5.00), "$1?899.00" does not state 1.00,
    even though a number parser finds "$7" and "$1" in them. The number run a match sits in (digits, OCR
    letters, separators and unreadable characters glued together) must be exactly the digits that were
    read. A run repaired from letters ("$1,O95.00") states its repaired value, with that damage named; a run
    with an unreadable character ("$7?5.00") states nothing, but when ``value`` fits it character for
    character ("745.00") the damage is named so that the caller can cap rather than refuse.
    """
    damaged_fit: str | None = None
    for run in _NUMBER_RUN.finditer(text):
        digits = run.group().rstrip(".,")
        if not any(char.isdigit() for char in digits):
            continue
        unreadable = any(char in _UNREADABLE for char in digits)
        if not unreadable and _run_value(digits) == value:
            if any(char in _OCR_LETTERS for char in digits):
                return AmountSupport(True, f"OCR damage inside the amount: {digits!r} was read as {value:,}")
            return AmountSupport(True, None)
        if unreadable and damaged_fit is None and _fits_damaged(digits, value):
            damaged_fit = f"OCR damage inside the amount: {digits!r} has an unreadable character"
    if any(found.value == value for found in find_word_amounts(text)):
        return AmountSupport(True, None)
    return AmountSupport(False, damaged_fit)


def amount_mentioned(text: str, value: Decimal) -> bool:
    """Whether ``text`` states ``value`` as a whole amount, with or without a currency marker: a quote may
    be a table cell."""
    return amount_support(text, value).stated


def damaged_numbers(text: str) -> list[str]:
    """Number runs in ``text`` with an unreadable character inside ("7?5.00"), for saying why a value fails."""
    return [
        run.group().rstrip(".,")
        for run in _NUMBER_RUN.finditer(text)
        if any(char in _UNREADABLE for char in run.group()) and any(char.isdigit() for char in run.group())
    ]


def _run_value(digits: str) -> Decimal | None:
    """The value of a clean number run: thousands commas (or OCR's thousands points before cents) dropped."""
    repaired = digits.translate(_OCR_DIGIT_VALUE).replace(" ", "")
    whole, point, cents = repaired.rpartition(".")
    if point and len(cents) == 2:
        integer = whole.replace(",", "").replace(".", "")
    elif point:
        return None
    else:
        integer, cents = cents.replace(",", ""), "00"
    if not integer.isdigit() or not cents.isdigit():
        return None
    return Decimal(f"{integer}.{cents}")


def _fits_damaged(digits: str, value: Decimal) -> bool:
    """Whether ``value`` reads the damaged run with each unreadable character standing for one digit or one
    thousands comma ("7?5.00" fits 745.00, "1?899.00" fits 1,899.00)."""
    plain = digits.translate(_OCR_DIGIT_VALUE).replace(" ", "")
    if "." not in plain[-3:]:
        plain += ".00"
    return any(
        len(plain) == len(expected)
        and all(got == want or got in _UNREADABLE for got, want in zip(plain, expected, strict=True))
        for expected in (f"{value:.2f}", f"{value:,.2f}")
    )


def no_fee_statements(text: str) -> list[tuple[int, int]]:
    """Spans of wording saying no fee is charged ("no cancellation fee", "without charge"), in order.

    ``text`` should already be unhyphenated; whether the statement is about cancelling is the caller's call.
    """
    return [match.span() for match in _NO_FEE.finditer(lower_preserving_offsets(text))]


def states_no_fee(text: str) -> bool:
    """Whether ``text`` says no fee is charged: the wording that makes a cancellation fee 0.00, not null."""
    return bool(no_fee_statements(unhyphenate(text)))
