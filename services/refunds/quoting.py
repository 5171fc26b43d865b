"""Quoting what a file or a person gave inside a sentence, cut short: a wrong file's cell can be megabytes."""

from __future__ import annotations


def shorter(text: str, max_chars: int = 40) -> str:
    """`text` cut to `max_chars` (an ellipsis says so), for quoting input in a sentence."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
