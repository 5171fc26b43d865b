"""The contract text with one source span highlighted and scrolled into view.

Pages (separated by form feeds in the stored text) are shown with a header
line each; character offsets of the stored text map exactly to positions on
screen, so the highlight is always on the very characters a value was read
from.
"""

from __future__ import annotations

from bisect import bisect_right

from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from widgets.plain import shown

PAGE_HEADER = "──────── page {page} of {pages} ────────"


class DocumentLayout:
    """The displayed text of a document and the offset → (row, column) mapping."""

    def __init__(self, text: str) -> None:
        pages = text.split("\f")
        rows: list[str] = []
        starts: list[int] = []  # stored-text offset of each displayed row that carries text
        row_of: list[int] = []  # the displayed row of each of those
        offset = 0
        for number, page in enumerate(pages, 1):
            rows.append(PAGE_HEADER.format(page=number, pages=len(pages)))
            for line in page.split("\n"):
                starts.append(offset)
                row_of.append(len(rows))
                rows.append(shown(line))  # one character for one: offsets still map
                offset += len(line) + 1  # the "\n" or the "\f" after it
        self.display_text = "\n".join(rows)
        self._starts = starts
        self._rows = row_of
        self._length = len(text)

    def location(self, offset: int) -> tuple[int, int]:
        """(row, column) on screen of a character offset in the stored text."""
        offset = max(0, min(offset, self._length))
        i = bisect_right(self._starts, offset) - 1
        return self._rows[i], offset - self._starts[i]


class DocumentView(TextArea):
    """Read-only document text; `highlight(start, end)` selects a span and centres it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", read_only=True, soft_wrap=True, show_line_numbers=False, id=id)
        self._layout = DocumentLayout("")

    def show_document(self, text: str) -> None:
        self._layout = DocumentLayout(text)
        self.load_text(self._layout.display_text)

    def highlight(self, start: int, end: int) -> None:
        """Select the stored-text span [start, end) and scroll it to the middle of the view."""
        self.selection = Selection(self._layout.location(start), self._layout.location(end))
        self.scroll_cursor_visible(center=True)

    def clear_highlight(self) -> None:
        self.selection = Selection.cursor((0, 0))
        self.scroll_home(animate=False)

    @property
    def highlighted_text(self) -> str:
        return self.selected_text
