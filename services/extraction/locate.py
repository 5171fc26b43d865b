"""Page, line and section of a character offset, for documents of any length.

A source span is stored as character offsets; reviewers think in pages, lines and sections. The index is
built once per document (one pass of C-level regex scanning) so that each lookup is a few bisects, which
keeps grounding cheap even for 200-page contracts.
"""

import re
from bisect import bisect_right
from typing import NamedTuple

from services.extraction.types import Alignment, SourceSpan

_LINE_BREAK = re.compile(r"[\n\f]")
_PAGE_BREAK = re.compile(r"\f")
# "4. CANCELLATION AND REFUNDS", "SECTION 5 - REFUND PROVISIONS", "ARTICLE IV. CANCELLATION", "NOTICE", and
# run-in headings that open a paragraph: "3. CANCELLATION. You may cancel...". Candidates start at a line
# break (the text is scanned with one put in front): a pattern that starts with a literal lets the regex
# engine skip ahead instead of trying every position.
_HEADING_CANDIDATE = re.compile(
    r"""
    [\n\f][ \t]*
    (?:
        (?P<labelled>(?:SECTION|Section|ARTICLE|Article|PART|Part)[ \t]+[0-9IVXLC]+[A-Z]?\b(?P<rest>[^\n\f]{0,70}?))
        [ \t]*(?![^\n\f])
      | (?P<run_in>(?:(?:\d{1,2}|[A-H])\.[ \t]+)?[A-Z][A-Z ,&/'’\-–]{2,50}[A-Z])[.:][ \t]+(?=[A-Z][a-z])
      | (?P<numbered>(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,5}\.|[A-H]\.)[ \t]+(?P<numbered_title>[A-Z][^\n\f]{2,70}?))
        [ \t]*(?![^\n\f])
      | (?P<caps>[A-Z][A-Z ,&/'’()\-–:]{2,79}?)[ \t]*(?![^\n\f])
    )
    """,
    re.VERBOSE,
)
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|\f)|\f[ \t]*\n")
_HEADING_MAX_WORDS = 8
_LOWERCASE_WORD = re.compile(r"\b[a-z][a-z']{3,}\b")
_NOT_A_TITLE = re.compile(r"\$|\.{3}|[ \t]{3}")
_HYPHENATED_BREAK = re.compile(r"-(?<=\w-)[ \t]*\r?\n[ \t]*([a-z]\w*)")


class Location(NamedTuple):
    page: int
    line: int
    section: str | None


def lower_preserving_offsets(text: str) -> str:
    """Lower-case ``text`` so that every offset still points at the same character.

    Matching lower-cased text with case-sensitive patterns is several times faster than ``re.IGNORECASE``;
    the few characters whose lower case is longer ("İ") are kept as they are.
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def unhyphenate(text: str) -> str:
    """Join words broken across lines ("can-\\ncellation") without changing the text's length.

    The joined word is followed by as many spaces as the break took, so every offset outside the broken word
    is unchanged: matching runs on the joined text, spans are cut from the original.
    """
    return _HYPHENATED_BREAK.sub(lambda match: match[1] + " " * (len(match[0]) - len(match[1])), text)


class DocumentIndex:
    """Offsets of pages, lines and section headings of one document text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._page_starts = [0, *(match.end() for match in _PAGE_BREAK.finditer(text))]
        self._line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
        self._first_line_of_page = [bisect_right(self._line_starts, start) - 1 for start in self._page_starts]
        headings = [
            heading
            for match in _HEADING_CANDIDATE.finditer("\n" + text)
            if (heading := _heading(text, match))
        ]
        # Block headings ("ARTICLE V. REFUND PROVISIONS") head everything up to the next one; a run-in
        # heading ("FREE LOOK: You may return…") heads its own paragraph only, after which the text is
        # again under the block heading that encloses it.
        blocks = [(start, title) for start, title, run_in in headings if not run_in]
        self._block_starts = [start for start, _ in blocks]
        self._block_titles = [title for _, title in blocks]
        run_ins = [(start, title) for start, title, run_in in headings if run_in]
        self._run_in_starts = [start for start, _ in run_ins]
        self._run_in_ends = [_paragraph_end(text, start) for start, _ in run_ins]
        self._run_in_titles = [title for _, title in run_ins]

    def locate(self, offset: int) -> Location:
        offset = min(max(offset, 0), len(self.text))
        page_index = bisect_right(self._page_starts, offset) - 1
        line_index = bisect_right(self._line_starts, offset) - 1
        return Location(
            page=page_index + 1,
            line=line_index - self._first_line_of_page[page_index] + 1,
            section=self._section(offset),
        )

    def _section(self, offset: int) -> str | None:
        """The nearest heading before `offset` whose reach covers it."""
        block = bisect_right(self._block_starts, offset) - 1
        run_in = bisect_right(self._run_in_starts, offset) - 1
        if (
            run_in >= 0
            and offset < self._run_in_ends[run_in]
            and (block < 0 or self._run_in_starts[run_in] > self._block_starts[block])
        ):
            return self._run_in_titles[run_in]
        return self._block_titles[block] if block >= 0 else None

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """Start and end (exclusive, before the line break) of the line holding ``offset``."""
        line_index = bisect_right(self._line_starts, min(max(offset, 0), len(self.text))) - 1
        start = self._line_starts[line_index]
        end = (
            self._line_starts[line_index + 1] - 1
            if line_index + 1 < len(self._line_starts)
            else len(self.text)
        )
        return start, end

    def span(
        self, start: int, end: int, *, alignment: Alignment = "exact", note: str | None = None
    ) -> SourceSpan:
        """A span over the real text: its quote is ``text[start:end]`` by construction."""
        page, line, section = self.locate(start)
        return SourceSpan(
            page=page,
            line=line,
            section=section,
            start=start,
            end=end,
            quote=self.text[start:end],
            alignment=alignment,
            note=note,
        )

    def unaligned(self, quote: str, note: str) -> SourceSpan:
        """A span for a claim the document does not support: it keeps the claim and points nowhere."""
        page, line, section = self.locate(0)
        return SourceSpan(
            page=page,
            line=line,
            section=section,
            start=0,
            end=0,
            quote=quote,
            alignment="unaligned",
            note=note,
        )


def _paragraph_end(text: str, start: int) -> int:
    """Where the paragraph starting at `start` ends: at the first blank line after it, or the text's end."""
    found = _BLANK_LINE.search(text, start)
    return found.start() if found else len(text)


def _heading(text: str, match: re.Match[str]) -> tuple[int, str, bool] | None:
    """The (offset, title, run-in or not) of a heading candidate, or None when it is a line of prose or a
    table row.

    ``match`` comes from scanning ``"\\n" + text``, so its offsets are one past the text's.
    """
    kind = match.lastgroup
    if kind == "rest":
        kind = "labelled"
    elif kind == "numbered_title":
        kind = "numbered"
    title = match[kind].strip()
    start = match.start(kind) - 1
    if _NOT_A_TITLE.search(title):
        return None
    words = title.split()
    if kind == "labelled":
        accepted = not _LOWERCASE_WORD.search(match["rest"])
    elif kind == "numbered":
        accepted = (
            len(words) <= _HEADING_MAX_WORDS
            and not title.endswith((",", ";"))
            and all(not word[0].islower() for word in words if len(word) > 3)
        )
    elif kind == "run_in":
        accepted = len(words) <= _HEADING_MAX_WORDS
    else:
        # In an all-caps contract every prose line is upper case too: a heading also stands apart from prose.
        accepted = (
            len(words) <= _HEADING_MAX_WORDS
            and sum(char.isalpha() for char in title) >= 4
            and (_opens_block(text, start) or _closes_block(text, start + len(title)))
        )
    return (start, " ".join(words), kind == "run_in") if accepted else None


def _opens_block(text: str, line_start: int) -> bool:
    before = text[max(0, line_start - 200) : line_start].rstrip(" \t")
    if not before or before.endswith("\f"):
        return True
    previous_line = before[:-1].rsplit("\n", 1)[-1].rsplit("\f", 1)[-1]
    return not previous_line.strip()


def _closes_block(text: str, line_end: int) -> bool:
    after = text[line_end : line_end + 200].lstrip(" \t")
    if not after or after.startswith("\f"):
        return True
    next_line = after[1:].split("\n", 1)[0].split("\f", 1)[0]
    return not next_line.strip()
