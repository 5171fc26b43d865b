"""How extracted values read on screen, the same in every widget and dialog."""

from __future__ import annotations

from decimal import Decimal

NOT_STATED = "not stated"


def shown_value(value: Decimal | str | None) -> str:
    """Amounts as $1,250.00; methods as they are; no value as "not stated"."""
    if value is None:
        return NOT_STATED
    return f"${value:,.2f}" if isinstance(value, Decimal) else value


def sentence_case(label: str) -> str:
    """Keep the capitals of the rest: "GAP premium", where str.capitalize gives "Gap premium"."""
    return label[:1].upper() + label[1:]
