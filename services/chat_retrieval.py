"""The offline answerer: a question about one contract, answered by quoting the contract itself.

No model and no network: the contract is cut into passages here (sentences, table rows, "Label: value"
lines), and PostgreSQL ranks them against the question with its full-text search, as it does for the
product's search: ``to_tsvector('english', …)`` with its stemmer and stop words, ``phraseto_tsquery`` for
each word or phrase of the question, ``ts_rank_cd`` for how densely a passage covers it (weighted by how
rare the word is among the contract's passages). The passages are sent with the query (an array, unnested),
so nothing is stored; cutting them and citing page and line stay here (services.chat_passages). Reviewers ask about a handful of things (the
premium, the fee, the refund method, the lienholder, the free look period) in words the contract rarely
uses ("premium" where the contract says "GAP Waiver Price"), so each question word stands for a small group
of words that say the same thing; a group counts once, by its best word. An answer quotes the best
passages verbatim with their page and line, and says plainly when no passage covers enough of the question:
a reviewer must never take a loosely related sentence for the contract's answer.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.chat_passages import split_passages
from services.extraction.grounding import addresses_an_ai
from services.extraction.locate import DocumentIndex, lower_preserving_offsets, unhyphenate

RETRIEVAL_VERSION = "pg-fts-1"
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 420

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
# ts_rank_cd's normalization: 1 divides by 1 + log(the passage's length), so a long passage does not win by
# its length; 32 maps the rank r to r / (r + 1), so each repetition of a word counts less.
_RANK_NORMALIZATION = 1 | 32

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# "$1,250.00", OCR's "S1,250.00", and amounts in words ("... AND 00/100 DOLLARS").
_AMOUNT = re.compile(r"\$\s?\d|\bS\d|\b\d\d/100\b|\b(?i:dollars)\b")
_EXAMPLE = re.compile(r"\b(?:for example|for illustration|illustration only|example)\b", re.IGNORECASE)
_ASKS_AMOUNT = re.compile(r"\b(?:how much|amount|cost|price|premium|fee|charge|paid|pay)\b", re.IGNORECASE)
# A "debt cancellation fee" is the price of a debt cancellation agreement (the premium), never the fee
# charged for cancelling it: the pair is made one word, in passages and questions alike.
_DEBT_CANCELLATION = re.compile(r"\bdebt[ \t]+cancell?ation\b", re.IGNORECASE)
_PRODUCT_NAME = "debtcancellation"

# --- the question ----------------------------------------------------------------------------------------

# Words that say nothing about what is asked of a contract (English stop words are PostgreSQL's).
# Contracts call the buyer "you": in a question, naming the buyer says nothing about what is asked.
_QUESTION_FILLER = frozenset(
    """
    anything something tell please say says said mention mentioned know explain describe give find show see
    much many kind type contract document doc may might must shall per us also
    buyer buyers customer customers borrower lessee purchaser client consumer
    """.split()  # noqa: SIM905 - a word list reads best as words
)

# What a reviewer's word may be called in a contract, with how surely it means the same thing. Keys are
# matched on PostgreSQL's English stem, so "charges" and "charged" find "charge". A many-word alternative
# counts only where its words stand next to each other.
_SYNONYMS: dict[str, dict[str, float]] = {
    "premium": {
        "charge": 0.7,
        "price": 0.7,
        "cost": 0.6,
        "agreed to pay": 0.7,
        f"{_PRODUCT_NAME} fee": 0.8,
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
    "method": {
        "calculated": 0.7,
        "computed": 0.6,
        "pro rata": 0.6,
        "rule of 78s": 0.6,
        "actuarial": 0.6,
    },
    "cancel": {"terminate": 0.6, "termination": 0.6},
    "lienholder": {"lender": 0.7, "creditor": 0.7, "assignee": 0.5, "lien holder": 1.0},
    "lender": {"lienholder": 0.8, "creditor": 0.7},
    "period": {"days": 0.5, "term": 0.4},
    "cover": {"coverage": 0.9, "benefit": 0.5},
}
# Question phrases that mean more than their words: "free look" is the right to return the addendum for a
# full refund within some days, whether or not the contract uses the name. Such a phrase is one group, and
# an answer must match it.
_PHRASES: dict[tuple[str, ...], dict[str, float]] = {
    ("free", "look"): {"free look": 1.0, "full refund": 0.8},
    ("cooling", "off"): {"cooling off": 1.0, "full refund": 0.8},
}
# Words that stand for another only when the question names a notion: in "what is the cancellation fee?",
# an "administrative fee" on refunds is the fee asked about, though the contract never says "cancel".
_NOTIONS: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    ("cancellation", "fee"): {
        "cancellation": {"administrative fee": 0.8, "processing fee": 0.6, "refunds": 0.5},
    },
}
# Words that make a passage more likely to be about the GAP product itself than about a loan or another
# product: they raise a passage's score a little but never make it an answer on their own.
_PRODUCT_WORDS = ("gap", "waiver", "addendum", "protection", _PRODUCT_NAME)
_HINTS: dict[str, tuple[str, ...]] = {
    "premium": _PRODUCT_WORDS,
    "price": _PRODUCT_WORDS,
    "cost": _PRODUCT_WORDS,
    "fee": ("cancel",),
    "refund": ("cancel", "unearned"),
    "calculated": ("refund", "unearned"),
}
_TABLE_WORDS = sorted(
    {
        *_PRODUCT_WORDS,
        *_SYNONYMS,
        *_HINTS,
        *(hint for hints in _HINTS.values() for hint in hints),
        *(word for pair in _NOTIONS for word in pair),
    }
)

Alternatives = dict[str, float]


@dataclass(frozen=True)
class Query:
    groups: tuple[Alternatives, ...]
    """Per question word (or phrase): the words and phrases that may stand for it, with their weights."""
    required: frozenset[int]
    """Groups an answer must match: a named notion ("free look") is the subject of its question."""
    pairs: tuple[str, ...]
    """The question's own neighbouring words: where a passage has them side by side, it earns a bonus."""
    hints: tuple[str, ...]
    topic: str
    """The question's subject as typed ("the capital of France"): what a "not found" answer names."""
    asks_amount: bool


def _without_product_name(text: str) -> str:
    """The text with "debt cancellation" as one word, padded so that every offset stays where it was."""
    return _DEBT_CANCELLATION.sub(lambda match: _PRODUCT_NAME.ljust(len(match[0])), text)


async def _stems(session: AsyncSession, words: list[str]) -> dict[str, str | None]:
    """PostgreSQL's English stem of each word (None for a stop word): questions meet the tables on stems."""
    rows = await session.execute(
        text("SELECT word, (ts_lexize('english_stem', word))[1] FROM unnest(CAST(:words AS text[])) AS word"),
        {"words": words},
    )
    return {word: stem for word, stem in rows}  # noqa: C416 - rows are Row objects, not pairs


def _word(token: str) -> str:
    return token.replace("’", "'").removesuffix("'s")


async def parse_question(session: AsyncSession, question: str) -> Query:
    """The question's word groups, each word with what a contract may call it instead, matched on stems."""
    lowered = _without_product_name(lower_preserving_offsets(question))
    matches = [
        match
        for match in _WORD.finditer(lowered)
        if (word := _word(match.group())) not in _QUESTION_FILLER and len(word) > 1
    ]
    words = [_word(match.group()) for match in matches]
    stems = await _stems(session, sorted({*words, *_TABLE_WORDS}))
    synonyms = {stems[word]: table for word, table in _SYNONYMS.items()}
    question_stems = [stems[word] for word in words]
    neighbours = set(itertools.pairwise(question_stems))
    notions = {
        stems[word]: extra
        for (first, second), table in _NOTIONS.items()
        if (stems[first], stems[second]) in neighbours
        for word, extra in table.items()
    }
    # The product's name says which product, not what is asked about it (but a debt cancellation fee is asked).
    product = {stems[word] for word in _PRODUCT_WORDS if word != _PRODUCT_NAME}
    only_product = all(stem is None or stem in product for stem in question_stems)
    named: set[str] = set()
    groups: list[Alternatives] = []
    required: set[int] = set()
    content: list[str] = []
    position = 0
    while position < len(words):
        phrase = next((p for p in _PHRASES if tuple(words[position : position + len(p)]) == p), None)
        if phrase is not None:
            required.add(len(groups))
            groups.append(_PHRASES[phrase])
            content.extend(phrase)
            position += len(phrase)
            continue
        word = words[position]
        position += 1
        stem = stems[word]
        if stem is None:  # a stop word: PostgreSQL would not look for it
            continue
        if stem in product and not only_product:
            named.add(word)
            continue
        alternatives = {word: 1.0, **synonyms.get(stem, {}), **notions.get(stem, {})}
        content.append(word)
        if alternatives not in groups:
            groups.append(alternatives)
    asked = {stems.get(word) for word in content}
    hints = named | {
        hint
        for word, table in _HINTS.items()
        if stems[word] in asked
        for hint in table
        if stems[hint] not in asked
    }
    # A word counts once: not as a hint where it is already part of what a group looks for.
    hints -= {word for group in groups for words in group for word in words.split()}
    pairs = tuple(f"{a} {b}" for a, b in itertools.pairwise(content) if stems.get(a) != stems.get(b))
    said = [match for match, word in zip(matches, words, strict=True) if stems[word] is not None]
    topic = question[said[0].start() : said[-1].end()] if said else ""
    return Query(
        groups=tuple(groups),
        required=frozenset(required),
        pairs=pairs,
        hints=tuple(sorted(hints)),
        topic=" ".join(topic.split()),
        asks_amount=bool(_ASKS_AMOUNT.search(question)),
    )


# --- ranking -------------------------------------------------------------------------------------------

_RANK = text(
    """
    WITH passage AS (
        SELECT n, setweight(to_tsvector('english', body), 'A') AS body,
               setweight(to_tsvector('english', heading), 'A') AS heading
        FROM unnest(CAST(:bodies AS text[]), CAST(:headings AS text[])) WITH ORDINALITY AS p(body, heading, n)
    ), alternative AS (
        SELECT n, phraseto_tsquery('english', words) AS query
        FROM unnest(CAST(:alternatives AS text[])) WITH ORDINALITY AS a(words, n)
    )
    SELECT p.n AS passage, a.n AS alternative, (numnode(a.query) + 1) / 2 AS words,
           CASE WHEN p.body @@ a.query THEN ts_rank_cd(p.body, a.query, :normalization) END AS in_body,
           CASE WHEN p.heading @@ a.query THEN ts_rank_cd(p.heading, a.query, :normalization) END AS in_heading
    FROM passage p CROSS JOIN alternative a
    WHERE numnode(a.query) > 0 AND (p.body @@ a.query OR p.heading @@ a.query)
    """
)


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    has_amount: bool
    is_example: bool


@dataclass(frozen=True)
class ContractPassages:
    """The passages of one contract worth ranking, with the text PostgreSQL reads for each (``bodies``) and
    the heading above it (``headings``)."""

    locator: DocumentIndex
    passages: list[Passage]
    bodies: list[str]
    headings: list[str]


@lru_cache(maxsize=16)
def contract_passages(document: str) -> ContractPassages:
    """The contract cut into passages; cached, since a conversation asks several questions of one contract.

    Words broken across lines ("can-\\ncellation") are joined first; offsets do not move. A passage of one
    word, or one addressed to an AI, is never an answer.
    """
    locator = DocumentIndex(document)
    joined = _without_product_name(unhyphenate(document))
    cut = ContractPassages(locator, [], [], [])
    for start, end in split_passages(document, locator):
        body = joined[start:end]
        if len(_WORD.findall(body.lower())) < 2 or addresses_an_ai(body):
            continue
        original = document[start:end]
        cut.passages.append(
            Passage(start, end, bool(_AMOUNT.search(original)), bool(_EXAMPLE.search(original)))
        )
        cut.bodies.append(body)
        cut.headings.append(_without_product_name(locator.locate(start).section or ""))
    return cut


async def search(
    session: AsyncSession, contract: ContractPassages, query: Query, limit: int = MAX_QUOTES
) -> list[Passage]:
    """The best passages for the query, best first; empty when none answers it.

    PostgreSQL says which passages hold each word or phrase and how densely (``ts_rank_cd``); a passage
    answers when it covers enough of the question's groups and matches at least one of them by the word
    itself or a close synonym: words that are merely related ("days" for "period") rank passages but cannot
    make one an answer.
    """
    passages, bodies, headings = contract.passages, contract.bodies, contract.headings
    if not query.groups or not passages:
        return []
    alternatives = sorted({*(words for group in query.groups for words in group), *query.hints, *query.pairs})
    rows = await session.execute(
        _RANK,
        {
            "bodies": bodies,
            "headings": headings,
            "alternatives": alternatives,
            "normalization": _RANK_NORMALIZATION,
        },
    )
    found: dict[int, dict[str, tuple[float | None, float | None]]] = defaultdict(dict)
    holding: Counter[str] = Counter()
    lexemes: dict[str, int] = {}
    for passage, alternative, words, in_body, in_heading in rows:
        phrase = alternatives[alternative - 1]
        found[passage - 1][phrase] = (in_body, in_heading)
        holding[phrase] += in_body is not None
        lexemes[phrase] = words
    # ts_rank_cd sees one passage at a time: how rare a word is among this contract's passages is ours to add
    # (a word every passage has says little about which one answers); a phrase is as rare as its words.
    rarity = {
        phrase: lexemes[phrase] * math.log(1 + (len(passages) - count + 0.5) / (count + 0.5))
        for phrase, count in holding.items()
    }
    needed = max(1, math.ceil(len(query.groups) * _MIN_COVERAGE))
    scored: list[tuple[Passage, float]] = []
    for number, matches in found.items():
        score, covered, strongest = _score(matches, rarity, query)
        if len(covered) >= needed and query.required <= covered and strongest >= _STRONG_MATCH:
            passage = passages[number]
            if query.asks_amount:
                score *= (_AMOUNT_BOOST if passage.has_amount else 1.0) * (
                    _EXAMPLE_PENALTY if passage.is_example else 1.0
                )
            scored.append((passage, score))
    scored.sort(key=lambda item: (-item[1], item[0].start))
    if not scored:
        return []
    best = scored[0][1]
    return [passage for passage, score in scored if score >= best * _RELATIVE_CUTOFF][:limit]


def _score(
    matches: dict[str, tuple[float | None, float | None]], rarity: dict[str, float], query: Query
) -> tuple[float, set[int], float]:
    """The question's groups summed (each by its best alternative), which groups matched, the closest match."""
    score = 0.0
    covered: set[int] = set()
    strongest = 0.0
    for number, group in enumerate(query.groups):
        best, best_weight = 0.0, 0.0
        for words, weight in group.items():
            in_body, in_heading = matches.get(words, (None, None))
            if in_body is not None:
                value, strength = weight * rarity[words] * in_body, weight
            elif in_heading is not None:
                # The heading above speaks of it: a hint about where the passage is, not an answer.
                value, strength = weight * _SECTION_WEIGHT * rarity[words] * in_heading, 0.0
            else:
                continue
            if value > best:
                best, best_weight = value, strength
        if best > 0:
            covered.add(number)
            score += best
            strongest = max(strongest, best_weight)
    for extra, weight in ((query.hints, _HINT_WEIGHT), (query.pairs, _PHRASE_BONUS)):
        score += weight * sum(
            rarity[words] * (matches[words][0] or 0.0) for words in extra if words in matches
        )
    return score, covered, strongest


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


_BOX_EDGE = re.compile(r"^[ \t]*\|[ \t]?|[ \t]*\|[ \t]*$", re.MULTILINE)
_LEADER = re.compile(r"[ \t]*\.{4,}[ \t]*")
_SPACES = re.compile(r"\s+")


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


async def answer_question(session: AsyncSession, document: str, question: str) -> OfflineAnswer:
    """Answer from the contract's own words: its most relevant passages, each with page and line."""
    query = await parse_question(session, question)
    if not query.groups:
        return OfflineAnswer(
            text=(
                "Ask about something the contract may say, for example “What is the cancellation fee?” "
                "or “How is the refund calculated?”."
            ),
            citations=[],
        )
    # Cutting a 200-page contract takes a moment: not on the screen's event loop.
    contract = await asyncio.to_thread(contract_passages, document)
    found = await search(session, contract, query)
    if not found:
        return OfflineAnswer(
            text=(
                f"The contract does not seem to say anything about {query.topic}. "
                "Try other words, or read the contract text itself: this answer only searches it."
            ),
            citations=[],
        )
    citations = [citation_for(contract.locator, passage.start, passage.end) for passage in found]
    lines = ["The contract says:" if len(citations) == 1 else "The most relevant passages of the contract:"]
    for citation in citations:
        lines.append(f"\n“{display_quote(citation.quote)}”\n— {_where(citation)}")
    return OfflineAnswer(text="\n".join(lines), citations=citations)
