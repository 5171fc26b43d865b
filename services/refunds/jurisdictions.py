"""Jurisdiction rules as data: reading them from CSV, the shipped starter set, and the rule in force.

The starter set ships as ``starter_rules.csv`` beside this module: the command line quotes from it
without a database, and migration 0009 seeds ``jurisdiction_rules`` from the same file, so the rules
are written down once. ``refund-review rules import`` reads more rules in the same CSV shape.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from pydantic import ValidationError

from services.errors import InvalidInput
from services.input_text import without_control_characters
from services.refunds.quoting import shorter
from services.refunds.types import DEFAULT_STATE, JurisdictionRule

CSV_COLUMNS: tuple[str, ...] = (
    "state",
    "effective_from",
    "free_look_days",
    "fee_allowed",
    "fee_cap",
    "methods_allowed",
    "pro_rata_basis",
    "short_rate_factor",
    "written_request_days",
    "payment_due_days",
    "citation",
    "is_default",
    "notes",
)
STARTER_RULES_FILE = "starter_rules.csv"
# A rules file is a few hundred rows at most; anything far larger is a wrong file, refused before parsing.
MAX_RULES = 10_000
# What one line's problems may take in the sentence: a huge cell is named, not repeated.
MAX_PROBLEM_CHARS = 300


def _row_values(row: Mapping[str, str | None]) -> dict[str, Any]:
    """One CSV row as model input: empty cells take the model's default, lists are ';'-separated.

    Citations and notes come from outside, so control and invisible characters are removed here, once.
    """
    values: dict[str, Any] = {}
    for column in CSV_COLUMNS:
        cell = without_control_characters(row.get(column) or "").strip()
        if not cell:
            continue
        if column == "methods_allowed":
            values[column] = tuple(method.strip() for method in cell.split(";") if method.strip())
        else:
            values[column] = cell
    return values


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in error.errors())


def rule_from_fields(fields: Mapping[str, str | None]) -> JurisdictionRule:
    """One rule from text fields named like the CSV columns (the workstation's rule form), validated
    exactly as an imported line is; InvalidInput names each field that is wrong and why."""
    try:
        return JurisdictionRule.model_validate(_row_values(fields))
    except ValidationError as exc:
        raise InvalidInput(f"The rule was not saved: {_describe(exc)}.") from exc


def read_rules_csv(text: str) -> list[JurisdictionRule]:
    """Every rule in a CSV text, or InvalidInput naming each bad line and what is wrong with it.

    The whole file is refused when one line is wrong, so an import never half-loads a set of rules.
    """
    try:
        return _read_rules(text)
    except csv.Error as exc:
        raise InvalidInput(
            f"The rules file cannot be read as CSV ({exc}); check that it is the rules file, saved as CSV."
        ) from exc


def _read_rules(text: str) -> list[JurisdictionRule]:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(name.strip() for name in reader.fieldnames or ())
    # Quoted short: a wrong file's first line can be megabytes long.
    unknown = sorted({shorter(name) for name in set(header) - set(CSV_COLUMNS)})[:20]
    missing = [column for column in ("state", "effective_from", "citation") if column not in header]
    if unknown or missing:
        raise InvalidInput(
            "The rules file's header is not the expected one"
            + (f": unknown columns {', '.join(unknown)}" if unknown else "")
            + (f": missing columns {', '.join(missing)}" if missing else "")
            + f". Expected: {','.join(CSV_COLUMNS)}."
        )
    reader.fieldnames = list(header)
    rules: list[JurisdictionRule] = []
    problems: list[str] = []
    for row in reader:
        if len(rules) + len(problems) >= MAX_RULES:
            raise InvalidInput(
                f"The rules file has more than {MAX_RULES:,} rows; split it or check it is the right file."
            )
        try:
            rules.append(JurisdictionRule.model_validate(_row_values(row)))
        except ValidationError as exc:
            problems.append(f"line {reader.line_num}: {shorter(_describe(exc), MAX_PROBLEM_CHARS)}")
    if problems:
        raise InvalidInput("The rules file was not loaded: " + "; ".join(problems[:10]) + ".")
    seen: set[tuple[str, dt.date]] = set()
    for rule in rules:
        key = (rule.state, rule.effective_from)
        if key in seen:
            raise InvalidInput(
                f"The rules file has two rules for {rule.state} from {rule.effective_from}; keep one."
            )
        seen.add(key)
    return rules


@cache
def starter_rules() -> tuple[JurisdictionRule, ...]:
    """The rules shipped with the program (read once per process)."""
    return tuple(
        read_rules_csv(files("services.refunds").joinpath(STARTER_RULES_FILE).read_text(encoding="utf-8"))
    )


def rule_in_force(rules: Iterable[JurisdictionRule], state: str, on: dt.date) -> JurisdictionRule | None:
    """The state's rule in force on ``on`` (the contract date); else the default rule in force then.

    Rules are versioned by ``effective_from``: the latest one that had begun by ``on`` applies.
    """
    candidates = [rule for rule in rules if rule.effective_from <= on]

    def latest(for_state: str) -> JurisdictionRule | None:
        matching = [rule for rule in candidates if rule.state == for_state]
        return max(matching, key=lambda rule: rule.effective_from, default=None)

    return latest(state) or latest(DEFAULT_STATE)
