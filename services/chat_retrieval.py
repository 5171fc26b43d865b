"""The offline answerer: a question about one contract, answered by quoting the contract itself.

No model and no network: the contract is cut into passages (sentences, table rows, "Label: value" lines),
and the passages are ranked against the question with BM25, the ranking function of search engines, over
stemmed words without English stop words. Reviewers ask about a handful of things (the premium, the fee,
the refund method, the lienholder, the free look period) in words the contract rarely uses ("premium"
where the contract says "GAP Waiver Price"), so each question word stands for a small group of words that
say the same thing; a group counts once, by its best word. An answer quotes the best passages verbatim
with their page and line, and says plainly when no passage covers enough of the question: a reviewer must
never take a loosely related sentence for the contract's answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from services.extraction.grounding import addresses_an_ai
from services.extraction.locate import DocumentIndex, lower_preserving_offsets, unhyphenate

RETRIEVAL_VERSION = "bm25-1"
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 420

_K1 = 1.2
_B = 0.75
# A passage is an answer only if it covers at least this share of the question's word groups...
_MIN_COVERAGE = 0.6
# ...and scores within this fraction of the best passage.
_RELATIVE_CUTOFF = 0.45
# ...and matches one of them by the word itself or a synonym at least this close.
_STRONG_MATCH = 0.7
_SECTION_WEIGHT = 0.3
_HINT_WEIGHT = 0.35
_PHRASE_BONUS = 0.6
_AMOUNT_BOOST = 1.8
_EXAMPLE_PENALTY = 0.6

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# Words, and the punctuation that separates phrases: "paid in full, the refund" holds no "full refund".
_WORD_OR_BREAK = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[,;:()\[\]]")
_BREAK = "|"
# "$1,250.00", OCR's "S1,250.00", and amounts in words ("... AND 00/100 DOLLARS").
_AMOUNT = re.compile(r"\$\s?\d|\bS\d|\b\d\d/100\b|\b(?i:dollars)\b")
_EXAMPLE = re.compile(r"\b(?:for example|for illustration|illustration only|example)\b", re.IGNORECASE)
_ASKS_AMOUNT = re.compile(r"\b(?:how much|amount|cost|price|premium|fee|charge|paid|pay)\b", re.IGNORECASE)

# --- words ---------------------------------------------------------------------------------------------

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his how
    i if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
    or other ought our ours ourselves out over own same shan't she should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they this those through to too under
    until up very was wasn't we were weren't what what's when where which while who who's whom why will with
    won't would wouldn't you your yours yourself yourselves
    also anything something tell please say says said mention mentioned know explain describe give find
    show see much many kind type contract document doc may might must shall per us
    """.split()  # noqa: SIM905 - a word list reads best as words
)

# Contracts call the buyer "you": in a question, naming the buyer says nothing about what is asked.
QUESTION_STOP_WORDS = STOP_WORDS | frozenset(
    "buyer buyers customer customers borrower lessee purchaser client consumer".split()  # noqa: SIM905
)

_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ations", ""),
    ("ation", ""),
    ("ements", ""),
    ("ments", ""),
    ("ment", ""),
    ("ables", ""),
    ("able", ""),
    ("ibles", ""),
    ("ible", ""),
    ("ings", ""),
    ("ing", ""),
    ("ated", ""),
    ("ates", ""),
    ("edly", ""),
    ("ied", "y"),
    ("ies", "y"),
    ("ed", ""),
    ("ly", ""),
    ("age", ""),
)
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light suffix stripper: "cancellation", "cancelled", "cancels" and "cancel" share one stem.

    Far simpler than Porter's algorithm, and enough for one document's vocabulary: what matters is that a
    question's word and the contract's word meet, not that the stem is a real word.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith(("sses", "xes", "zes", "ches", "shes")):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        # "charge" meets "charged" (whose suffix took the e): only a word that kept its e loses it.
        if word.endswith("e") and len(word) > 3:
            word = word[:-1]
    if word.endswith("at") and len(word) > 5:
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    return word


def _word(token: str) -> str:
    return token.replace("’", "'").removesuffix("'s")


# Word pairs that name something else than their words: a "debt cancellation fee" is the price of a debt
# cancellation agreement (the premium), never the fee charged for cancelling it.
_COMPOUNDS: dict[tuple[str, str], str] = {(stem("debt"), stem("cancellation")): "debt_cancel"}


def _merge_compounds(tokens: list[str]) -> list[str]:
    merged: list[str] = []
    for token in tokens:
        compound = _COMPOUNDS.get((merged[-1], token)) if merged else None
        if compound is None:
            merged.append(token)
        else:
            merged[-1] = compound
    return merged


def _tokens(lowered: str) -> list[str]:
    """Stems of the content words, with a break (``"|"``) where punctuation separates them."""
    tokens: list[str] = []
    for token in _WORD_OR_BREAK.findall(lowered):
        if token[0].isalnum():
            word = _word(token)
            if word not in STOP_WORDS:
                tokens.append(stem(word))
        elif tokens and tokens[-1] != _BREAK:
            tokens.append(_BREAK)
    return _merge_compounds(tokens)


def _phrase(words: str) -> tuple[str, ...]:
    """The stems of a phrase as passages store it: stop words left out, so "agreed to pay" meets "agreed
    to pay" however the words between are spelled."""
    return tuple(token for token in _tokens(words.lower()) if token != _BREAK)


Alternatives = dict[tuple[str, ...], float]


def _alternatives(table: dict[str, float]) -> Alternatives:
    return {_phrase(words): weight for words, weight in table.items()}


# What a reviewer's word may be called in a contract, with how surely it means the same thing. A
# many-word alternative counts only where its words stand next to each other.
_SYNONYMS: dict[str, Alternatives] = {
    stem(word): _alternatives(table)
    for word, table in {
        "premium": {
            "charge": 0.7,
            "price": 0.7,
            "cost": 0.6,
            "agreed to pay": 0.7,
            "debt cancellation fee": 0.8,
        },
        "price": {"charge": 0.7, "premium": 0.8, "cost": 0.6, "agreed to pay": 0.7},
        "cost": {"charge": 0.7, "price": 0.7, "premium": 0.7, "agreed to pay": 0.7},
        "charge": {"price": 0.7, "premium": 0.7, "cost": 0.6},
        "fee": {"charge": 0.6, "penalty": 0.6},
        "penalty": {"fee": 0.7, "charge": 0.5},
        "refund": {"unearned": 0.6, "rebate": 0.6},
        "calculated": {
            "computed": 0.8,
            "method": 0.7,
            "pro rata": 0.7,
            "rule of 78s": 0.7,
            "actuarial": 0.7,
            "short rate": 0.7,
            "proportion": 0.7,
            "prorated": 0.7,
            "days remaining": 0.6,
            "formula": 0.6,
        },
        "method": {"calculated": 0.7, "computed": 0.6, "pro rata": 0.6, "rule of 78s": 0.6, "actuarial": 0.6},
        "cancel": {"terminate": 0.6, "termination": 0.6},
        "lienholder": {"lender": 0.7, "creditor": 0.7, "assignee": 0.5, "lien holder": 1.0},
        "lender": {"lienholder": 0.8, "creditor": 0.7},
        "period": {"days": 0.5, "term": 0.4},
        "cover": {"coverage": 0.9, "benefit": 0.5},
    }.items()
}
# Question phrases that mean more than their words: "free look" is the right to return the addendum for a
# full refund within some days, whether or not the contract uses the name. Such a phrase is one group.
_PHRASES: dict[tuple[str, ...], Alternatives] = {
    _phrase("free look"): _alternatives({"free look": 1.0, "full refund": 0.8, "full refunds": 0.8}),
    _phrase("cooling off"): _alternatives({"cooling off": 1.0, "full refund": 0.8}),
}
# Words that stand for another only when the question names a notion: in "what is the cancellation fee?",
# an "administrative fee" on refunds is the fee asked about, though the contract never says "cancel".
_NOTION_SYNONYMS: dict[tuple[str, ...], dict[str, Alternatives]] = {
    _phrase("cancellation fee"): {
        stem("cancellation"): _alternatives(
            {"administrative fee": 0.8, "processing fee": 0.6, "refunds": 0.5}
        )
    },
}
# Words that make a passage more likely to be about the GAP product itself than about a loan or another
# product: they raise a passage's score a little but never make it an answer on their own.
_PRODUCT_WORDS = _phrase("gap waiver addendum protection debt cancellation")
_HINTS: dict[str, tuple[str, ...]] = {
    stem("premium"): _PRODUCT_WORDS,
    stem("price"): _PRODUCT_WORDS,
    stem("cost"): _PRODUCT_WORDS,
    stem("fee"): _phrase("cancel"),
    stem("refund"): _phrase("cancel unearned"),
    stem("calculated"): _phrase("refund unearned"),
}


@dataclass(frozen=True)
class Query:
    groups: tuple[Alternatives, ...]
    """Per question word (or phrase): the words and phrases that may stand for it, with their weights."""
    required: frozenset[int]
    """Groups an answer must match: a named notion ("free look") is the subject of its question."""
    terms: frozenset[str]
    """The question's own words: where two of them stand together in a passage, it earns a bonus."""
    hints: frozenset[str]
    topic: str
    """The question's subject as typed ("the capital of France"): what a "not found" answer names."""
    asks_amount: bool


def _contains(sequence: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(sequence[at : at + size]) == phrase for at in range(len(sequence) - size + 1))


def parse_question(question: str) -> Query:
    lowered = lower_preserving_offsets(question)
    content = [
        (stem(word), match)
        for match in _WORD.finditer(lowered)
        if (word := _word(match.group())) not in QUESTION_STOP_WORDS and len(word) > 1
    ]
    sequence = _merge_compounds([stemmed for stemmed, _ in content])
    groups: list[Alternatives] = []
    required: set[int] = set()
    position = 0
    while position < len(sequence):
        phrase = next(
            (
                phrase
                for phrase in _PHRASES
                if _contains(sequence[position:], phrase[:1])
                and tuple(sequence[position : position + len(phrase)]) == phrase
            ),
            None,
        )
        if phrase is not None:
            required.add(len(groups))
            groups.append(_PHRASES[phrase])
            position += len(phrase)
            continue
        term = sequence[position]
        alternatives = {(term,): 1.0, **_SYNONYMS.get(term, {})}
        for notion, extra in _NOTION_SYNONYMS.items():
            if term in extra and _contains(sequence, notion):
                alternatives.update(extra[term])
        if alternatives not in groups:
            groups.append(alternatives)
        position += 1
    terms = frozenset(sequence)
    topic = question[content[0][1].start() : content[-1][1].end()] if content else ""
    return Query(
        groups=tuple(groups),
        required=frozenset(required),
        terms=terms,
        hints=frozenset(hint for term in terms for hint in _HINTS.get(term, ())) - terms,
        topic=" ".join(topic.split()),
        asks_amount=bool(_ASKS_AMOUNT.search(question)),
    )


# --- passages ------------------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"[\n\f]")
_BORDER = re.compile(r"[\s+|=*_~-]*")
_ROW = re.compile(r"\.{4,}|\S[ \t]{3,}\S|_{6,}")
_LABEL = re.compile(r"(?:[A-Z][A-Za-z'’/&-]*(?:[ \t][A-Za-z'’/&-]+){0,4}):[ \t]")
_ITEM = re.compile(r"(?:\([a-z0-9ivx]{1,4}\)|\d{1,2}[.)]|[•*-])[ \t]")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]?(?=\s+[\"“(]?[A-Z0-9$])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:No|Nos|Inc|Corp|Co|Ltd|LLC|St|Rev|Mr|Mrs|Ms|Dr|Jr|Sr|vs|etc|approx|Ave|Blvd|Hwy|Dept)|"
    r"\b[A-Z]|\b(?:[A-Za-z]\.){1,3}[A-Za-z])$"
)
_BOX_EDGE = re.compile(r"^[ \t]*\|[ \t]?|[ \t]*\|[ \t]*$", re.MULTILINE)
_LEADER = re.compile(r"[ \t]*\.{4,}[ \t]*")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    tokens: tuple[str, ...]
    """Stems in order, with breaks at punctuation (for phrases)."""
    counts: Counter[str]
    length: int
    section_tokens: frozenset[str]
    has_amount: bool
    is_example: bool

    def occurrences(self, words: tuple[str, ...]) -> int:
        if len(words) == 1:
            return self.counts.get(words[0], 0)
        if any(word not in self.counts for word in words):
            return 0
        size = len(words)
        return sum(1 for at in range(len(self.tokens) - size + 1) if self.tokens[at : at + size] == words)


def _content_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The line without its box edges ("| ... |") and surrounding spaces."""
    line = text[start:end]
    left = len(line) - len(line.lstrip(" \t|"))
    right = len(line.rstrip(" \t|"))
    return start + left, start + max(right, left)


def split_passages(text: str, locator: DocumentIndex) -> list[tuple[int, int]]:
    """(start, end) of every passage: sentences of prose, table rows, labelled lines.

    Prose wraps over lines, so sentences are cut from runs of consecutive prose lines; a blank line, a page
    break, a heading, a table row, a list item or a "Label:" line ends the run. Headings are not passages
    (they answer nothing): they lend their words to the passages under them instead.
    """
    passages: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if run:
            passages.extend(_sentences(text, run[0][0], run[-1][1]))
            run.clear()

    line_start = 0
    while line_start <= len(text):
        line_break = _LINE_BREAK.search(text, line_start)
        line_end = line_break.start() if line_break else len(text)
        start, end = _content_bounds(text, line_start, line_end)
        line = text[start:end]
        if not line or _BORDER.fullmatch(line) or " ".join(line.split()) == locator.locate(start).section:
            flush()
        elif _ROW.search(line):
            flush()
            passages.append((start, end))
        else:
            if _LABEL.match(line) or _ITEM.match(line):
                flush()
            run.append((start, end))
        if line_break is None:
            break
        if line_break.group() == "\f":
            flush()
        line_start = line_break.end()
    flush()
    return passages


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    pieces: list[tuple[int, int]] = []
    begin = 0
    for match in _SENTENCE_END.finditer(block):
        if _ABBREVIATION.search(block, 0, match.start()):
            continue
        pieces.append((begin, match.end()))
        begin = match.end()
    pieces.append((begin, len(block)))
    result: list[tuple[int, int]] = []
    for piece_start, piece_end in pieces:
        chunk = block[piece_start:piece_end]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        if right > left:
            result.append((start + piece_start + left, start + piece_start + right))
    return result


class ContractIndex:
    """The passages of one contract with the statistics BM25 needs; built once per text (cached)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.locator = DocumentIndex(text)
        # Words broken across lines ("can-\ncellation") are joined; offsets do not move.
        lowered = lower_preserving_offsets(unhyphenate(text))
        passages: list[Passage] = []
        for start, end in split_passages(text, self.locator):
            original = text[start:end]
            tokens = tuple(_tokens(lowered[start:end]))
            counts = Counter(token for token in tokens if token != _BREAK)
            if counts.total() < 2 or addresses_an_ai(lowered[start:end]):
                continue
            section = self.locator.locate(start).section or ""
            passages.append(
                Passage(
                    start=start,
                    end=end,
                    tokens=tokens,
                    counts=counts,
                    length=counts.total(),
                    section_tokens=frozenset(_tokens(section.lower())) - {_BREAK},
                    has_amount=bool(_AMOUNT.search(original)),
                    is_example=bool(_EXAMPLE.search(original)),
                )
            )
        self.passages = passages
        self._document_frequency: Counter[str] = Counter()
        for passage in passages:
            self._document_frequency.update(passage.counts.keys())
        self._average_length = sum(p.length for p in passages) / len(passages) if passages else 1.0

    def idf(self, term: str) -> float:
        n = len(self.passages)
        df = self._document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: Query, limit: int = MAX_QUOTES) -> list[tuple[Passage, float]]:
        """The best passages for the query, best first; empty when none answers it.

        A passage answers when it covers enough of the question's groups and matches at least one of them
        by the word itself or a close synonym: words that are merely related ("days" for "period") rank
        passages but cannot make one an answer.
        """
        if not query.groups:
            return []
        needed = max(1, math.ceil(len(query.groups) * _MIN_COVERAGE))
        scored: list[tuple[Passage, float]] = []
        for passage in self.passages:
            score, covered, strongest = self._score(passage, query)
            if len(covered) >= needed and query.required <= covered and strongest >= _STRONG_MATCH:
                scored.append((passage, score))
        scored.sort(key=lambda item: (-item[1], item[0].start))
        if not scored:
            return []
        best = scored[0][1]
        return [item for item in scored if item[1] >= best * _RELATIVE_CUTOFF][:limit]

    def _score(self, passage: Passage, query: Query) -> tuple[float, set[int], float]:
        """BM25 summed over the question's groups (each by its best alternative), and which groups matched."""
        norm = _K1 * (1 - _B + _B * passage.length / self._average_length)
        score = 0.0
        covered: set[int] = set()
        strongest = 0.0
        for number, group in enumerate(query.groups):
            best = 0.0
            best_weight = 0.0
            for words, weight in group.items():
                tf = passage.occurrences(words)
                idf = sum(self.idf(word) for word in words)
                if tf:
                    value, strength = weight * idf * tf * (_K1 + 1) / (tf + norm), weight
                elif len(words) == 1 and words[0] in passage.section_tokens:
                    # The heading above speaks of it: a hint about where the passage is, not an answer.
                    value, strength = weight * _SECTION_WEIGHT * idf, 0.0
                else:
                    continue
                if value > best:
                    best, best_weight = value, strength
            if best > 0:
                covered.add(number)
                score += best
                strongest = max(strongest, best_weight)
        for hint in query.hints:
            if hint in passage.counts:
                score += _HINT_WEIGHT * self.idf(hint)
        score += _PHRASE_BONUS * sum(
            min(self.idf(first), self.idf(second))
            for first, second in zip(passage.tokens, passage.tokens[1:], strict=False)
            if first != second and first in query.terms and second in query.terms
        )
        if query.asks_amount:
            if passage.has_amount:
                score *= _AMOUNT_BOOST
            if passage.is_example:
                score *= _EXAMPLE_PENALTY
        return score, covered, strongest


@lru_cache(maxsize=16)
def contract_index(text: str) -> ContractIndex:
    """The index of a contract text; a conversation asks several questions about the same contract."""
    return ContractIndex(text)


# --- answers -------------------------------------------------------------------------------------------


class Citation(BaseModel):
    """A passage an answer quotes: ``quote`` is ``document_text[start:end]``, verbatim."""

    model_config = ConfigDict(frozen=True)

    page: int
    line: int
    section: str | None
    start: int
    end: int
    quote: str


class OfflineAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    citations: list[Citation]


def display_quote(quote: str) -> str:
    """A quote as one readable line: box edges, leader dots and line breaks become plain spacing."""
    shown = _SPACES.sub(" ", _LEADER.sub(" … ", _BOX_EDGE.sub(" ", quote))).strip()
    if len(shown) > MAX_QUOTE_CHARS:
        shown = shown[: MAX_QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return shown


def citation_for(index: DocumentIndex, start: int, end: int) -> Citation:
    page, line, section = index.locate(start)
    return Citation(page=page, line=line, section=section, start=start, end=end, quote=index.text[start:end])


def _where(citation: Citation) -> str:
    place = f"page {citation.page}, line {citation.line}"
    return f"{place}, {citation.section}" if citation.section else place


def answer_question(text: str, question: str) -> OfflineAnswer:
    """Answer from the contract's own words: its most relevant passages, each with page and line."""
    query = parse_question(question)
    if not query.groups:
        return OfflineAnswer(
            text=(
                "Ask about something the contract may say, for example “What is the cancellation fee?” "
                "or “How is the refund calculated?”."
            ),
            citations=[],
        )
    index = contract_index(text)
    found = index.search(query)
    if not found:
        return OfflineAnswer(
            text=(
                f"The contract does not seem to say anything about {query.topic}. "
                "Try other words, or read the contract text itself: this answer only searches it."
            ),
            citations=[],
        )
    citations = [citation_for(index.locator, passage.start, passage.end) for passage, _ in found]
    lines = ["The contract says:" if len(citations) == 1 else "The most relevant passages of the contract:"]
    for citation in citations:
        lines.append(f"\n“{display_quote(citation.quote)}”\n— {_where(citation)}")
    return OfflineAnswer(text="\n".join(lines), citations=citations)
