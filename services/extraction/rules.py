"""The offline ``rules`` provider: the extractor every new user meets, and the stand-in when an LLM fails.

It reads a contract the way a reviewer skims one: find every amount (in digits or in words), link each to
the label nearest to it ("GAP Waiver Charge", "Amount Financed", "cancellation fee"), ignore what cannot be
the answer (worked examples, other products, riders for other states, text addressed to an AI), and say how
sure it is. Confidence is the product's triage signal, so it is earned: 90+ only for a strong label with one
consistent value; competing values, weak labels, worded amounts, vague wording and OCR noise all lower it.

The document analysis is in ``reading`` and the label vocabulary in ``labels``; this module weighs what they
found and decides each field. Patterns are lower case and case-sensitive (several times faster than
``re.IGNORECASE``).
"""

import re
import time
from decimal import Decimal
from typing import TypeVar

from services.domain import RefundMethod
from services.extraction import loan_term_rules
from services.extraction.amounts import no_fee_statements
from services.extraction.labels import FEE_KINDS, Linked
from services.extraction.methods import find_method_mentions
from services.extraction.reading import CANCEL_SECTION, Evidence, Mention, Reading
from services.extraction.types import ExtractionResult, FieldResult

RULES_VERSION = "1.2"

_Value = TypeVar("_Value", Decimal, str)

_FEE_VERB_REACH = 20

# What the field decisions look for around a candidate: asked a few times per document, so searched in place.
_REFUND_WORD = re.compile(r"\brefund|\bunearned")
_LOAN_CUE = re.compile(r"finance\s+charge|interest\b|annual\s+percentage|apr\b(?<=\bapr)|amortiz")
_PERCENT = re.compile(r"%|percent\b")
_CONDITIONAL_NO_FEE = re.compile(
    r"within\s+(?:the\s+first\s+)?\d+\s+days|first\s+\d+\s+days|during\s+the\s+first"
)
_CONDITIONAL_METHOD = re.compile(
    r"in\s+which\s+case|where\s+(?:required|prohibited|permitted)|if\s+(?:required|prohibited)|unless\b"
    r"|except\b|otherwise\b|alternatively\b"
)
_VAGUE_REFUND = re.compile(
    r"(?:refund|unearned)[^.;]{0,200}?(?:applicable\s+(?:state\s+)?law|provided\s+by\s+law|required\s+by\s+law"
    r"|filed|schedule|table|formula)"
)
# A bare "premium" names this contract's price when nothing but these words stands before it ("the Total
# Premium", "Single Premium:"); any other word ("insurance premium", "credit life premium") names another.
_PREMIUM_LEAD_WORDS = frozenset({"the", "your", "this", "a", "of", "on", "for", "is", "as", "and"})
_QUALIFIERS = frozenset({"total", "single"})
_ROW_QUALIFIERS = re.compile(r"[ \t]*(?:(?:total|single)[ \t]+)*")
_WORD = re.compile(r"[a-z]+")


class RulesExtractor:
    """Deterministic, offline extraction of the refund fields (no key, no network, no cost)."""

    provider = "rules"
    model_version = f"rules-{RULES_VERSION}"
    prompt_version = "n/a"

    def extract(self, document_text: str) -> ExtractionResult:
        started = time.perf_counter()
        reading = Reading(document_text)
        premium = _premium(reading)
        method = _method(reading)
        fee = _fee(reading)
        return ExtractionResult(
            gap_insurance_premium=premium,
            refund_calculation_method=method,
            cancellation_fee=fee,
            term_months=loan_term_rules.term_months(reading),
            governing_state=loan_term_rules.governing_state(reading),
            apr=loan_term_rules.apr(reading),
            provider=self.provider,
            model_version=self.model_version,
            prompt_version=self.prompt_version,
            processing_ms=round((time.perf_counter() - started) * 1000),
        )


def _score(evidence: list[Evidence]) -> float:
    return max(item.strength for item in evidence) + 0.05 * min(len(evidence) - 1, 3)


def _strongest(candidates: dict[_Value, list[Evidence]]) -> tuple[_Value, list[Evidence]]:
    """The best-supported value; on a tie the one stated first (an itemization precedes the prose)."""
    return max(candidates.items(), key=lambda item: (_score(item[1]), -item[1][0].start))


def _best(evidence: list[Evidence]) -> Evidence:
    return max(evidence, key=lambda item: item.strength)


# --- premium -------------------------------------------------------------------------------------------------
def _premium(reading: Reading) -> FieldResult:
    by_value: dict[Decimal, list[Evidence]] = {}
    for mention in reading.mentions:
        label = reading.label_of(mention)
        if label is None:
            continue
        strength = _premium_strength(reading, label, mention)
        if strength == 0 or reading.excluded(mention.start) or reading.example(mention.start):
            continue
        evidence = Evidence(
            strength, min(label.start, mention.start), max(label.end, mention.end), mention.in_words
        )
        by_value.setdefault(mention.value, []).append(evidence)
    if not by_value:
        return reading.result("gap_insurance_premium", None, 15, None)
    value, evidence = _strongest(by_value)
    best = _best(evidence)
    confidence = {1.0: 94, 0.9: 88, 0.8: 80, 0.7: 72}.get(best.strength, 55)
    if sum(item.strength >= 0.9 for item in evidence) >= 2:
        confidence += 3
    if all(item.in_words for item in evidence):
        confidence -= 12
    rivals = [
        max(item.strength for item in other)
        for other_value, other in by_value.items()
        if other_value != value
    ]
    if any(rival >= 0.7 for rival in rivals):
        confidence = min(confidence, 55)
    elif rivals:
        confidence -= 10
    if not Decimal(25) <= value <= Decimal(15000):
        confidence -= 30
    return reading.result("gap_insurance_premium", value, confidence, best)


def _premium_strength(reading: Reading, label: Linked, mention: Mention) -> float:
    if label.kind == "premium":
        return {"before": 1.0, "after": 0.9, "column": 0.8}.get(label.how, 0.7)
    if label.kind == "premium_item":
        return 0.9
    if label.kind == "premium_generic":
        return 0.8
    if label.kind != "weak":
        return 0.0
    adjacent = label.how == "before" and reading.adjacent(label.end, mention.start)
    word = reading.lower[label.start : label.end]
    if adjacent and word.startswith("premium"):
        bare = _bare_premium_strength(reading, label)
        if bare:
            return bare
    if not reading.has("product", *reading.clause(label.start)):
        return 0.0
    # "In consideration of this Waiver, you agree to pay $650.00": the sentence itself is the price.
    return 0.7 if adjacent and word.startswith("agree") else 0.4


def _bare_premium_strength(reading: Reading, label: Linked) -> float:
    """In a GAP contract a bare "Total Premium: $1,295.00" is the GAP premium; another product's premium is
    named ("credit life premium"). A row label is surer than a premium mentioned in a sentence."""
    if not reading.has_cue("gap"):
        return 0.0
    row = reading.index.line_bounds(label.start)[0]
    if _ROW_QUALIFIERS.fullmatch(reading.lower, row, label.start):
        return 0.8
    lead = _WORD.findall(reading.lower, max(row, label.start - 40), label.start)
    while lead and lead[-1] in _QUALIFIERS:
        lead.pop()
    return 0.7 if not lead or lead[-1] in _PREMIUM_LEAD_WORDS else 0.0


# --- refund method -------------------------------------------------------------------------------------------
def _method(reading: Reading) -> FieldResult:
    general: dict[RefundMethod, list[Evidence]] = {}
    rider: dict[RefundMethod, list[Evidence]] = {}
    conditional: set[RefundMethod] = set()
    negated = False
    for mention in find_method_mentions(reading.clean):
        applies = reading.applies_to_buyer(mention.start)
        if reading.excluded(mention.start) or applies is False:
            continue
        if mention.negated:
            negated = True
            continue
        clause_start, clause_end = reading.clause(mention.start)
        if reading.has("cancel", clause_start, clause_end):
            context = 1.0
        elif CANCEL_SECTION.search(reading.section(mention.start)):
            context = 0.8
        elif _LOAN_CUE.search(reading.lower, clause_start, clause_end):
            continue
        else:
            context = 0.6
        strength = context * (0.85 if mention.paraphrase else 1.0)
        # A method named under a condition ("in which case ... pro rata") or in an example "for comparison"
        # is not the contract's method; it only weakens confidence if it differs.
        lead_in = (max(clause_start, mention.start - 80), mention.start)
        if _CONDITIONAL_METHOD.search(reading.lower, *lead_in) or reading.example(mention.start):
            conditional.add(mention.method)
            strength *= 0.3
        scored = rider if applies else general
        scored.setdefault(mention.method, []).append(Evidence(strength, mention.start, mention.end))
    scored = rider or general
    if not scored:
        return _unknown_method(reading)
    method, evidence = _strongest(scored)
    best = _best(evidence)
    # A rider provision overrides the general terms only if the buyer's state was read right.
    confidence = 80 if rider else 60 + 33 * best.strength
    rivals = [
        max(item.strength for item in other)
        for other_method, other in scored.items()
        if other_method != method
    ]
    if any(rival >= 0.5 for rival in rivals):
        confidence = min(confidence, 55)
    elif rivals or conditional - {method}:
        confidence -= 3
    if negated:
        confidence -= 5
    return reading.result("refund_calculation_method", method, confidence, best)


def _unknown_method(reading: Reading) -> FieldResult:
    """No method wording: point the reviewer at the refund clause that should have named one, if any."""
    for match in _VAGUE_REFUND.finditer(reading.lower):
        if not reading.excluded(match.start()):
            return reading.result("refund_calculation_method", "Unknown", 55, Evidence(0.0, *match.span()))
    refund_words = [
        match for match in _REFUND_WORD.finditer(reading.lower) if not reading.excluded(match.start())
    ]
    in_cancellation_terms = [
        match for match in refund_words if CANCEL_SECTION.search(reading.section(match.start()))
    ]
    for match in in_cancellation_terms or refund_words:
        return reading.result("refund_calculation_method", "Unknown", 45, Evidence(0.0, *match.span()))
    return reading.result("refund_calculation_method", "Unknown", 35, None)


# --- cancellation fee ----------------------------------------------------------------------------------------
def _fee(reading: Reading) -> FieldResult:
    general: dict[Decimal, list[Evidence]] = {}
    rider: dict[Decimal, list[Evidence]] = {}
    examples: dict[Decimal, list[Evidence]] = {}
    percent_beside_amount = False
    for mention in reading.mentions:
        label = reading.label_of(mention)
        if label is None or reading.excluded(mention.start):
            continue
        strength = _fee_strength(reading, label, mention)
        applies = reading.applies_to_buyer(mention.start)
        if strength == 0 or applies is False:
            continue
        evidence = Evidence(
            strength, min(label.start, mention.start), max(label.end, mention.end), mention.in_words
        )
        if reading.example(mention.start):
            examples.setdefault(mention.value, []).append(evidence)
            continue
        if _PERCENT.search(reading.lower, *reading.sentence(mention.start, mention.end)):
            percent_beside_amount = True
        (rider if applies else general).setdefault(mention.value, []).append(evidence)
    unconditional_none, conditional_none = _no_fee_evidence(reading, rider)
    if rider:
        value, evidence = _strongest(rider)
        return reading.result("cancellation_fee", value, 80, _best(evidence))
    if general:
        value, evidence = _strongest(general)
        best = _best(evidence)
        confidence = 60 + 32 * best.strength
        if all(item.in_words for item in evidence):
            confidence -= 12
        if len(general) > 1:
            confidence = min(confidence, 55)
        if percent_beside_amount:
            confidence = min(confidence, 65)
        if unconditional_none:
            confidence = min(confidence, 50)
        elif conditional_none:
            confidence -= 5
        return reading.result("cancellation_fee", value, confidence, best)
    percent = _percent_fee(reading)
    if percent is not None:
        # A percentage is not a dollar amount: record nothing, but show the reviewer where the fee is stated.
        return reading.result("cancellation_fee", None, 35, percent)
    if unconditional_none:
        return reading.result("cancellation_fee", Decimal("0.00"), 90, unconditional_none[0])
    if conditional_none:
        return reading.result("cancellation_fee", Decimal("0.00"), 50, conditional_none[0])
    if examples:
        value, evidence = _strongest(examples)
        return reading.result("cancellation_fee", value, 60, _best(evidence))
    return reading.result("cancellation_fee", None, _not_stated_confidence(reading), None)


def _fee_strength(reading: Reading, label: Linked, mention: Mention) -> float:
    if label.kind == "fee":
        return 1.0 if label.how in {"before", "after"} else 0.8
    if label.kind == "distractor" and reading.caps_a_fee(label):
        return 0.7
    if label.kind not in FEE_KINDS or not reading.cancel_context(mention.start):
        return 0.0
    if label.kind == "fee_generic":
        return 0.8
    return 0.6 if mention.start - label.end <= _FEE_VERB_REACH else 0.0


def _no_fee_evidence(
    reading: Reading, rider: dict[Decimal, list[Evidence]]
) -> tuple[list[Evidence], list[Evidence]]:
    """Statements that no fee is charged on cancelling, split into unconditional and time-limited ones."""
    unconditional: list[Evidence] = []
    conditional: list[Evidence] = []
    for start, end in no_fee_statements(reading.clean):
        if reading.excluded(start) or reading.example(start) or not reading.cancel_context(start):
            continue
        applies = reading.applies_to_buyer(start)
        evidence = Evidence(1.0, start, end)
        if applies:
            rider.setdefault(Decimal("0.00"), []).append(evidence)
        elif applies is None:
            limited = _CONDITIONAL_NO_FEE.search(reading.lower, *reading.sentence(start, end))
            (conditional if limited else unconditional).append(evidence)
    return unconditional, conditional


def _percent_fee(reading: Reading) -> Evidence | None:
    for label in reading.labels:
        if (
            label.kind != "fee"
            or reading.excluded(label.start)
            or reading.applies_to_buyer(label.start) is False
        ):
            continue
        _, sentence_end = reading.sentence(label.start, label.end)
        percent = _PERCENT.search(reading.lower, label.end, sentence_end)
        if percent is not None:
            return Evidence(0.0, label.start, percent.end())
    return None


def _not_stated_confidence(reading: Reading) -> int:
    """Silence is only trusted when the contract has a cancellation clause that was read and says nothing."""
    for label in reading.labels:
        if (
            label.kind in {"fee", "fee_generic"}
            and not reading.excluded(label.start)
            and reading.cancel_context(label.start)
        ):
            return 55
    has_clause = any(not reading.excluded(start) for start in reading.cue_starts("cancel"))
    return 85 if has_clause else 60
