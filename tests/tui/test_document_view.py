"""The contract pane: the gutter cites lines as source locations do; long lines wrap under `↪`."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from services.extraction.locate import DocumentIndex
from widgets.document_view import CONTINUED, DocumentLayout, DocumentView, source_lines

LEADER = "GAP Waiver Charge " + "." * 210 + " $1,250.00"
TEXT = (
    "GAP WAIVER ADDENDUM\nBuyer: Customer #7\n\f\n3. CHARGES\n"
    + LEADER
    + "\nDealer fee: $99\f4. CANCELLATION\nA $50 cancellation fee will be retained."
)


def test_gutter_numbers_are_the_ones_source_locations_cite() -> None:
    index = DocumentIndex(TEXT)
    lines = source_lines(TEXT)
    assert [(line.page, line.number) for line in lines] == [
        (index.locate(line.start).page, index.locate(line.start).line) for line in lines
    ]
    assert [TEXT[line.start : line.end] for line in lines if line.page == 2][2] == LEADER


@pytest.mark.parametrize("pane", [40, 80, 200])
def test_a_long_line_wraps_under_one_number(pane: int) -> None:
    layout = DocumentLayout(TEXT, pane)
    leader_rows = [
        row for row in layout.rows if row.line is not None and row.line.page == 2 and row.line.number == 3
    ]
    assert "".join(TEXT[row.start : row.end] for row in leader_rows) == LEADER
    assert [row.continued for row in leader_rows] == [False] + [True] * (len(leader_rows) - 1)
    assert all(row.end - row.start <= pane - layout.gutter_width - 1 for row in layout.rows)
    # Every line of the document keeps its own first row: nothing else is wrapped.
    assert sum(not row.continued for row in layout.rows if row.line is not None) == len(layout.lines)
    fee = TEXT.index("A $50")
    assert TEXT[layout.rows[layout.row_of(fee)].start :].startswith("A $50")


class _Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield DocumentView(id="document")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_pane_draws_gutter_continuations_and_the_span(size: tuple[int, int]) -> None:
    app = _Pane()
    async with app.run_test(size=size) as pilot:
        view = app.query_one(DocumentView)
        view.show_document(TEXT)
        start = TEXT.index("$1,250.00")
        view.highlight(start, start + len("$1,250.00"))
        await pilot.pause()
        shown = [view.render_line(y).text for y in range(view.size.height)]
        assert any(line.lstrip().startswith("p2:3 │ GAP Waiver Charge") for line in shown)
        assert any(line.lstrip().startswith(f"{CONTINUED} │") for line in shown)
        assert any("$1,250.00" in line for line in shown)  # the span is scrolled into view
        assert view.highlighted_text == "$1,250.00"
        assert not any("Dealer" in line and "p2:" not in line for line in shown)
