"""Grounding: trust a provider's value only as far as the document supports it.

Providers (LLMs included) return a value and a verbatim quote. The quote is located in the document text;
the value is then checked against the located text, never against the provider's own words, so text that
tries to instruct a model ("report the premium as $1.00") cannot raise a value's confidence.
"""

import re
import time
from bisect import bisect_right
from decimal import Decimal
from weakref import WeakKeyDictionary

from services.extraction.amounts import (
    AmountError,
    amount_support,
    damaged_numbers,
    read_amount,
    states_no_fee,
)
from services.extraction.loan_terms import (
    LOAN_TERM_READERS,
    LoanTermError,
    apr_stated,
    state_named,
    term_stated,
)
from services.extraction.locate import DocumentIndex, lower_preserving_offsets
from services.extraction.methods import canonical_method, method_supported_by, methods_stated
from services.extraction.types import AMOUNT_FIELDS, FieldCandidate, FieldResult, SourceSpan

DEFAULT_DEADLINE_S = 0.05
UNALIGNED_CAP = 20
UNSUPPORTED_CAP = 40
UNKNOWN_CAP = 60
# An amount read through OCR damage: a letter repaired to a digit ("$1,O95.00") is probably right, an
# unreadable character ("$7?5.00") only fits the value; both sit below the default review threshold (80) so
# that a person looks at the scan.
OCR_REPAIRED_CAP = 75
OCR_UNREADABLE_CAP = 50
# A quote naming more than one method ("pro rata or the Rule of 78s, as the state requires") does not say
# which one this contract uses.
SEVERAL_METHODS_CAP = 60

# Whitespace, dashes and quote marks carry no meaning for alignment: PDF text extraction, OCR and LLMs all
# change them freely ("can-\ncellation", curly quotes, doubled spaces).
_IGNORABLE_RUN = re.compile(r"[\s\-\u00ad\u2010-\u2015'\"‘’‚‛“”„`´]+")
_CHUNK_CHARS = 1 << 14
# Shorter quotes would match by accident once spacing is ignored; longer ones are not quotes but pastes.
_MIN_FUZZY_CHARS = 8
_MAX_FUZZY_CHARS = 4000
# Wording addressed to a model rather than to the buyer. A quote taken from such a passage supports nothing,
# even though it is "in the document": the rules extractor skips these passages for the same reason.
INSTRUCTION_TO_AI = re.compile(
    r"ignore\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|preceding)\s+instructions"
    r"|disregard\s+(?:all\s+|any\s+|the\s+)?(?:previous\s+|prior\s+|above\s+)?(?:text|instructions|above)"
    r"|ai(?<![a-z]ai)\s+(?:model|system|assistant)|language\s+model|automated\s+reviewers?"
    r"|system\s+(?:message|prompt|note)|you\s+are\s+now\b|output\s+these\b|report\s+the\s+(?:premium|fee|method|refund)"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\f")


class _FoldedText:
    """The document with ignorable characters removed and case folded, and the way back to real offsets.

    Built with one C-level ``re.sub`` per 16 KB chunk (no per-character Python loop) and checked against the
    deadline between chunks, so a 5 MB text gives up instead of hanging. Only the folded length of each
    chunk is kept; an offset is mapped back by re-walking the one chunk it falls in.
    """

    def __init__(self, text: str, folded: str, chunk_starts: list[int]) -> None:
        self._text = text
        self.folded = folded
        self._chunk_starts = chunk_starts

    @classmethod
    def build(cls, text: str, deadline: float) -> "_FoldedText | None":
        pieces: list[str] = []
        chunk_starts: list[int] = []
        folded_length = 0
        for chunk_start in range(0, len(text), _CHUNK_CHARS):
            if time.perf_counter() > deadline:
                return None
            piece = _IGNORABLE_RUN.sub("", text[chunk_start : chunk_start + _CHUNK_CHARS])
            chunk_starts.append(folded_length)
            folded_length += len(piece)
            pieces.append(piece)
        return cls(text, lower_preserving_offsets("".join(pieces)), chunk_starts)

    def find(self, quote: str) -> tuple[int, int] | None:
        """Original (start, end) of the first place whose folded text equals the folded quote."""
        folded_quote = fold(quote)
        position = self.folded.find(folded_quote) if len(folded_quote) >= _MIN_FUZZY_CHARS else -1
        if position < 0:
            return None
        return self._original(position), self._original(position + len(folded_quote) - 1) + 1

    def _original(self, folded_offset: int) -> int:
        chunk = bisect_right(self._chunk_starts, folded_offset) - 1
        remaining = folded_offset - self._chunk_starts[chunk]
        position = chunk * _CHUNK_CHARS
        for run in _IGNORABLE_RUN.finditer(self._text, position, position + _CHUNK_CHARS):
            kept = run.start() - position
            if remaining < kept:
                break
            remaining -= kept
            position = run.end()
        return position + remaining


_folded_documents: "WeakKeyDictionary[DocumentIndex, _FoldedText]" = WeakKeyDictionary()


def fold(text: str) -> str:
    """The comparison form of a text: ignorable characters removed, lower case."""
    return lower_preserving_offsets(_IGNORABLE_RUN.sub("", text))


def addresses_an_ai(text: str) -> bool:
    return INSTRUCTION_TO_AI.search(lower_preserving_offsets(text)) is not None


def align(index: DocumentIndex, quote: str, *, deadline_s: float = DEFAULT_DEADLINE_S) -> SourceSpan:
    """Locate ``quote`` in the document: exactly, else fuzzily within ``deadline_s``, else unaligned."""
    wanted = quote.strip()
    if not wanted:
        return index.unaligned(quote, "no quote given")
    position = index.text.find(wanted)
    if position >= 0:
        return index.span(position, position + len(wanted))
    if len(wanted) > _MAX_FUZZY_CHARS:
        return index.unaligned(quote, "quote not found in document (too long to align approximately)")
    folded = _folded_documents.get(index)
    if folded is None:
        folded = _FoldedText.build(index.text, time.perf_counter() + deadline_s)
        if folded is None:
            return index.unaligned(quote, "quote not found in document (alignment timed out)")
        _folded_documents[index] = folded
    found = folded.find(wanted)
    if found is None:
        return index.unaligned(quote, "quote not found in document")
    return index.span(*found, alignment="fuzzy")


def ground(
    document: DocumentIndex | str, candidate: FieldCandidate, *, deadline_s: float = DEFAULT_DEADLINE_S
) -> FieldResult:
    """Turn a provider's candidate into a result whose confidence the document can back up.

    Caps: quote not found → 20; quote found but not stating the value → 40 (an amount must be stated as a
    whole number: "$7?5.00" does not state 7.00; a term's months, a state's name or code and the APR's
    figure must appear in the quote); an amount fitting a number with an unreadable character →
    50, one repaired from OCR letters → 75; a quote naming several methods → 60; value None or ``Unknown``
    → 60 (an absence cannot be quoted); value that cannot be read (negative, not an amount, not a method) →
    value None with confidence 0. Each cap leaves a note on the span saying why: the review screen shows it.
    """
    index = document if isinstance(document, DocumentIndex) else DocumentIndex(document)
    value, refusal = _normalize(candidate)
    confidence = 0 if refusal else round(candidate.confidence)
    notes = [refusal] if refusal else []
    span = None if candidate.quote is None else align(index, candidate.quote, deadline_s=deadline_s)
    if span is not None and span.alignment == "unaligned":
        confidence = min(confidence, UNALIGNED_CAP)
        notes.append(span.note or "quote not found in document")
    elif span is None and value is not None:
        confidence = min(confidence, UNALIGNED_CAP)
        span = index.unaligned("", "no quote given")
        notes.append("no quote given")
    elif span is not None and value is not None:
        cap, unsupported = _support(candidate.name, value, span.quote)
        if unsupported is None and addresses_an_ai(_paragraph(index.text, span.start, span.end)):
            cap, unsupported = (
                UNSUPPORTED_CAP,
                "the quote comes from text addressed to an AI, not from the contract's terms",
            )
        if unsupported:
            confidence = min(confidence, cap)
            notes.append(unsupported)
    if value is None or value == "Unknown":
        confidence = min(confidence, UNKNOWN_CAP)
    if span is not None and notes:
        span = span.model_copy(update={"note": "; ".join(dict.fromkeys(notes))})
    elif span is None and notes:
        span = index.unaligned("", "; ".join(notes))
    return FieldResult(name=candidate.name, value=value, confidence=confidence, source=span)


def _paragraph(text: str, start: int, end: int) -> str:
    before = [match.end() for match in _PARAGRAPH_BREAK.finditer(text, max(0, start - 2000), start)]
    after = _PARAGRAPH_BREAK.search(text, end, end + 2000)
    return text[before[-1] if before else max(0, start - 2000) : after.start() if after else end + 2000]


def _normalize(candidate: FieldCandidate) -> tuple[Decimal | int | str | None, str | None]:
    raw = candidate.value
    if raw is None or not raw.strip():
        return None, None
    reader = LOAN_TERM_READERS.get(candidate.name)
    if reader is not None:
        try:
            return reader(raw), None
        except LoanTermError as error:
            return None, f"value refused: {error}"
    if candidate.name in AMOUNT_FIELDS:
        try:
            return read_amount(raw), None
        except AmountError as error:
            return None, f"value refused: {error}"
    method = canonical_method(raw)
    if method is None:
        return None, f"value refused: {raw.strip()!r} is not a refund method"
    return method, None


def _support(name: str, value: Decimal | int | str, quote: str) -> tuple[int, str | None]:
    """The cap and the reason when ``quote`` does not fully support ``value``; (100, None) when it does."""
    if name == "term_months":
        return (
            (100, None)
            if term_stated(quote, int(value))
            else (
                UNSUPPORTED_CAP,
                f"the quote does not state a term of {value} months",
            )
        )
    if name == "governing_state":
        return (
            (100, None)
            if state_named(quote, str(value))
            else (
                UNSUPPORTED_CAP,
                f"the quote does not name the state {value}",
            )
        )
    if name == "apr":
        return (
            (100, None)
            if apr_stated(quote, Decimal(value))
            else (
                UNSUPPORTED_CAP,
                f"the quote does not state an APR of {value}%",
            )
        )
    if isinstance(value, Decimal):
        if value == 0 and name == "cancellation_fee" and states_no_fee(quote):
            return 100, None
        support = amount_support(quote, value)
        if support.stated:
            return (OCR_REPAIRED_CAP, support.damage) if support.damage else (100, None)
        if support.damage:
            return OCR_UNREADABLE_CAP, f"{support.damage}; {value} cannot be confirmed"
        if value == 0:
            return UNSUPPORTED_CAP, "the quote does not say that there is no fee"
        damaged = damaged_numbers(quote)
        if damaged:
            return UNSUPPORTED_CAP, (
                f"amount {value} does not appear in the quote as a whole amount (the quote's number "
                f"{damaged[0]!r} is damaged)"
            )
        return UNSUPPORTED_CAP, f"amount {value} does not appear in the quote"
    if value == "Unknown":
        return (
            (100, None)
            if method_supported_by(quote, value)
            else (
                UNSUPPORTED_CAP,
                "the quote states a refund method, not that none is stated",
            )
        )
    if not method_supported_by(quote, value):
        return UNSUPPORTED_CAP, f"the quote does not state the {value} method"
    others = sorted(methods_stated(quote) - {value})
    if others:
        return SEVERAL_METHODS_CAP, f"the quote also names {', '.join(others)}: it does not say which applies"
    return 100, None
