"""A contract cut into passages a chat answer can quote: sentences of prose, table rows, "Label: value" lines.

Each passage is a (start, end) span of the document text itself, so a quote is always verbatim and its page
and line are those of the document (services.extraction.locate).
"""

from __future__ import annotations

import re

from services.extraction.locate import DocumentIndex

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
