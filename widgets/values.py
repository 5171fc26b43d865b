"""How extracted values read on screen, the same in every widget and dialog."""

from __future__ import annotations

from decimal import Decimal

NOT_STATED = "not stated"
NOT_YET_EXTRACTED = "not yet extracted"
# Correction hints: what to type for each field (the method is chosen, not typed).
VALUE_HINTS: dict[str, str] = {
    "gap_insurance_premium": "e.g. 1250.00",
    "cancellation_fee": f"e.g. 50.00, 0 for no fee, or {NOT_STATED!r}",
    "term_months": f"months, e.g. 60 (or 5 years), or {NOT_STATED!r}",
    "governing_state": f"e.g. OH or Ohio, or {NOT_STATED!r}",
    "apr": f"percent, e.g. 7.9, or {NOT_STATED!r}",
}


def shown_value(value: Decimal | int | str | None, field: str = "") -> str:
    """Amounts as $1,250.00, an APR as 7.90%, a term as 60 months; codes and methods as they are; no
    value as "not stated"."""
    if value is None:
        return NOT_STATED
    if field == "apr":
        return f"{value}%"
    if field == "term_months":
        return f"{value} months"
    return f"${value:,.2f}" if isinstance(value, Decimal) else str(value)


def sentence_case(label: str) -> str:
    """Keep the capitals of the rest: "GAP premium", where str.capitalize gives "Gap premium"."""
    return label[:1].upper() + label[1:]
