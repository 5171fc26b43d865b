"""A headline figure drawn in large digits under a small title, for the dashboard's at-a-glance numbers."""

from __future__ import annotations

from textual.widgets import Digits

_UNITS = ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k"))


def compact_count(count: int) -> str:
    """`1,234`, `12.3k`, `123k`, `1.2M`: large counts shortened so that a tile stays narrow at 80 columns."""
    if count < 10_000:
        return f"{count:,}"
    size, suffix = next(unit for unit in _UNITS if count >= unit[0])
    scaled = count / size
    return f"{scaled:.1f}{suffix}" if scaled < 99.95 else f"{scaled:.0f}{suffix}"


class BigNumber(Digits):
    """One figure, large; `alert` colours it when it asks for attention (items past their SLA, say)."""

    DEFAULT_CSS = """
    BigNumber {
        width: 1fr;
        height: auto;
        min-width: 14;
        text-align: center;
        border: round $primary 50%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    BigNumber.-alert {
        color: $error;
        border: round $error;
    }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("-", id=id)
        self.border_title = title

    def show(self, value: str, *, note: str = "", alert: bool = False) -> None:
        self.update(value)
        self.border_subtitle = note
        self.set_class(alert, "-alert")
