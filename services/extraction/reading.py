"""One contract analysed once for the ``rules`` extractor: amounts, the labels they belong to, and where they sit.

Which sentence, paragraph and section an amount is in decides whether it can be the answer at all: worked
examples, other products sold alongside, riders for other states and text addressed to an AI are not the
contract's terms. Everything that is found by scanning is scanned once per document, so that each question
asked about an offset afterwards is a few bisects.

Patterns run over an unhyphenated, lower-cased copy of the text that has the same length as the original,
so every span is cut from the original text with the offsets found in the copy.
"""

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal

from services.domain import FieldName, RefundMethod
from services.extraction.amounts import FoundAmount, find_digit_amounts, find_word_amounts
from services.extraction.grounding import INSTRUCTION_TO_AI
from services.extraction.labels import (
    CAP,
    FILLER,
    LABEL,
    LABEL_AFTER,
    LEADER,
    NAMING_KINDS,
    ROW_LEADER,
    SQUEEZE,
    SQUEEZED_LABEL,
    SQUEEZED_SLACK,
    Label,
    Linked,
)
from services.extraction.locate import DocumentIndex, lower_preserving_offsets, unhyphenate
from services.extraction.types import FieldResult

_QUOTE_MAX_CHARS = 300
_LABEL_REACH = 150
_LABEL_ADJACENT = 40
_COLUMN_TOLERANCE = 8
_CAP_REACH = 30
_CAP_GAP = 8

# What the surrounding text says (case-sensitive where case means something).
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
CANCEL_SECTION = re.compile(r"cancel|refund|terminat|\bend(?:ing|s)?\b")
# Cue patterns begin with a literal (a leading \b or group would make the engine try every position), and
# check the word boundary, where it matters, after the first word.
_CLAIM_CUE = re.compile(r"claim(?<![a-z]claim)s?\b")
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
    r"gap\b(?<![a-z]gap)|waiver|addendum|protection|debt\s+cancellation|guaranteed\s+asset|certificate(?!\s+of\b)"
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
class Mention:
    """An amount in the text; a worded amount and its digits in parentheses are one mention."""

    value: Decimal
    start: int
    end: int
    in_words: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """Text that supports a value, and how strongly; the value's quote is cut around it."""

    strength: float
    start: int
    end: int
    in_words: bool = False


class Reading:
    """One document analysed once: amounts, labels, sentence and paragraph bounds, noise, the buyer's state."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.clean = unhyphenate(text)
        self.lower = lower_preserving_offsets(self.clean)
        self.index = DocumentIndex(text)
        self.mentions = _mentions(text, self.clean)
        self._mention_starts = [mention.start for mention in self.mentions]
        self.labels = [Label(match.lastgroup or "", *match.span()) for match in LABEL.finditer(self.lower)]
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
        self._links: dict[int, Linked | None] = {}

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

    def has_cue(self, cue: str) -> bool:
        """Whether the document says it anywhere: what a contract is about."""
        return bool(self._cue_starts[cue])

    def cue_starts(self, cue: str) -> list[int]:
        return self._cue_starts[cue]

    def _states_amount(self, start: int, end: int) -> bool:
        position = bisect_left(self._mention_starts, start)
        return position < len(self._mention_starts) and self._mention_starts[position] < end

    def injected(self, offset: int) -> bool:
        """Text addressed to an AI is not part of the contract's terms, whatever it claims."""
        return self.has("injection", *self.paragraph(offset))

    def example(self, offset: int) -> bool:
        lead_start, lead_end = self._paragraph_lead(offset)
        return (
            self.has("example", lead_start, min(lead_end, lead_start + 80))
            or "example" in self.section(offset)
            or self.has("example", *self.sentence(offset, offset))
        )

    def other_product(self, offset: int) -> bool:
        """Whether the offset is about a service contract, credit life or another product sold alongside."""
        section = self.section(offset)
        if _OTHER_PRODUCT.search(section) and not _GAP_CUE.search(section):
            return True
        lead = self._paragraph_lead(offset)
        # A first line stating an amount is a table's first row ("Credit Life Premium: $412.00"), not a title.
        if self.has("other_product", *lead) and not self.has("gap", *lead) and not self._states_amount(*lead):
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
        return CANCEL_SECTION.search(self.section(offset)) is not None

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
    def label_of(self, mention: Mention) -> Linked | None:
        if mention.start not in self._links:
            self._links[mention.start] = self._link(mention)
        return self._links[mention.start]

    def _link(self, mention: Mention) -> Linked | None:
        before = self._label_before(mention)
        if before is not None and before.kind in NAMING_KINDS and self.adjacent(before.end, mention.start):
            return before
        # "up to $1,000.00 for this Certificate": a cap right before an amount says what it is.
        if (
            before is not None
            and before.kind == "distractor"
            and mention.start - before.end <= _CAP_GAP
            and CAP.search(self.lower, before.start, before.end)
        ):
            return before
        after = LABEL_AFTER.match(self.lower, mention.end)
        if (
            after is not None
            and not self.lower.startswith(":", after.end())
            and not self._next_row(after, before, mention)
        ):
            return Linked(after.lastgroup or "", after.start(), after.end(), "after")
        if before is not None:
            return before
        return self._label_above(mention) or self._label_squeezed(mention)

    def _next_row(self, after: re.Match[str], before: Linked | None, mention: Mention) -> bool:
        """A row ("Total Premium ........ $1,295.00") belongs to its own label, not to the next row's."""
        return (
            before is not None
            and "\n" in self.lower[mention.end : after.start(after.lastgroup or 0)]
            and LEADER.fullmatch(self.lower, before.end, mention.start) is not None
            and ROW_LEADER.search(self.lower, before.end, mention.start) is not None
        )

    def adjacent(self, label_end: int, amount_start: int) -> bool:
        """Whether an amount is close enough to a label to be what it names: a few words, or a row's leader."""
        return amount_start - label_end <= _LABEL_ADJACENT or bool(
            LEADER.fullmatch(self.lower, label_end, amount_start)
        )

    def _label_before(self, mention: Mention) -> Linked | None:
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
        if label.kind == "premium_item" and not FILLER.fullmatch(self.lower, label.end, mention.start):
            return None
        return Linked(label.kind, label.start, label.end, "before")

    def _in_parentheses(self, label: Label, before: int) -> bool:
        opened = self.lower.rfind("(", max(0, label.start - _LABEL_ADJACENT), label.start)
        return (
            opened >= 0
            and ")" not in self.lower[opened : label.start]
            and ")" in self.lower[label.end : before]
        )

    def _label_above(self, mention: Mention) -> Linked | None:
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
        return Linked(best[1].kind, best[1].start, best[1].end, "column")

    def _label_squeezed(self, mention: Mention) -> Linked | None:
        line_start, _ = self.index.line_bounds(mention.start)
        window_start = max(line_start, mention.start - 60)
        squeezed = SQUEEZE.sub("", self.lower[window_start : mention.start])
        matches = [*SQUEEZED_LABEL.finditer(squeezed)]
        if not matches or len(squeezed) - matches[-1].end() > SQUEEZED_SLACK:
            return None
        return Linked(matches[-1].lastgroup or "", window_start, mention.start, "squeezed")

    def caps_a_fee(self, label: Linked) -> bool:
        """ "The cancellation fee may not exceed $25.00": the cap is the only amount the contract gives."""
        if not CAP.search(self.lower, label.start, label.end):
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
        value: Decimal | int | RefundMethod | str | None,
        confidence: float,
        evidence: Evidence | None,
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


def _mentions(text: str, clean: str) -> list[Mention]:
    """Amounts in digits are read in the unhyphenated text; in words, in the original, whose line-end hyphens
    ``find_word_amounts`` joins itself: "ninety-\nfive" is two number words, not "ninetyfive"."""
    digits = find_digit_amounts(clean)
    merged: list[Mention] = []
    paired: set[FoundAmount] = set()
    for worded in find_word_amounts(text):
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
            merged.append(Mention(worded.value, worded.start, worded.end, in_words=True))
        else:
            paired.add(partner)
            start, end = min(worded.start, partner.start), max(worded.end, partner.end)
            merged.append(Mention(worded.value, start, end, in_words=False))
    merged.extend(
        Mention(digit.value, digit.start, digit.end, False) for digit in digits if digit not in paired
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
