"""A search snippet with its matched words highlighted.

The search marks matched words with two private-use characters (passed in, since widgets do not know the
services). The snippet is built as Rich Text piece by piece, never parsed as markup, so brackets and
backslashes in a contract's text are shown as they are.
"""

from __future__ import annotations

from rich.text import Text

from widgets.plain import shown

MATCH_STYLE = "bold reverse"


def highlighted_snippet(
    snippet: str, *, start: str, end: str, style: str = MATCH_STYLE, base_style: str = ""
) -> Text:
    """`snippet` without its markers, the marked words in `style`.

    An unclosed start marker highlights to the end of the snippet and a stray end marker is dropped: a
    fragment cut mid-match still reads right.
    """
    text = Text(style=base_style)
    inside = False
    piece: list[str] = []
    for char in snippet:
        if char in (start, end):
            text.append(shown("".join(piece)), style=style if inside else "")
            piece = []
            inside = char == start
        else:
            piece.append(char)
    text.append(shown("".join(piece)), style=style if inside else "")
    return text


def from_first_match(snippet: str, *, start: str, before: int = 12) -> str:
    """The snippet from a few words before its first match, so a narrow cell still shows the match.

    The cut falls at a word boundary and is marked with an ellipsis; a snippet whose first match is near
    its start is returned whole.
    """
    first = snippet.find(start)
    if first <= before:
        return snippet
    cut = snippet.rfind(" ", 0, first - before)
    if cut < 0:
        return snippet
    return "…" + snippet[cut:]
