"""The offline ``rules`` provider: the extractor every new user meets, and the stand-in when an LLM fails.

It reads a contract the way a reviewer skims one: find every amount (in digits or in words), link each to
the label nearest to it ("GAP Waiver Charge", "Amount Financed", "cancellation fee"), ignore what cannot be
the answer (worked examples, other products, riders for other states, text addressed to an AI), and say how
sure it is. Confidence is the product's triage signal, so it is earned: 90+ only for a strong label with one
consistent value; competing values, weak labels, worded amounts, vague wording and OCR noise all lower it.

Patterns run over an unhyphenated, lower-cased copy of the text that has the same length as the original,
so every span is cut from the original text with the offsets found in the copy. Patterns are lower case and
case-sensitive (several times faster than ``re.IGNORECASE``) unless case carries meaning.
"""

import re
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from services.extraction.amounts import FoundAmount, find_digit_amounts, find_word_amounts, no_fee_statements
from services.extraction.grounding import INSTRUCTION_TO_AI
from services.extraction.locate import DocumentIndex, lower_preserving_offsets, unhyphenate
from services.extraction.methods import find_method_mentions
from services.extraction.types import ExtractionResult, FieldName, FieldResult, RefundMethod

RULES_VERSION = "1.0"

_Value = TypeVar("_Value", Decimal, str)

_QUOTE_MAX_CHARS = 300
_LABEL_REACH = 150
_LABEL_ADJACENT = 40
_COLUMN_TOLERANCE = 8
_CAP_REACH = 30
_FEE_VERB_REACH = 20

# --- what labels say -----------------------------------------------------------------------------------------
# Inside a label, spacing may wrap onto the next line but never crosses a blank line or a page.
_SPACE = r"(?:[ \t]+\n?[ \t]*|\n[ \t]*)"
_SPACE_OR_DASH = r"(?:[ \t-]+\n?[ \t-]*|\n[ \t-]*)"
# One alternation scanned once per document. Leftmost match wins, and among matches at the same position the
# first alternative wins, so specific phrases come first: "debt cancellation fee" is the price of a debt
# cancellation agreement and must never be read as the "cancellation fee" inside it.
_LABEL = re.compile(
    r"""
    \b(?=[a-z])(?:
      (?P<premium>
          gap\b(?:[\s-]+(?:waiver|addendum|contract|protection|agreement|coverage|insurance|plan
                          |debt\s+waiver)){0,2}[\s-]+(?:charge|premium|price|fee|cost)\b
        | (?:waiver|addendum|debt\s+cancellation|debt\s+waiver|protection)[\s-]+(?:charge|price|fee|premium|cost)\b
        | (?:price|charge|premium|cost|fee)\s+(?:of|for)\s+(?:this\s+|the\s+|your\s+)?
          (?:gap|waiver|addendum|debt\s+cancellation|debt\s+waiver|agreement|protection|coverage|plan)\b)
    | (?P<premium_generic>(?:contract|agreement|plan|coverage|certificate)[\s-]+(?:charge|price|fee|premium|cost)\b)
    | (?P<other_fee>
          late\s+(?:payment\s+)?(?:fee|charge)s?\b
        | fees?\s+for\s+late\s+payments?\b
        | (?:documentation|documentary|document|doc|title|registration|license|recording|filing|lien
            |extension|deferment|deferral|repossession|storage|towing|nsf|arbitration|arbitrator'?s)
          \s+(?:fee|charge)s?\b
        | returned\s+(?:check|payment)\s+(?:fee|charge)s?\b
        | (?:payoff|claims?|lienholder|loan)\s+(?:processing\s+)?(?:fee|charge)s?\b)
    | (?P<fee>
          cancel(?:l)?ation\s+(?:processing\s+|administrative\s+|admin\s+|service\s+)?(?:fee|charge|penalty)s?\b
        | (?:termination|refund)\s+(?:processing\s+)?(?:fee|charge)s?\b
        | (?:fee|charge)s?\s+(?:for|upon|on)\s+(?:any\s+|each\s+|every\s+)?cancel(?:l)?ation\b)
    | (?P<refund>
          unearned\b(?:[\s-]+[\w']+){0,4}?[\s-]+(?:charge|premium|price|fee|cost)s?\b
        | refunds?\b(?:\s+amount)?
        | would\s+be\b)
    | (?P<fee_generic>(?:administrative|administration|admin|processing|service|handling)\s+(?:fee|charge)s?\b
        | fees?\b)
    | (?P<fee_verb>(?:retain|retains|deduct|deducts|keep|keeps)\b)
    | (?P<premium_item>gap(?:[\s-]+(?:waiver|addendum|contract|protection|coverage|agreement))?\b)
    | (?P<distractor>
          amount\s+financed\b|financed\s+amount\b|loan\s+amount\b|principal\b
        | (?:cash|purchase|sale|sales|selling)\s+price\b|total\s+sale\s+price\b
        | vehicle(?:\s+(?:contract|purchase|sale|sales))?\s+price\b
        | msrp\b|manufacturer'?s\s+suggested\b|value\b
        | down\s*payment\b|trade[\s-]*in\b
        | (?:monthly|regular|scheduled|installment|first|each)\s+payments?\b|payments?\s+of\b
        | payment\s+amount\b|finance\s+charge\b|total\s+of\s+payments\b|annual\s+percentage\s+rate\b
        | apr\b|interest\b|balance\b|payoff\b|deficiency\b
        | max(?:imum)?\b(?:\s+(?:benefit|payout|amount|waiver|limit))?|benefit\b|limit(?:ed|s)?\b
        | not\s+to\s+exceed\b|exceed(?:s|ing)?\b|up\s+to\b|in\s+excess\s+of\b|over\b
        | (?:more|less)\s+than\b|at\s+least\b
        | deductibles?\b|reimburse(?:ment|s)?\b|credit\s+(?:of|toward|life|disability|insurance)\b
        | service\s+contract\b|warrant(?:y|ies)\b|negative\s+equity\b|settlement\b|proceeds\b
        | tax(?:es)?\b|public\s+officials\b)
    | (?P<weak>(?:premium|charge|price|cost)s?\b|agree[sd]?\s+to\s+pay\b)
    )
    """.replace(r"[\s-]+", _SPACE_OR_DASH).replace(r"\s+", _SPACE),
    re.VERBOSE,
)
# Labels that follow their amount: "$50.00 cancellation fee", "$675.00 for this GAP Waiver".
_LABEL_AFTER = re.compile(
    r"""
    [\s)]*(?:
        (?P<premium>(?:for|as\s+(?:the\s+)?(?:charge|price|premium|cost)\s+(?:of|for))\s+(?:this|the|your)\s+
            (?:gap|waiver|addendum|debt\s+cancellation|debt\s+waiver|protection|agreement)\b
          # a right-aligned table: the amount, then its label closing the line
          | (?<=[0-9])[ \t]+gap(?:[ \t]+(?:waiver|addendum|contract|protection))?[ \t]+(?:premium|charge|price|fee)
            [ \t]*(?=\n|$))
      | (?P<fee>(?:non-?refundable\s+)?(?:cancel(?:l)?ation|termination)\s+(?:fee|charge|penalty)\b)
      | (?P<fee_generic>(?:administrative\s+|admin\s+|processing\s+|service\s+|handling\s+)?fee\b)
      | (?P<distractor>deductible|per\s+(?:month|repair)|monthly|credit\b)
    )
    """.replace(r"\s+", _SPACE),
    re.VERBOSE,
)
# OCR splits words ("GAP Waiv er Char ge"): labels are looked for again in the line with its spaces removed.
_SQUEEZED_LABEL = re.compile(
    r"(?P<premium>gap(?:waiver|addendum|contract|protection)?(?:charge|premium|price|fee))|(?P<fee>cancel+ationfee)"
)
_SQUEEZE = re.compile(r"[\s:.$]+")
_SQUEEZED_SLACK = 4
_FILLER = re.compile(r"[\s.:_|\-–—]*(?:\((?:optional|included)\)[\s.:_|\-–—]*)?")
_CAP = re.compile(r"exceed|up\s+to|max|limit")

# Labels that name what an amount is; a verb ("retain") or a weak word only hints at it, so a naming label
# right after the amount ("retain a $25.00 cancellation fee") wins over them.
_NAMING_KINDS = frozenset({"premium", "premium_item", "premium_generic", "fee", "fee_generic", "other_fee"})
_FEE_KINDS = frozenset({"fee", "fee_generic", "fee_verb"})

# --- what the surrounding text says (case-sensitive where case means something) ----------------------------
_SENTENCE_END = re.compile(
    r"[.!?;](?<!\bNo\.)(?<!\bno\.)(?<!\bInc\.)(?<!\bCo\.)(?<!\bSt\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)"
    r"(?<!\bvs\.)(?<!\bmo\.)(?<!\bAve\.)(?<!\bRd\.)(?<!\bBlvd\.)(?<!\bHwy\.)(?<!\bincl\.)(?<!\betc\.)"
    r"(?<!e\.g\.)(?<!i\.e\.)(?<!U\.S\.)(?<!\b[A-Z]\.)(?<!\.\.)(?:(?<=;)|(?=\s))"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\f")
# Line features, matched at the line break before the line (scanned over the text with one put in front).
_NEWLINE = re.compile(r"\n")
# A table row: dot leaders, a run of spaces, a tab or a pipe; the rest of the line is consumed so that each row
# is found once.
_TABULAR = re.compile(r"(?:\.{3}|[ \t]{3}|\t|\|)[^\n]*")
_LABEL_ROW_LINE = re.compile(r"\n(?=[ \t]*[A-Z][A-Za-z0-9 /&'#().,-]{0,40}:(?:\s|$))")
_BLOCK_START_LINE = re.compile(r"\n(?=[ \t]*(?:\(?[a-z0-9]{1,3}[.)]|[-•*])[ \t]|[ \t]*(?:\n|$))")
_PROSE_MIN_CHARS = 40
_LABEL_ROW_MAX_CHARS = 60

_CANCEL_CUE = re.compile(
    r"cancel|terminat|refund|unearned|rebate|returned|pa(?:id|y)\s+(?:off|in\s+full)|prepa"
)
_CANCEL_SECTION = re.compile(r"cancel|refund|terminat|\bend(?:ing|s)?\b")
_REFUND_WORD = re.compile(r"\brefund|\bunearned")
# Cue patterns begin with a literal (a leading \b or group would make the engine try every position), and
# check the word boundary, where it matters, after the first word.
_CLAIM_CUE = re.compile(r"claim(?<![a-z]claim)s?\b")
_LOAN_CUE = re.compile(r"finance\s+charge|interest\b|annual\s+percentage|apr\b(?<=\bapr)|amortiz")
_PERCENT = re.compile(r"%|percent\b")
_CONDITIONAL_NO_FEE = re.compile(
    r"within\s+(?:the\s+first\s+)?\d+\s+days|first\s+\d+\s+days|during\s+the\s+first"
)
_CONDITIONAL_METHOD = re.compile(
    r"in\s+which\s+case|where\s+(?:required|prohibited|permitted)|if\s+(?:required|prohibited)|unless\b"
    r"|except\b|otherwise\b|alternatively\b"
)
_EXAMPLE_CUE = re.compile(
    r"example\b|\.g\.(?<=e\.g\.)|illustrat|hypothetical|assum(?:e|ing)\b|suppose\b|if\s+(?:your|the)\s+[\w\s]{0,30}?\bwere\b"
)
_OTHER_PRODUCT = re.compile(
    r"service\s+contract|credit\s+(?:life|disability)|extended\s+warrant|maintenance\s+plan|tire\s+(?:and|&)\s+wheel"
    r"|theft\s+(?:deterrent|protection)|key\s+replacement"
)
_GAP_CUE = re.compile(r"gap\b(?<![a-z]gap)|debt\s+(?:cancellation|waiver)|guaranteed\s+asset")
# What a weak label ("the price you pay ...") must be near to count as the price of this product.
_PRODUCT_CUE = re.compile(
    r"gap\b(?<![a-z]gap)|waiver|addendum|protection|debt\s+cancellation|guaranteed\s+asset"
)
# Cues are found once per document; "does this sentence mention X" is then a bisect, not a regex search.
# Cues asked about only a few times per document (loan wording, conditions, percentages) are searched directly.
_CUES = {
    "cancel": _CANCEL_CUE,
    "claim": _CLAIM_CUE,
    "example": _EXAMPLE_CUE,
    "injection": INSTRUCTION_TO_AI,
    "other_product": _OTHER_PRODUCT,
    "gap": _GAP_CUE,
    "product": _PRODUCT_CUE,
}
_VAGUE_REFUND = re.compile(
    r"(?:refund|unearned)[^.;]{0,200}?(?:applicable\s+(?:state\s+)?law|provided\s+by\s+law|required\s+by\s+law"
    r"|filed|schedule|table|formula)"
)

# OCR damage across the document: digits for letters ("Dea1er", "WAlVER", "lf", "wi11"), "S" for "$", and a space
# before punctuation. Each pattern starts with a literal so that the engine can skip ahead.
_OCR_ARTIFACTS = tuple(
    re.compile(pattern)
    for pattern in (
        r"[01](?:"
        + "|".join(rf"(?<=\b[A-Za-z]{{{letters}}}[01])" for letters in range(2, 8))
        + r")[A-Za-z]*\b",
        r"l(?<=[A-Z]{2}l)[A-Z]+\b",
        r"lf(?<=\blf)\b",
        r"11(?<=[a-z]11)\b",
        r"S(?<![A-Za-z0-9]S)\d{1,3}(?:,\d{3})*\.\d{2}\b",
        r" ,(?=\s)",
        r" \.(?<=\w \.)(?=\s)",
        r"\$ \d{1,3} ,",
    )
)
# OCR damage in the sentence a value came from: words split into fragments ("Char ge") that are not short
# English words. Checked on the quote only, where it is cheap and where it matters.
_FRAGMENT = re.compile(
    r" (?<=[A-Za-z]{2} )(?!(?:a|i|am|an|as|at|be|by|co|do|he|if|in|is|it|me|my|no|of|ok|on|or|so|to|up|us|we)\b)"
    r"[a-z]{1,2}\b(?![-'’])"
)
_GARBLED_QUOTE_FRAGMENTS = 2
_NOISE_MODERATE = 1.5
_NOISE_HEAVY = 4.0
_NOISE_PENALTY_MODERATE = 12
_NOISE_PENALTY_HEAVY = 25

_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
}  # fmt: skip
_STATE_NAME = r"(?P<state>" + "|".join(sorted(_STATES, key=len, reverse=True)).replace(" ", r"\s+") + r")"
# "New York: ...", "Texas Residents: ..." at the start of a line opens a rider provision for that state. The
# pattern starts at the line break (scanned over the text with a line break put in front).
_STATE_LINE = re.compile(
    rf"[\n\f][ \t]*(?:for\s+)?(?:residents\s+of\s+)?{_STATE_NAME}(?:\s+residents)?\s*(?:only\s*)?[:\-–—]"
)
_STATE_CUE = re.compile(
    rf"(?:resid(?:e|es|ed|ing|ent|ents)\s+(?:of|in)|live\s+in|purchased\s+in|sold\s+in|signed\s+in)\s+"
    rf"(?:the\s+state\s+of\s+)?{_STATE_NAME}\b"
)
_STATE_IN_HEADING = re.compile(rf"\b{_STATE_NAME}\b")
_BUYER_LABEL = re.compile(
    r"(?<![^\n\f])[ \t]*(?:buyer|borrower|purchaser|customer|member|debtor|contract\s+holder)(?:'s)?"
    r"(?:\s+address)?\s*:"
)
_OTHER_PARTY_LINE = re.compile(
    r"\n[ \t]*(?:dealer|seller|selling|creditor|lender|vehicle|motor\s+vehicle|lienholder|administrator|co-buyer)"
)
_ADDRESS_STATE = re.compile(r",\s*([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")
_BUYER_BLOCK_CHARS = 300


@dataclass(frozen=True, slots=True)
class _Mention:
    """An amount in the text; a worded amount and its digits in parentheses are one mention."""

    value: Decimal
    start: int
    end: int
    in_words: bool


@dataclass(frozen=True, slots=True)
class _Label:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Linked:
    """The label an amount belongs to, and how it was found (which sets how far it is trusted)."""

    kind: str
    start: int
    end: int
    how: str


@dataclass(frozen=True, slots=True)
class _Evidence:
    strength: float
    start: int
    end: int
    in_words: bool = False


class RulesExtractor:
    """Deterministic, offline extraction of the three refund fields (no key, no network, no cost)."""

    provider = "rules"
    model_version = f"rules-{RULES_VERSION}"
    prompt_version = "n/a"

    def extract(self, document_text: str) -> ExtractionResult:
        started = time.perf_counter()
        reading = _Reading(document_text)
        premium = _premium(reading)
        method = _method(reading)
        fee = _fee(reading)
        return ExtractionResult(
            gap_insurance_premium=premium,
            refund_calculation_method=method,
            cancellation_fee=fee,
            provider=self.provider,
            model_version=self.model_version,
            prompt_version=self.prompt_version,
            processing_ms=round((time.perf_counter() - started) * 1000),
        )


class _Reading:
    """One document analysed once: amounts, labels, sentence and paragraph bounds, noise, the buyer's state."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.clean = unhyphenate(text)
        self.lower = lower_preserving_offsets(self.clean)
        self.index = DocumentIndex(text)
        self.mentions = _mentions(self.clean)
        self._mention_starts = [mention.start for mention in self.mentions]
        self.labels = [_Label(match.lastgroup or "", *match.span()) for match in _LABEL.finditer(self.lower)]
        self._label_starts = [label.start for label in self.labels]
        self._label_ends = [label.end for label in self.labels]
        strong = [match.end() for match in _SENTENCE_END.finditer(self.clean)]
        paragraph = [match.start() for match in _PARAGRAPH_BREAK.finditer(self.clean)]
        self._paragraph_splits = [0, *paragraph, len(self.clean)]
        self._clause_splits = sorted({0, *strong, *paragraph, len(self.clean)})
        self._sentence_splits = sorted({*self._clause_splits, *_line_splits(self.clean)})
        self._state_lines = [
            (match.start(), _state_code(match["state"])) for match in _STATE_LINE.finditer("\n" + self.lower)
        ]
        self._state_cues = [
            (match.start(), _state_code(match["state"])) for match in _STATE_CUE.finditer(self.lower)
        ]
        self._cue_starts = {
            name: [match.start() for match in cue.finditer(self.lower)] for name, cue in _CUES.items()
        }
        self.buyer_state = _buyer_state(self.clean, self.lower)
        self.noise_penalty = _noise_penalty(self.clean)
        self._excluded: dict[int, bool] = {}
        self._links: dict[int, _Linked | None] = {}

    # -- bounds ---------------------------------------------------------------------------------------------
    def clause(self, offset: int) -> tuple[int, int]:
        return _bounds(self._clause_splits, offset, offset)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        return _bounds(self._sentence_splits, start, end)

    def paragraph(self, offset: int) -> tuple[int, int]:
        return _bounds(self._paragraph_splits, offset, offset)

    def section(self, offset: int) -> str:
        return (self.index.locate(offset).section or "").lower()

    # -- what kind of text an offset sits in ----------------------------------------------------------------
    def has(self, cue: str, start: int, end: int) -> bool:
        """Whether a cue (see ``_CUES``) starts within [start, end)."""
        starts = self._cue_starts[cue]
        position = bisect_left(starts, start)
        return position < len(starts) and starts[position] < end

    def _paragraph_lead(self, offset: int) -> tuple[int, int]:
        """The first line of the paragraph holding ``offset``: where a paragraph says what it is about."""
        start, end = self.paragraph(offset)
        while start < end and self.lower[start].isspace():
            start += 1
        line_end = self.lower.find("\n", start, end)
        return start, end if line_end < 0 else line_end

    def cue_starts(self, cue: str) -> list[int]:
        return self._cue_starts[cue]

    def injected(self, offset: int) -> bool:
        """Text addressed to an AI is not part of the contract's terms, whatever it claims."""
        return self.has("injection", *self.paragraph(offset))

    def example(self, offset: int) -> bool:
        lead_start, _ = self._paragraph_lead(offset)
        return (
            self.has("example", lead_start, lead_start + 80)
            or "example" in self.section(offset)
            or self.has("example", *self.clause(offset))
        )

    def other_product(self, offset: int) -> bool:
        """Whether the offset is about a service contract, credit life or another product sold alongside."""
        section = self.section(offset)
        if _OTHER_PRODUCT.search(section) and not _GAP_CUE.search(section):
            return True
        lead = self._paragraph_lead(offset)
        if self.has("other_product", *lead) and not self.has("gap", *lead):
            return True
        sentence = self.sentence(offset, offset)
        return self.has("other_product", *sentence) and not self.has("gap", *sentence)

    def excluded(self, offset: int) -> bool:
        if offset not in self._excluded:
            self._excluded[offset] = self.injected(offset) or self.other_product(offset)
        return self._excluded[offset]

    def cancel_context(self, offset: int) -> bool:
        sentence = self.sentence(offset, offset)
        if self.has("cancel", *sentence):
            return True
        if self.has("claim", *sentence):
            return False
        return _CANCEL_SECTION.search(self.section(offset)) is not None

    def state_scope(self, offset: int) -> str | None:
        """The state a rider provision applies to, or None for a provision that applies everywhere."""
        start, end = self.sentence(offset, offset)
        cue = bisect_left(self._state_cues, (start, ""))
        if cue < len(self._state_cues) and self._state_cues[cue][0] < end:
            return self._state_cues[cue][1]
        paragraph_start, _ = self.paragraph(offset)
        line = bisect_right(self._state_lines, (offset, "ZZ")) - 1
        if line >= 0 and self._state_lines[line][0] >= paragraph_start:
            return self._state_lines[line][1]
        heading = _STATE_IN_HEADING.search(self.section(offset))
        return _state_code(heading["state"]) if heading else None

    def applies_to_buyer(self, offset: int) -> bool | None:
        """True for a rider of the buyer's state, False for another state's, None for general terms."""
        scope = self.state_scope(offset)
        if scope is None or self.buyer_state is None:
            return None
        return scope == self.buyer_state

    # -- labels ---------------------------------------------------------------------------------------------
    def label_of(self, mention: _Mention) -> _Linked | None:
        if mention.start not in self._links:
            self._links[mention.start] = self._link(mention)
        return self._links[mention.start]

    def _link(self, mention: _Mention) -> _Linked | None:
        before = self._label_before(mention)
        if (
            before is not None
            and before.kind in _NAMING_KINDS
            and mention.start - before.end <= _LABEL_ADJACENT
        ):
            return before
        after = _LABEL_AFTER.match(self.lower, mention.end)
        if after is not None and not self.lower.startswith(":", after.end()):
            return _Linked(after.lastgroup or "", after.start(), after.end(), "after")
        if before is not None:
            return before
        return self._label_above(mention) or self._label_squeezed(mention)

    def _label_before(self, mention: _Mention) -> _Linked | None:
        clause_start, _ = self.clause(mention.start)
        position = bisect_right(self._label_ends, mention.start) - 1
        if position > 0 and self._in_parentheses(self.labels[position], mention.start):
            # "Total Addendum Price (including tax): $1,132.50": a parenthetical qualifies the label before it.
            position -= 1
        if position < 0:
            return None
        label = self.labels[position]
        if label.start < max(clause_start, mention.start - _LABEL_REACH):
            return None
        between = bisect_left(self._mention_starts, label.end)
        if between < len(self.mentions) and self.mentions[between].start < mention.start:
            return None
        if label.kind == "premium_item" and not _FILLER.fullmatch(self.lower, label.end, mention.start):
            return None
        return _Linked(label.kind, label.start, label.end, "before")

    def _in_parentheses(self, label: _Label, before: int) -> bool:
        opened = self.lower.rfind("(", max(0, label.start - _LABEL_ADJACENT), label.start)
        return (
            opened >= 0
            and ")" not in self.lower[opened : label.start]
            and ")" in self.lower[label.end : before]
        )

    def _label_above(self, mention: _Mention) -> _Linked | None:
        """Tables with a header row: the label is in the line above, in the same column."""
        line_start, _ = self.index.line_bounds(mention.start)
        if line_start == 0 or self.clean[line_start - 1] != "\n":
            return None
        above_start, above_end = self.index.line_bounds(line_start - 1)
        column = mention.start - line_start
        first = bisect_left(self._label_starts, above_start)
        last = bisect_left(self._label_starts, above_end)
        best = None
        for label in self.labels[first:last]:
            distance = abs(label.start - above_start - column)
            if distance <= _COLUMN_TOLERANCE and (best is None or distance < best[0]):
                best = (distance, label)
        if best is None:
            return None
        return _Linked(best[1].kind, best[1].start, best[1].end, "column")

    def _label_squeezed(self, mention: _Mention) -> _Linked | None:
        line_start, _ = self.index.line_bounds(mention.start)
        window_start = max(line_start, mention.start - 60)
        squeezed = _SQUEEZE.sub("", self.lower[window_start : mention.start])
        matches = [*_SQUEEZED_LABEL.finditer(squeezed)]
        if not matches or len(squeezed) - matches[-1].end() > _SQUEEZED_SLACK:
            return None
        return _Linked(matches[-1].lastgroup or "", window_start, mention.start, "squeezed")

    def caps_a_fee(self, label: _Linked) -> bool:
        """ "The cancellation fee may not exceed $25.00": the cap is the only amount the contract gives."""
        if not _CAP.search(self.lower, label.start, label.end):
            return False
        position = bisect_left(self._label_starts, label.start) - 1
        if position < 0:
            return False
        previous = self.labels[position]
        return previous.kind == "fee" and label.start - previous.end <= _CAP_REACH

    # -- results --------------------------------------------------------------------------------------------
    def quote_bounds(self, start: int, end: int) -> tuple[int, int]:
        """The sentence (or table line) holding the evidence, never more than about 300 characters."""
        quote_start, quote_end = self.sentence(start, end)
        if quote_end - quote_start > _QUOTE_MAX_CHARS:
            quote_start = max(quote_start, self.index.line_bounds(start)[0])
            quote_end = min(quote_end, self.index.line_bounds(max(start, end - 1))[1])
        if quote_end - quote_start > _QUOTE_MAX_CHARS:
            margin = max(0, (_QUOTE_MAX_CHARS - (end - start)) // 2)
            quote_start = max(quote_start, start - margin)
            quote_end = min(quote_end, end + margin)
        while quote_start < start and self.text[quote_start].isspace():
            quote_start += 1
        while quote_end > end and self.text[quote_end - 1].isspace():
            quote_end -= 1
        return quote_start, quote_end

    def result(
        self,
        name: FieldName,
        value: Decimal | RefundMethod | None,
        confidence: float,
        evidence: _Evidence | None,
    ) -> FieldResult:
        source = (
            None if evidence is None else self.index.span(*self.quote_bounds(evidence.start, evidence.end))
        )
        if value is not None and value != "Unknown":
            garbled = source is not None and len(_FRAGMENT.findall(source.quote)) >= _GARBLED_QUOTE_FRAGMENTS
            confidence -= max(self.noise_penalty, _NOISE_PENALTY_MODERATE if garbled else 0)
        return FieldResult(
            name=name, value=value, confidence=max(0, min(100, round(confidence))), source=source
        )


def _bounds(splits: list[int], start: int, end: int) -> tuple[int, int]:
    low = splits[bisect_right(splits, start) - 1]
    high_index = bisect_left(splits, end)
    high = splits[high_index] if high_index < len(splits) else splits[-1]
    if high <= start:
        high = splits[min(len(splits) - 1, high_index + 1)]
    return low, high


def _line_splits(clean: str) -> list[int]:
    """Line breaks that end a unit: after table rows, label rows and short lines; before list items.

    Line features are found by whole-text scans; the loop over lines only does arithmetic and set lookups.
    """
    framed = "\n" + clean
    tabular = {clean.rfind("\n", 0, match.start()) + 1 for match in _TABULAR.finditer(clean)}
    label_rows = {match.start() for match in _LABEL_ROW_LINE.finditer(framed)}
    block_starts = tabular | {match.start() for match in _BLOCK_START_LINE.finditer(framed)}
    splits = []
    previous_is_prose = False
    line_start = 0
    for line_end in [*(match.start() for match in _NEWLINE.finditer(clean)), len(clean)]:
        length = line_end - line_start
        label_row = line_start in label_rows and length < _LABEL_ROW_MAX_CHARS
        if line_start and (not previous_is_prose or label_row or line_start in block_starts):
            splits.append(line_start - 1)
        previous_is_prose = length >= _PROSE_MIN_CHARS and line_start not in tabular and not label_row
        line_start = line_end + 1
    return splits


def _mentions(clean: str) -> list[_Mention]:
    digits = find_digit_amounts(clean)
    merged: list[_Mention] = []
    paired: set[FoundAmount] = set()
    for worded in find_word_amounts(clean):
        partner = next(
            (
                digit
                for digit in digits
                if digit.value == worded.value
                and (0 <= digit.start - worded.end <= 4 or 0 <= worded.start - digit.end <= 4)
            ),
            None,
        )
        if partner is None:
            merged.append(_Mention(worded.value, worded.start, worded.end, in_words=True))
        else:
            paired.add(partner)
            start, end = min(worded.start, partner.start), max(worded.end, partner.end)
            merged.append(_Mention(worded.value, start, end, in_words=False))
    merged.extend(
        _Mention(digit.value, digit.start, digit.end, False) for digit in digits if digit not in paired
    )
    merged.sort(key=lambda mention: mention.start)
    return merged


def _state_code(name: str) -> str:
    return _STATES[" ".join(name.split())]


def _buyer_state(clean: str, lower: str) -> str | None:
    for label in _BUYER_LABEL.finditer(lower):
        block_end = label.end() + _BUYER_BLOCK_CHARS
        other_party = _OTHER_PARTY_LINE.search(lower, label.end(), block_end)
        if other_party is not None:
            block_end = other_party.start()
        address = _ADDRESS_STATE.search(clean, label.end(), block_end)
        if address is not None:
            return address[1]
    return None


def _noise_penalty(clean: str) -> int:
    """OCR damage makes every reading less certain, including the ones that happen to look clean."""
    artifacts = sum(len(pattern.findall(clean)) for pattern in _OCR_ARTIFACTS)
    artifacts_per_kb = artifacts * 1000 / max(len(clean), 1)
    if artifacts_per_kb >= _NOISE_HEAVY:
        return _NOISE_PENALTY_HEAVY
    if artifacts_per_kb >= _NOISE_MODERATE:
        return _NOISE_PENALTY_MODERATE
    return 0


def _score(evidence: list[_Evidence]) -> float:
    return max(item.strength for item in evidence) + 0.05 * min(len(evidence) - 1, 3)


def _strongest(candidates: dict[_Value, list[_Evidence]]) -> tuple[_Value, list[_Evidence]]:
    """The best-supported value; on a tie the one stated first (an itemization precedes the prose)."""
    return max(candidates.items(), key=lambda item: (_score(item[1]), -item[1][0].start))


def _best(evidence: list[_Evidence]) -> _Evidence:
    return max(evidence, key=lambda item: item.strength)


# --- premium -------------------------------------------------------------------------------------------------
def _premium(reading: _Reading) -> FieldResult:
    by_value: dict[Decimal, list[_Evidence]] = {}
    for mention in reading.mentions:
        label = reading.label_of(mention)
        if label is None:
            continue
        strength = _premium_strength(reading, label)
        if strength == 0 or reading.excluded(mention.start) or reading.example(mention.start):
            continue
        evidence = _Evidence(
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


def _premium_strength(reading: _Reading, label: _Linked) -> float:
    if label.kind == "premium":
        return {"before": 1.0, "after": 0.9, "column": 0.8}.get(label.how, 0.7)
    if label.kind == "premium_item":
        return 0.9
    if label.kind == "premium_generic":
        return 0.8
    if label.kind == "weak" and reading.has("product", *reading.clause(label.start)):
        return 0.4
    return 0.0


# --- refund method -------------------------------------------------------------------------------------------
def _method(reading: _Reading) -> FieldResult:
    general: dict[RefundMethod, list[_Evidence]] = {}
    rider: dict[RefundMethod, list[_Evidence]] = {}
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
        elif _CANCEL_SECTION.search(reading.section(mention.start)):
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
        scored.setdefault(mention.method, []).append(_Evidence(strength, mention.start, mention.end))
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


def _unknown_method(reading: _Reading) -> FieldResult:
    """No method wording: point the reviewer at the refund clause that should have named one, if any."""
    for match in _VAGUE_REFUND.finditer(reading.lower):
        if not reading.excluded(match.start()):
            return reading.result("refund_calculation_method", "Unknown", 55, _Evidence(0.0, *match.span()))
    refund_words = [
        match for match in _REFUND_WORD.finditer(reading.lower) if not reading.excluded(match.start())
    ]
    in_cancellation_terms = [
        match for match in refund_words if _CANCEL_SECTION.search(reading.section(match.start()))
    ]
    for match in in_cancellation_terms or refund_words:
        return reading.result("refund_calculation_method", "Unknown", 45, _Evidence(0.0, *match.span()))
    return reading.result("refund_calculation_method", "Unknown", 35, None)


# --- cancellation fee ----------------------------------------------------------------------------------------
def _fee(reading: _Reading) -> FieldResult:
    general: dict[Decimal, list[_Evidence]] = {}
    rider: dict[Decimal, list[_Evidence]] = {}
    examples: dict[Decimal, list[_Evidence]] = {}
    percent_beside_amount = False
    for mention in reading.mentions:
        label = reading.label_of(mention)
        if label is None or reading.excluded(mention.start):
            continue
        strength = _fee_strength(reading, label, mention)
        applies = reading.applies_to_buyer(mention.start)
        if strength == 0 or applies is False:
            continue
        evidence = _Evidence(
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


def _fee_strength(reading: _Reading, label: _Linked, mention: _Mention) -> float:
    if label.kind == "fee":
        return 1.0 if label.how in {"before", "after"} else 0.8
    if label.kind == "distractor" and reading.caps_a_fee(label):
        return 0.7
    if label.kind not in _FEE_KINDS or not reading.cancel_context(mention.start):
        return 0.0
    if label.kind == "fee_generic":
        return 0.8
    return 0.6 if mention.start - label.end <= _FEE_VERB_REACH else 0.0


def _no_fee_evidence(
    reading: _Reading, rider: dict[Decimal, list[_Evidence]]
) -> tuple[list[_Evidence], list[_Evidence]]:
    """Statements that no fee is charged on cancelling, split into unconditional and time-limited ones."""
    unconditional: list[_Evidence] = []
    conditional: list[_Evidence] = []
    for start, end in no_fee_statements(reading.clean):
        if reading.excluded(start) or reading.example(start) or not reading.cancel_context(start):
            continue
        applies = reading.applies_to_buyer(start)
        evidence = _Evidence(1.0, start, end)
        if applies:
            rider.setdefault(Decimal("0.00"), []).append(evidence)
        elif applies is None:
            limited = _CONDITIONAL_NO_FEE.search(reading.lower, *reading.sentence(start, end))
            (conditional if limited else unconditional).append(evidence)
    return unconditional, conditional


def _percent_fee(reading: _Reading) -> _Evidence | None:
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
            return _Evidence(0.0, label.start, percent.end())
    return None


def _not_stated_confidence(reading: _Reading) -> int:
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
