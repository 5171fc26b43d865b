"""The contract as its own lines: a gutter of page and line numbers, long lines wrapped, one span lit.

The gutter cites lines the way source locations do (services/extraction/locate.py): pages are separated
by form feeds, a line ends at a line break or a form feed, and lines are numbered from 1 on each page.
So "page 2, line 14" above the document is the row marked `p2:14`. A line wider than the pane wraps onto
rows marked `↪` instead of taking new numbers, so a dotted-leader row ("Charge ........ $1,250.00")
stays one line of the contract.

The widget draws only the rows in view (Textual's line API); the wrapped layout is rebuilt when the
document or the width changes, which is one pass over the lines, so opening a long contract stays cheap.
It has no scrollbar: the gutter and the page headers say where one is, and a scrollbar (redrawn on
every frame of every next item) made approve-and-next measurably slower.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.plain import shown

PAGE_HEADER = "──────── page {page} of {pages} ────────"
CONTINUED = "↪"
MIN_TEXT_WIDTH = 20


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of the stored text: where it starts and ends (before its break), page and number."""

    start: int
    end: int
    page: int
    number: int


def source_lines(text: str) -> list[SourceLine]:
    """The lines of a document, numbered as the services number them (from 1 on each page)."""
    lines: list[SourceLine] = []
    offset = 0
    for page_number, page in enumerate(text.split("\f"), 1):
        for number, line in enumerate(page.split("\n"), 1):
            lines.append(SourceLine(offset, offset + len(line), page_number, number))
            offset += len(line) + 1  # the "\n" or the "\f" after it
    return lines


@dataclass(frozen=True, slots=True)
class Row:
    """A row on screen: a page header (line is None) or a piece [start, end) of one source line."""

    line: SourceLine | None
    start: int
    end: int
    page: int

    @property
    def continued(self) -> bool:
        return self.line is not None and self.start > self.line.start


def wrap(text: str, line: SourceLine, width: int) -> list[tuple[int, int]]:
    """Pieces of a line no wider than `width`, broken after a space where one is near the end."""
    pieces: list[tuple[int, int]] = []
    start = line.start
    while line.end - start > width:
        cut = text.rfind(" ", start, start + width)
        end = cut + 1 if cut > start + width // 2 else start + width
        pieces.append((start, end))
        start = end
    pieces.append((start, line.end))
    return pieces


class DocumentLayout:
    """The rows of a document at one text width, and the row of any stored-text offset."""

    def __init__(self, text: str, pane_width: int) -> None:
        self.text = text
        self.pane_width = pane_width
        self.lines = source_lines(text)
        self.pages = self.lines[-1].page if self.lines else 1
        gutter = f"p{self.pages}:{max((line.number for line in self.lines), default=1)}"
        self.gutter_width = len(gutter) + 2  # and " │"
        width = max(pane_width - self.gutter_width - 1, MIN_TEXT_WIDTH)
        rows: list[Row] = []
        page = 0
        for line in self.lines:
            if line.page != page:
                page = line.page
                rows.append(Row(None, line.start, line.start, page))
            if line.end - line.start <= width:
                rows.append(Row(line, line.start, line.end, page))
            else:
                rows.extend(Row(line, start, end, page) for start, end in wrap(text, line, width))
        self.rows = rows
        self._row_starts = [row.start for row in rows]  # a page header shares its first line's start

    def row_of(self, offset: int) -> int:
        """The row showing the character at `offset` (a line's end shows on its last row)."""
        offset = max(0, min(offset, len(self.text)))
        return max(bisect_right(self._row_starts, offset) - 1, 0)

    def line_at(self, page: int, number: int) -> SourceLine | None:
        """The line a citation names (page, line), if the document has it."""
        for line in self.lines:
            if line.page == page and line.number == number:
                return line
        return None


class LineStyles(NamedTuple):
    text: Style
    gutter: Style
    page: Style
    lit: Style


class DocumentView(ScrollView, can_focus=False):
    """Read-only contract text; `highlight(start, end)` lights a span and scrolls it into view."""

    COMPONENT_CLASSES = {"document-view--gutter", "document-view--page", "document-view--highlight"}
    DEFAULT_CSS = """
    DocumentView {
        background: $surface;
        scrollbar-size-vertical: 0;
    }
    DocumentView > .document-view--gutter {
        color: $text-muted;
    }
    DocumentView > .document-view--page {
        color: $text-muted;
        text-style: bold;
    }
    DocumentView > .document-view--highlight {
        background: $accent 45%;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = ""
        self._layout = DocumentLayout("", MIN_TEXT_WIDTH)
        self._span: tuple[int, int] | None = None
        self._styles: LineStyles | None = None
        self._strips: dict[int, Strip] = {}

    # --- content -----------------------------------------------------------------------------------

    def show_document(self, text: str) -> None:
        self._text = text
        self._span = None
        self._relayout(force=True)
        self.scroll_home(animate=False)

    def _relayout(self, *, force: bool = False) -> None:
        """Wrap the text to the pane's width; only when the document or the width changed."""
        pane = self.scrollable_content_region.width or self.size.width or 80
        if force or pane != self._layout.pane_width:
            self._layout = DocumentLayout(self._text, pane)
        # Room to scroll the last lines up to the top, so a dialog docked below never hides the span.
        self.virtual_size = Size(pane, len(self._layout.rows) + max(self.size.height - 3, 0))
        self.refresh()

    def on_resize(self) -> None:
        """Wrap anew; keep the lit span in view, or else the line that was at the top."""
        rows = self._layout.rows
        first = rows[min(self.scroll_offset.y, len(rows) - 1)].start if rows else 0
        self._relayout()
        if self._span is not None:
            self.scroll_to_span()
        else:
            self.scroll_to(y=self._layout.row_of(first), animate=False, immediate=True)

    # --- the highlighted span ----------------------------------------------------------------------

    def highlight(self, start: int, end: int, *, near_top: bool = False) -> None:
        """Light the stored-text span [start, end) and scroll it to the middle (or near the top, for
        a dialog docked below to leave it in view)."""
        self._span = (start, end)
        self.scroll_to_span(near_top=near_top)
        self.refresh()

    def scroll_to_span(self, *, near_top: bool = False) -> None:
        if self._span is None:
            return
        row = self._layout.row_of(self._span[0])
        height = max(self.scrollable_content_region.height, 1)
        top = row - (2 if near_top else height // 2)
        self.scroll_to(y=max(top, 0), animate=False, immediate=True)

    def highlight_line(self, page: int, number: int) -> bool:
        """Light a whole cited line (page, line as a citation gives them); False if there is none."""
        line = self._layout.line_at(page, number)
        if line is None:
            return False
        self.highlight(line.start, max(line.end, line.start + 1))
        return True

    def clear_highlight(self) -> None:
        self._span = None
        self.scroll_home(animate=False)
        self.refresh()

    @property
    def highlighted_text(self) -> str:
        return self._text[self._span[0] : self._span[1]] if self._span else ""

    # --- drawing -----------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips = {}

    def refresh(self, *regions: Region, **kwargs: Any) -> Self:
        """Whatever asks for a redraw of the pane (new text, span, width or style) gets fresh rows."""
        self._strips = {}
        return super().refresh(*regions, **kwargs)

    def _line_styles(self) -> LineStyles:
        """The styles of text, gutter, page headers and the lit span, worked out once per style change
        (every visible row needs them, and every next item redraws every row)."""
        if self._styles is None:
            base = self.rich_style
            self._styles = LineStyles(
                base,
                base + self.get_component_rich_style("document-view--gutter", partial=True),
                base + self.get_component_rich_style("document-view--page", partial=True),
                base + self.get_component_rich_style("document-view--highlight", partial=True),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._render_row(index)
        return strip

    def _render_row(self, index: int) -> Strip:
        """One row as a strip exactly the pane's width: built once per document, span and width (the
        screen redraws the pane several times per item; a Strip and its padding are not free)."""
        width = self.scrollable_content_region.width
        styles = self._line_styles()
        if index >= len(self._layout.rows):
            return Strip.blank(width, styles.text)
        row = self._layout.rows[index]
        gutter = self._layout.gutter_width
        if row.line is None:
            header = PAGE_HEADER.format(page=row.page, pages=self._layout.pages)
            segments = [Segment(" " * (gutter + 1), styles.text), Segment(header, styles.page)]
        else:
            mark = CONTINUED if row.continued else f"p{row.page}:{row.line.number}"
            segments = [Segment(f"{mark:>{gutter - 2}} │ ", styles.gutter), *self._text_segments(row, styles)]
        used = sum(cell_len(segment.text) for segment in segments)
        if used > width:  # characters wider than one cell
            return Strip(segments).crop(0, width)
        segments.append(Segment(" " * (width - used), styles.text))
        return Strip(segments, width)

    def _text_segments(self, row: Row, styles: LineStyles) -> list[Segment]:
        # One character for one, so the span offsets still apply; no control byte reaches the terminal.
        text = shown(self._text[row.start : row.end].replace("\t", " "))
        if self._span is None:
            return [Segment(text, styles.text)]
        lit_start = max(self._span[0], row.start) - row.start
        lit_end = min(self._span[1], row.end) - row.start
        if lit_start >= lit_end:
            return [Segment(text, styles.text)]
        return [Segment(text[:lit_start], styles.text), Segment(text[lit_start:lit_end], styles.lit),
                Segment(text[lit_end:], styles.text)]  # fmt: skip
