"""Hostile text for tests: markup, terminal escapes, broken Unicode, invisible characters, SQL, sheer size.

Shared by the service suite (tests/services/test_hostile_input.py) and the Pilot walk
(tests/tui/test_hostile_screens.py), so both try the same classes of input.
"""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

MARKUP = (
    "[/]",
    "Smith [/] Jones",
    "[@click=app.quit]Approve all[/]",
    "[@click=app.screenshot('/tmp/x.svg')]shot[/]",
    "[link=file:///etc/passwd]terms[/link]",
    "[b red on red]hidden",
    "[/b",
    "[[",
    "]]",
    "\\[",
    "[",
    "[red",
)
ESCAPES = (
    "\x1b[2J",  # CSI: clear the screen
    "\x1b[31m",
    "\x1b]0;pwned\x07",  # OSC: window title, ended by BEL
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1bP+q544e\x1b\\",  # DCS
    "\x9b2J",  # C1 CSI
    "\x9d0;x\x9c",  # C1 OSC ... ST
    "\x07",
    "\x08",
    "\r",
    "\x7f",
)
NUL = ("\x00",)
SURROGATES = ("\ud800", "\udfff", "\udc80")
BIDI = ("\u202e", "\u202a", "\u202d", "\u2066", "\u2067", "\u2069")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
SQL = (
    "'; DROP TABLE extractions; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "$$ $x$",
    "E'\\x00'",
    "'); DELETE FROM audit_events; --",
)
HOSTILE_PIECES = MARKUP + ESCAPES + NUL + SURROGATES + BIDI + ZERO_WIDTH + SQL

pieces = st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=12))
hostile_text = st.one_of(
    st.lists(pieces, min_size=1, max_size=8).map("".join),
    # A megabyte: refused with a sentence, never sent to the database.
    st.sampled_from(HOSTILE_PIECES).map(lambda piece: (piece * (2**20 // len(piece) + 1))[: 2**20]),
)


def hidden_characters(text: str, *, allowed: str = "\n\t") -> list[str]:
    """The control, format and surrogate characters of `text` (those in `allowed` aside)."""
    return [c for c in text if c not in allowed and unicodedata.category(c) in {"Cc", "Cf", "Cs"}]


TERMINAL_CONTROLS = tuple(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in "\n\t")
