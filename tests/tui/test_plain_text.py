"""widgets.plain: data shown as text, with every terminal control made visible, one character for one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from tests.hostile import HOSTILE_PIECES, TERMINAL_CONTROLS
from widgets.document_view import DocumentView
from widgets.plain import plain, plain_content, shown


def test_controls_and_bidi_become_visible_and_markup_stays_text() -> None:
    assert shown("a\x1b]0;t\x07b\x9b2J\u202ec\n\td") == "a␛]0;t␇b\ufffd2J\ufffdc\n\td"
    text = plain("Smith [/] Jones [@click=app.quit]x[/]", style="bold")
    assert text.plain == "Smith [/] Jones [@click=app.quit]x[/]"
    assert not text.spans and str(text.style) == "bold"
    assert plain_content("[b]x[/b]").plain == "[b]x[/b]"


@given(st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=10)), max_size=10).map("".join))
def test_shown_keeps_the_length_and_leaves_no_terminal_control(value: str) -> None:
    safe = shown(value)
    assert len(safe) == len(value)
    assert not [c for c in safe if c in TERMINAL_CONTROLS]


class _Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield DocumentView(id="document")


async def test_the_document_highlight_still_lands_on_its_characters_after_escapes() -> None:
    document = "GAP \x1b[2J WAIVER\nFee: $50\fPage two \x1b]0;x\x07 Premium: $1,250.00"
    app = _Pane()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(DocumentView)
        view.show_document(document)
        start = document.index("Premium")
        view.highlight(start, start + len("Premium: $1,250.00"))
        await pilot.pause()
        assert view.highlighted_text == "Premium: $1,250.00"
        drawn = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert "Premium: $1,250.00" in drawn
        assert "\x1b" not in drawn and "\x07" not in drawn
        assert "␛[2J" in drawn and "␛]0;x␇" in drawn
