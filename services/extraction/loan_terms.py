"""Reading and checking the loan terms a refund needs: the term in months, the governing state, the APR.

One set of rules for every reader of these values: a reviewer's typed correction, a provider's answer being
grounded, and the rules extractor. A value is "stated" by a quote only when the quote holds it as a whole
number (term), by name or code (state), or as the same figure (APR) — never as part of a longer number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from services.extraction.locate import lower_preserving_offsets
from services.extraction.types import MAX_APR, MAX_TERM_MONTHS
from services.refunds.states import STATE_NAMES

HUNDREDTH = Decimal("0.01")

# State names in lower case, longest first so that "west virginia" wins over "virginia".
STATE_CODES: dict[str, str] = {name.lower(): code for code, name in STATE_NAMES.items()}
STATE_NAME_PATTERN = "|".join(
    re.escape(name).replace(r"\ ", r"\s+") for name in sorted(STATE_CODES, key=len, reverse=True)
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "eighteen": 18, "twenty": 20, "twenty-four": 24, "thirty": 30,
    "thirty-six": 36, "forty-two": 42, "forty-eight": 48, "fifty-four": 54, "sixty": 60,
    "sixty-six": 66, "seventy-two": 72, "seventy-five": 75, "eighty-four": 84, "ninety-six": 96,
}  # fmt: skip
_TYPED_TERM = re.compile(r"(?P<number>\d{1,3}|[a-z-]+)\s*(?P<unit>months?|mos?\.?|years?|yrs?\.?)?")
_TYPED_APR = re.compile(r"(?P<number>\d{1,2}(?:\.\d{1,3})?|\.\d{1,3})\s*(?:%|percent)?")
_STATE_OF = re.compile(r"(?:the\s+)?(?:state|commonwealth)\s+of\s+")


class LoanTermError(ValueError):
    """A value that cannot be a term, a state or an APR; the message says what would be accepted."""


def read_term_months(raw: str) -> int:
    """Months from "60", "60 months", "sixty", "5 years"; LoanTermError with a sentence otherwise."""
    words = " ".join(raw.lower().split())
    match = _TYPED_TERM.fullmatch(words)
    number = None if match is None else _number(match["number"])
    if match is None or number is None:
        raise LoanTermError(f"{raw.strip()!r} is not a term: type the number of months, such as 60.")
    months = number * 12 if (match["unit"] or "").startswith(("y", "yr")) else number
    if not 1 <= months <= MAX_TERM_MONTHS:
        raise LoanTermError(f"A term runs from 1 to {MAX_TERM_MONTHS} months; {months} is out of range.")
    return months


def read_state(raw: str) -> str:
    """The two-letter code from "OH", "oh", "Ohio" or "the State of Ohio"; LoanTermError otherwise."""
    words = " ".join(raw.lower().split())
    words = _STATE_OF.sub("", words, count=1)
    code = STATE_CODES.get(words) or (words.upper() if words.upper() in STATE_NAMES else None)
    if code is None:
        raise LoanTermError(
            f"{raw.strip()!r} is not a US state: type its two letters (OH) or its name (Ohio)."
        )
    return code


def read_apr(raw: str) -> Decimal:
    """The APR in percent from "7.9", "7.90%", "7.9 percent"; LoanTermError otherwise."""
    match = _TYPED_APR.fullmatch(" ".join(raw.lower().split()))
    if match is None:
        raise LoanTermError(f"{raw.strip()!r} is not an APR: type the percentage, such as 7.9 or 7.90%.")
    try:
        apr = Decimal(match["number"]).quantize(HUNDREDTH)
    except InvalidOperation:
        raise LoanTermError(f"{raw.strip()!r} is not an APR: type the percentage, such as 7.9.") from None
    if apr > MAX_APR:
        raise LoanTermError(f"An APR is at most {MAX_APR}%; {apr} is out of range.")
    return apr


# The reader of each loan-term field, for whoever turns text into its value (corrections, grounding).
LOAN_TERM_READERS: dict[str, Callable[[str], int | str | Decimal]] = {
    "term_months": read_term_months,
    "governing_state": read_state,
    "apr": read_apr,
}


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


# --- does a quote state the value? -------------------------------------------------------------------------
_WHOLE_NUMBER = re.compile(r"(?<![\d,$])(?<!\d\.)\d{1,3}(?![\d,]|\.\d)")
_YEARS = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:\)\s*)?(?:years?|yrs?)\b")
_PERCENT_FIGURE = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,3})?)\s*(?:%|percent)")


def term_stated(quote: str, months: int) -> bool:
    """The quote holds the number of months as a whole number, or the same term in years."""
    if any(int(match[0]) == months for match in _WHOLE_NUMBER.finditer(quote)):
        return True
    lowered = lower_preserving_offsets(quote)
    return any(int(match[1]) * 12 == months for match in _YEARS.finditer(lowered))


def state_named(quote: str, code: str) -> bool:
    """The quote names the state (any case) or writes its code as a word in capitals ("OH 43017")."""
    name = STATE_NAMES.get(code)
    if name is None:
        return False
    pattern = re.escape(name.lower()).replace(r"\ ", r"\s+")
    lowered = lower_preserving_offsets(quote)
    for match in re.finditer(rf"\b{pattern}\b", lowered):
        # "Virginia" inside "West Virginia" names the other state.
        if not (code == "VA" and lowered[max(0, match.start() - 5) : match.start()].strip() == "west"):
            return True
    return re.search(rf"(?<![A-Za-z]){code}(?![A-Za-z])", quote) is not None


def apr_stated(quote: str, apr: Decimal) -> bool:
    """The quote holds the figure as a percentage ("7.99%", "7.99 percent"), the same to the hundredth."""
    return any(
        Decimal(match[1]).quantize(HUNDREDTH) == apr for match in _PERCENT_FIGURE.finditer(quote.lower())
    )
