"""The rules extractor's reading of the loan terms: term in months, governing state, APR.

Each is found the way a reviewer finds it: a labelled row ("Term: 72 months", "APR: 6.49%") or a sentence
("having a term of sixty (60) months", "governed by the laws of the State of Georgia") is surest; a bare
"72 months" in a table, a number of monthly payments, or the parties' addresses are weaker signs and score
below the review threshold when they disagree. Worked examples and text addressed to an AI are ignored, as
for the amounts. Patterns run over the lower-cased text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.domain import FieldName
from services.extraction.loan_terms import HUNDREDTH, STATE_CODES, STATE_NAME_PATTERN
from services.extraction.reading import Evidence, Reading
from services.extraction.types import MAX_APR, MAX_TERM_MONTHS, FieldResult

_LEADER = r"[ \t.:_|\-–—]*"
_TERM_LABEL = re.compile(
    r"\b(?:(?:loan|lease|contract|agreement|addendum|financing)\s+)?term(?:\s+of\s+(?:the\s+)?"
    r"(?:loan|contract|addendum|agreement|waiver|coverage|financing))?(?:\s+in\s+months|\s*\(months\))?"
    + _LEADER
    + r"(?P<months>\d{1,3})\s*(?P<unit>months?\b|mos?\b\.?|years?\b|yrs?\b)?"
)
_TERM_PROSE = re.compile(
    r"\bterm\s+of\s+(?:(?P<words>[a-z]+(?:-[a-z]+)?)\s+)?\(?(?P<number>\d{1,3})\)?\s*(?P<unit>months?|years?)\b"
)
_TERM_AFTER = re.compile(r"(?<![\d.,$])(?P<months>\d{1,3})[ \t.:_|]*term\s+in\s+months\b")
_MONTHS = re.compile(r"(?<![\d.,$])(?P<months>\d{1,3})\s+months?\b")
# A loan repaid monthly runs as many months as it has payments.
_PAYMENTS = re.compile(
    r"\bnumber\s+of\s+(?:monthly\s+)?payments" + _LEADER + r"(?P<months>\d{1,3})\b"
    r"|(?<![\d.,$])(?P<count>\d{1,3})\s+(?:equal\s+)?monthly\s+(?:payments|installments)\b"
)

_GOVERNING = re.compile(
    r"(?:governed\s+by(?:\s+and\s+construed\s+(?:under|in\s+accordance\s+with))?|subject\s+to|construed\s+(?:in\s+accordance\s+with|under)|interpreted\s+under)\s+"
    r"(?:the\s+)?laws?\s+of\s+(?:the\s+)?(?:(?:state|commonwealth)\s+of\s+)?(?P<state>"
    + STATE_NAME_PATTERN
    + r")\b"
    r"|\b(?P<state2>" + STATE_NAME_PATTERN + r")\s+law\s+(?:governs|applies\s+to\s+this)"
)
_PARTY_ADDRESS = re.compile(
    r"(?<![^\n\f])[ \t]*(?P<party>dealer|seller|creditor|lender|lessor|selling\s+dealer|bank|credit\s+union|"
    r"buyer|borrower|purchaser|customer|member|debtor|lessee)(?:[ \t]*[/-][ \t]*(?:creditor|lessor|lender))?"
    r"(?:'s)?(?:\s+address)?\s*:[^\n]*?,\s*"
    r"(?P<code>[a-z]{2})\s+\d{5}(?:-\d{4})?\b"
)
_ANY_ADDRESS = re.compile(r",\s*(?P<code>[a-z]{2})\s+\d{5}(?:-\d{4})?\b")
_CODES = frozenset(STATE_CODES.values())
_SELLER_PARTIES = frozenset(
    {"dealer", "seller", "creditor", "lender", "lessor", "selling dealer", "bank", "credit union"}
)

_APR_LABEL = re.compile(r"\bannual\s+percentage\s+rate\b|\bapr\b")
_PERCENT = re.compile(r"(?<![\d.])(?P<figure>\d{1,2}(?:\.\d{1,3})?)\s*(?:%|percent\b)")
_APR_REACH = 60
_APR_TABLE_REACH = 200


@dataclass(frozen=True, slots=True)
class _Found:
    value: int | str | Decimal
    strength: float
    start: int
    end: int


def _usable(reading: Reading, offset: int) -> bool:
    """Not in a worked example, another product's terms or text addressed to an AI."""
    return not reading.excluded(offset) and not reading.example(offset)


def _decide(
    reading: Reading, name: FieldName, found: list[_Found], confidences: dict[float, int], absent: int
) -> FieldResult:
    """The strongest value; rivals as strong as it cap the confidence at 55 (a person decides)."""
    if not found:
        return reading.result(name, None, absent, None)
    best = max(found, key=lambda item: (item.strength, -item.start))
    confidence = confidences.get(best.strength, 60)
    rivals = {
        item.value for item in found if item.value != best.value and item.strength >= best.strength - 0.1
    }
    if rivals:
        confidence = min(confidence, 55)
    elif any(item.value != best.value for item in found):
        confidence -= 5
    evidence = Evidence(best.strength, best.start, best.end)
    return reading.result(name, best.value, confidence, evidence)


# --- term ----------------------------------------------------------------------------------------------------
def term_months(reading: Reading) -> FieldResult:
    """A labelled term or "a term of N months/years" first; else payments or a bare "N months" (doubtful)."""
    lower = reading.lower
    found: list[_Found] = []
    for match in _TERM_LABEL.finditer(lower):
        years = (match["unit"] or "").startswith("y")
        months = int(match["months"]) * (12 if years else 1)
        if match["unit"] is None and not re.match(r"[ \t]*(?:\n|$)", lower[match.end() :]):
            continue  # "Term: 72" then more text is not a term of months; a bare number ending a row is.
        found.append(_Found(months, 0.85 if years else 1.0, match.start(), match.end()))
    for match in _TERM_PROSE.finditer(lower):
        months = int(match["number"]) * (12 if match["unit"].startswith("y") else 1)
        found.append(
            _Found(months, 0.85 if match["unit"].startswith("y") else 0.95, match.start(), match.end())
        )
    for match in _TERM_AFTER.finditer(lower):
        found.append(_Found(int(match["months"]), 0.9, match.start(), match.end()))
    if not found:
        for match in _PAYMENTS.finditer(lower):
            found.append(_Found(int(match["months"] or match["count"]), 0.7, match.start(), match.end()))
        for match in _MONTHS.finditer(lower):
            found.append(_Found(int(match["months"]), 0.6, match.start(), match.end()))
    usable = [f for f in found if 1 <= int(f.value) <= MAX_TERM_MONTHS and _usable(reading, f.start)]
    return _decide(reading, "term_months", usable, {1.0: 92, 0.95: 90, 0.9: 88, 0.85: 82, 0.7: 72}, 60)


# --- governing state -----------------------------------------------------------------------------------------
def governing_state(reading: Reading) -> FieldResult:
    """A governing-law clause decides; else the parties' addresses, the seller's (where it was made) first."""
    lower = reading.lower
    clauses = [
        _Found(
            STATE_CODES[" ".join((match["state"] or match["state2"]).split())],
            1.0,
            match.start(),
            match.end(),
        )
        for match in _GOVERNING.finditer(lower)
        if _usable(reading, match.start()) and reading.state_scope(match.start()) is None
    ]
    if clauses:
        return _decide(reading, "governing_state", clauses, {1.0: 92}, 0)
    seller: _Found | None = None
    buyer: _Found | None = None
    for match in _PARTY_ADDRESS.finditer(lower):
        code = match["code"].upper()
        if code not in _CODES:
            continue
        party = " ".join(match["party"].split())
        found = _Found(code, 1.0, match.start("party"), match.end())
        if party in _SELLER_PARTIES:
            seller = seller or found
        else:
            buyer = buyer or found
    if seller is None and buyer is None:
        first = next((m for m in _ANY_ADDRESS.finditer(lower) if m["code"].upper() in _CODES), None)
        if first is None:
            return reading.result("governing_state", None, 45, None)
        start = reading.index.line_bounds(first.start())[0]
        while reading.text[start] in " \t":
            start += 1
        return reading.result("governing_state", first["code"].upper(), 70, Evidence(0.7, start, first.end()))
    chosen = seller or buyer
    assert chosen is not None
    if seller is not None and buyer is not None and seller.value != buyer.value:
        # The seller's state is where the contract was made; a buyer from another state makes it doubtful.
        confidence = 60
    elif seller is not None and buyer is not None:
        confidence = 86
    else:
        # The seller's state alone is where the contract was made; the buyer's alone says less.
        confidence = 82 if seller is not None else 75
    return reading.result(
        "governing_state", chosen.value, confidence, Evidence(1.0, chosen.start, chosen.end)
    )


# --- APR -----------------------------------------------------------------------------------------------------
def apr(reading: Reading) -> FieldResult:
    """The percentage after an APR label, or under it in a table; none stated is an answer (null)."""
    lower = reading.lower
    found: list[_Found] = []
    mentioned = False
    for label in _APR_LABEL.finditer(lower):
        if not _usable(reading, label.start()):
            continue
        mentioned = True
        line_end = lower.find("\n", label.end())
        line_end = len(lower) if line_end < 0 else line_end
        near = _PERCENT.search(lower, label.end(), min(line_end, label.end() + _APR_REACH))
        if near is not None and not re.search(r"[a-z]{4,}", lower[label.end() : near.start()]):
            found.append(_Found(_percent(near["figure"]), 1.0, label.start(), near.end()))
            continue
        below = _column_below(lower, label.start(), line_end)
        if below is not None:
            found.append(_Found(_percent(below["figure"]), 0.8, label.start(), below.end()))
    found = [f for f in found if Decimal(f.value) <= MAX_APR]
    return _decide(reading, "apr", found, {1.0: 93, 0.8: 80}, 60 if mentioned else 85)


def _column_below(lower: str, label_start: int, line_end: int) -> re.Match[str] | None:
    """A table's header row names "APR"; its figure is the percentage in the next row under that column."""
    line_start = lower.rfind("\n", 0, label_start) + 1
    column = label_start - line_start
    next_end = lower.find("\n", line_end + 1)
    next_end = len(lower) if next_end < 0 else next_end
    for match in _PERCENT.finditer(lower, line_end + 1, min(next_end, line_end + 1 + _APR_TABLE_REACH)):
        if abs((match.start() - line_end - 1) - column) <= 12:
            return match
    return None


def _percent(figure: str) -> Decimal:
    return Decimal(figure).quantize(HUNDREDTH)
