"""Refund-method wording and its five canonical names.

Contracts rarely say "Pro-Rata" the way the database does: they write "ratio of days remaining" or "sum of
the digits". One vocabulary serves both the extractors (find the wording in a document) and grounding and
the correction dialog (does this quote, or this typed alias, name that method).

"Simple interest" is deliberately not mapped: it describes how a loan accrues interest, not how an unearned
GAP charge is refunded, and contracts mention it in the loan disclosures next to a different refund method.
"""

import re
from typing import NamedTuple

from services.domain import REFUND_METHODS, RefundMethod
from services.extraction.locate import lower_preserving_offsets, unhyphenate


class MethodMention(NamedTuple):
    method: RefundMethod
    start: int
    end: int
    negated: bool
    # "ratio of days remaining" names the method less surely than "pro rata" does.
    paraphrase: bool


# Lower case, run over lower-cased text; the word boundary and the possible first letters are checked once,
# before the alternation, so most words are passed over without trying each alternative.
_METHOD_WORDING = re.compile(
    r"""
    \b(?=[7acdimprsu])(?:
      (?P<r78>\brule\s+of\s+(?:the\s+)?(?:78|seventy[\s-]+eight)(?:'?s|ths)?(?![\d\w]))
    | (?P<r78_paraphrase>
          \b78(?:'?s|ths)\s+(?:method|rule|basis|formula)
        | \b78ths\b
        | \bsum[\s-]+of[\s-]+(?:the[\s-]+)?(?:(?:months?|years?|periods?)'?[\s-]+)?digits\b)
    | (?P<pro>\bpro[\s-]*rat(?:a|ed|ably|ion)\b)
    | (?P<pro_paraphrase>
          \bratio\s+of\s+(?:the\s+)?(?:number\s+of\s+)?(?:unexpired\s+|remaining\s+)?(?:days|months)\b
        | \bin\s+proportion\s+to\s+the\s+(?:number\s+of\s+)?(?:unexpired\s+|remaining\s+)?(?:days|months)\b
        | \b(?:in\s+proportion\s+to|ratio\s+of)\s+the\s+(?:unexpired|remaining)\s+term\b
        | \b(?:days|months)\s+remaining\b[^.;]{0,40}?\bdivided\s+by\s+the\s+
          (?:total\s+)?(?:number\s+of\s+)?(?:days|months)\b
        | \b(?:unexpired|remaining)\s+(?:days|months)\b[^.;]{0,60}?\bdivid(?:ed|ing)\s+by\s+the\s+total\b)
    | (?P<act>\bactuarial(?:ly)?\b(?!\s+(?:sound|tables?|assumptions?|data|review|experience|analysis)))
    | (?P<act_paraphrase>\bconstant[\s-]+yield\b)
    | (?P<short>\bshort[\s-]+rate(?:s)?\b)
    )
    """,
    re.VERBOSE,
)
_METHOD_OF_GROUP: dict[str, RefundMethod] = {
    "r78": "Rule of 78s",
    "r78_paraphrase": "Rule of 78s",
    "pro": "Pro-Rata",
    "pro_paraphrase": "Pro-Rata",
    "act": "Actuarial",
    "act_paraphrase": "Actuarial",
    "short": "Short-Rate",
}
# "not calculated on a pro rata basis", "rather than the Rule of 78s": the clause before the wording, up to
# four plain words back, cut at punctuation so that a "not" in an earlier clause does not count.
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|\bnever|\brather\s+than|\binstead\s+of|\bin\s+lieu\s+of|\bother\s+than|\bno\s+longer)"
    r"\s+(?:[a-z']+\s+){0,4}$"
)
_NEGATION_WINDOW = 60

_ALIASES: dict[str, RefundMethod] = {
    "pro rata": "Pro-Rata",
    "prorata": "Pro-Rata",
    "prorated": "Pro-Rata",
    "pr": "Pro-Rata",
    "rule of 78": "Rule of 78s",
    "rule of 78s": "Rule of 78s",
    "rule of 78 s": "Rule of 78s",
    "rule of the 78s": "Rule of 78s",
    "78": "Rule of 78s",
    "78s": "Rule of 78s",
    "78ths": "Rule of 78s",
    "r78": "Rule of 78s",
    "sum of digits": "Rule of 78s",
    "sum of the digits": "Rule of 78s",
    "actuarial": "Actuarial",
    "actuarial method": "Actuarial",
    "constant yield": "Actuarial",
    "short rate": "Short-Rate",
    "shortrate": "Short-Rate",
    "short rate table": "Short-Rate",
    "unknown": "Unknown",
    "not stated": "Unknown",
}
_ALIAS_NOISE = re.compile(r"[\s\-_'’.]+")


def find_method_mentions(text: str) -> list[MethodMention]:
    """Every piece of refund-method wording in ``text``, in order, flagged when the sentence negates it."""
    mentions = []
    lowered = lower_preserving_offsets(text)
    for match in _METHOD_WORDING.finditer(lowered):
        group = match.lastgroup or ""
        window = lowered[max(0, match.start() - _NEGATION_WINDOW) : match.start()]
        clause = re.split(r"[.;:,()]", window)[-1]
        mentions.append(
            MethodMention(
                method=_METHOD_OF_GROUP[group],
                start=match.start(),
                end=match.end(),
                negated=_NEGATION_BEFORE.search(clause) is not None,
                paraphrase=group.endswith("_paraphrase"),
            )
        )
    return mentions


def methods_stated(quote: str) -> set[RefundMethod]:
    """The methods ``quote`` states without negating them ("not pro rata" states none)."""
    return {mention.method for mention in find_method_mentions(unhyphenate(quote)) if not mention.negated}


def method_supported_by(quote: str, method: RefundMethod) -> bool:
    """Whether ``quote`` states ``method``; ``Unknown`` is supported by a quote stating no method at all."""
    stated = methods_stated(quote)
    if method == "Unknown":
        return not stated
    return method in stated


def canonical_method(text: str) -> RefundMethod | None:
    """The canonical name for what a person typed ("pro rata", "78", "short rate"), or None."""
    key = _ALIAS_NOISE.sub(" ", text.strip().lower()).strip()
    for method in REFUND_METHODS:
        if key == _ALIAS_NOISE.sub(" ", method.lower()).strip():
            return method
    if key in _ALIASES:
        return _ALIASES[key]
    stated = {mention.method for mention in find_method_mentions(text) if not mention.negated}
    return stated.pop() if len(stated) == 1 else None
