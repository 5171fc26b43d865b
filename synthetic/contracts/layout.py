"""Laying a contract out as forms print it: wrapped paragraphs, dotted leaders, boxed notices, pages."""

from __future__ import annotations

import random
from typing import NamedTuple

from synthetic.contracts import vocabulary as vocab

ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV")


class Block(NamedTuple):
    """A unit of layout: a paragraph to wrap, or preformatted lines (tables, signature blocks)."""

    body: str | tuple[str, ...]
    prefix: str = ""  # first-line prefix of a list item, e.g. "(a) "; continuation lines hang under it
    truth: bool = False  # states a ground-truth field: exempt from the noise that could corrupt words
    with_next: bool = False  # a heading: never the last line of a page
    tight: bool = False  # no blank line before (list items)


def leader_row(label: str, value: str, width: int) -> str:
    """A dotted-leader table row, as forms print them: ``Amount Financed ....... $32,450.00``."""
    dots = max(3, width - len(label) - len(value) - 2)
    return f"{label} {'.' * dots} {value}"


_VOWELS = frozenset("aeiouyAEIOUY")


def hyphenation_point(word: str, room: int) -> int:
    """Where a typesetter would break ``word`` (``can-cellation``) within ``room`` letters; 0 for nowhere.

    Between two consonants after a vowel (VC-CV) if possible, else before a consonant-vowel pair (V-CV);
    never in a word with digits or punctuation, so amounts and codes are never split.
    """
    if len(word) < 8 or not word.isalpha():
        return 0
    for rule in (
        lambda k: word[k - 1] not in _VOWELS and word[k] not in _VOWELS and word[k - 2] in _VOWELS,
        lambda k: word[k - 1] in _VOWELS and word[k] not in _VOWELS and word[k + 1] in _VOWELS,
    ):
        cuts = [k for k in range(3, min(room, len(word) - 3) + 1) if rule(k)]
        if cuts:
            return cuts[-1]
    return 0


def boxed_notice(text: str, width: int) -> list[str]:
    """A notice in a ruled box, as forms print their conspicuous disclosures."""
    inner = width - 4
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > inner:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    rule = "+" + "-" * (width - 2) + "+"
    return [rule, *(f"| {line:<{inner}} |" for line in lines), rule]


class PageLayout:
    """The layout half of a full document: blocks are collected, then wrapped, noised and paginated.

    The document that derives from it sets these attributes (in the order its random draws require) and
    decides the wording; this class only decides where the words land on the page.
    """

    rng: random.Random
    hard: bool
    width: int
    noun: str
    section_style: str
    blocks: list[Block]
    section_number: int
    # -- layout primitives --------------------------------------------------------------------------------

    def para(self, text: str, *, truth: bool = False, prefix: str = "", tight: bool = False) -> None:
        self.blocks.append(Block(text, prefix=prefix, truth=truth, tight=tight))

    def pre(self, lines: list[str], *, truth: bool = False, tight: bool = False) -> None:
        self.blocks.append(Block(tuple(lines), truth=truth, tight=tight))

    def heading(self, key: str) -> None:
        self.section_number += 1
        n = self.section_number
        title = self.rng.choice(vocab.SECTION_TITLES[key]).format(NOUN=self.noun.upper())
        self.blocks.append(
            Block((self.section_style.format(n=n, roman=ROMAN[n], title=title),), with_next=True)
        )

    def centered(self, text: str) -> str:
        return text.center(self.width).rstrip()

    # -- rendering ----------------------------------------------------------------------------------------

    def wrap(self, text: str, prefix: str, truth: bool) -> list[str]:
        """Greedy wrap; hard documents break some long words with a hyphen, as OCR of justified text does."""
        rng = self.rng
        hyphenate = 0.45 if self.hard else 0.0
        indent = " " * len(prefix)
        lines: list[str] = []
        current = prefix
        for word in text.split(" "):
            if current == (indent if lines else prefix):
                current += word
                continue
            if len(current) + 1 + len(word) <= self.width:
                current += " " + word
                continue
            room = self.width - len(current) - 2
            cut = hyphenation_point(word, room) if hyphenate and rng.random() < hyphenate else 0
            if cut:
                lines.append(f"{current} {word[:cut]}-")
                current = indent + word[cut:]
                continue
            lines.append(current)
            current = indent + word
        lines.append(current)
        if self.hard:
            lines = [self.ocr_noise(line, truth) for line in lines]
        return lines

    def ocr_noise(self, line: str, truth: bool) -> str:
        """Doubled spaces anywhere; dropped spaces and misread letters only outside truth statements."""
        rng = self.rng
        spaces = [i for i, c in enumerate(line) if c == " " and 0 < i < len(line) - 1 and line[i - 1] != " "]
        if spaces and rng.random() < 0.15:
            i = rng.choice(spaces)
            line = line[:i] + " " + line[i:]
        elif spaces and not truth and rng.random() < 0.08:
            i = rng.choice(spaces)
            if line[i - 1].isalpha() and line[i + 1].isalpha():
                line = line[:i] + line[i + 1 :]
        if not truth and rng.random() < 0.06:
            for wrong, misread in (("m", "rn"), ("e", "c"), ("l", "1")):
                position = line.find(wrong, rng.randrange(max(1, len(line))))
                if position > 0 and line[position - 1].isalpha():
                    line = line[:position] + misread + line[position + 1 :]
                    break
        return line

    def render(self) -> list[list[str]]:
        """The blocks wrapped into lines and the lines into pages; a heading stays with what follows it."""
        chunks: list[tuple[list[str], bool]] = []
        pending: list[str] = []
        pending_tight = False
        for block in self.blocks:
            if not pending:
                pending_tight = block.tight
            if isinstance(block.body, str):
                pending += self.wrap(block.body, block.prefix, block.truth)
            else:
                pending += block.body
            if not block.with_next:
                chunks.append((pending, pending_tight))
                pending = []
        return self.paginate(chunks)

    def paginate(self, chunks: list[tuple[list[str], bool]]) -> list[list[str]]:
        """Fill pages chunk by chunk, choosing the page length so that the contract has 3 to 6 pages."""
        lines_per_page = self.rng.randint(34, 64)
        pages: list[list[str]] = []
        for _ in range(40):
            pages = [[]]
            for lines, tight in chunks:
                page = pages[-1]
                gap = 0 if tight or not page else 1
                if page and len(page) + gap + len(lines) > lines_per_page:
                    pages.append(list(lines))
                    continue
                page += [""] * gap + lines
            if len(pages) > 6:
                lines_per_page += 4
            elif len(pages) < 3:
                lines_per_page -= 4
            else:
                break
        return pages
