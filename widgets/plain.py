"""Data shown as data: never parsed as markup, never able to command the terminal.

Textual parses a plain ``str`` given to a DataTable cell, a Label, ``Static.update`` or ``notify`` as
markup, so a customer called ``Smith [/] Jones`` would crash the screen and ``[@click=app.quit]`` would
become an action. Everything that came from outside (contract text, manifest fields, notes, reasons,
usernames, settings, service messages quoting input) is turned into ``Text``/``Content`` here; markup is
kept for strings written in the code.

Text is cleaned where it enters (services/input_text.py), but rows written before that, or by other
tools, may still hold control characters, and Rich passes ESC through to the terminal. So what is shown
is made safe once more: C0/C1 controls and DEL become visible symbols (ESC shows as ␛), bidi embeddings,
overrides and isolates become U+FFFD. Newlines and tabs stay.
"""

from __future__ import annotations

from typing import Protocol

from rich.highlighter import Highlighter
from rich.text import Text
from textual.content import Content
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.widgets import Input

_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\n\t"}
_VISIBLE = {
    **_CONTROL_PICTURES,
    0x7F: 0x2421,  # ␡
    **dict.fromkeys(range(0x80, 0xA0), 0xFFFD),
    **dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A)), 0xFFFD),
}


def shown(value: object) -> str:
    """`value` as a string that is safe to write to a terminal: no control or bidi character survives."""
    return str(value).translate(_VISIBLE)


def plain(value: object, style: str = "") -> Text:
    """Data as a Rich Text (no markup is parsed), for cells, labels and ``Static.update``."""
    return Text(shown(value), style=style)


def plain_content(value: object, style: str = "") -> Content:
    """Data as Textual Content (no markup is parsed)."""
    return Content.styled(shown(value), style) if style else Content(shown(value))


class _Notifier(Protocol):
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


def notify_plain(
    target: _Notifier,
    message: str,
    *,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A notification whose message holds data (a contract id, a service's sentence quoting input)."""
    target.notify(shown(message), title=shown(title), severity=severity, timeout=timeout, markup=False)


class PlainHighlighter(Highlighter):
    """Draws an Input's value with its controls made visible; the value itself stays as typed or pasted.

    An Input draws its value as it is, and a paste (a line copied from a contract, a spreadsheet cell) or
    a value filled in from a stored row can hold ESC or a bidi override: the terminal would obey them.
    One character becomes one, so the cursor stays where the person put it; the service cleans the value
    (services/input_text.py) when it is saved.
    """

    def highlight(self, text: Text) -> None:
        text.plain = shown(text.plain)


def draw_inputs_plain(root: DOMNode) -> None:
    """Every text input under ``root`` draws its value with controls visible (PlainHighlighter).

    Screens and dialogs call it once mounted, so a search box, a chat question or a filter shows a pasted
    ESC or bidi override as a symbol instead of letting the terminal obey it. A password input draws
    bullets only, and an input that brings its own highlighter keeps it.
    """
    for field in root.query(Input):
        if field.highlighter is None and not field.password:
            field.highlighter = PlainHighlighter()
