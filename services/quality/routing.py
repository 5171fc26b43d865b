"""Where a new extraction goes: to a reviewer, to a reviewer as a QA sample, or straight to approved.

An extraction passes when every field is at or above its threshold (``SystemSettings.field_threshold``:
its provider's own entry in ``field_thresholds``, else the field's, else ``confidence_threshold``). One that passes is drawn for
QA with probability ``qa_sample_rate`` — at extraction time, so the draw is recorded with the extraction
and cannot be redone by re-reading — and, when ``auto_approve`` is on, one that passes and was not drawn
is approved by the system in the same transaction. An extraction missing a value a refund needs (premium,
method) is never approved automatically, whatever its confidence.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from db.models import Extraction, SystemConfig
from services.domain import (
    COUNTS_ONLY_FOR_METHOD,
    FIELD_LABELS,
    FIELD_NAMES,
    PROVIDER_NAMES,
    FieldName,
    weighed_fields,
)
from services.system_settings import SystemSettings, setting_sql

Route = Literal["review", "qa_sample", "auto_approve", "passes"]
# The values without which an approval is refused (services/review/decisions.py approves only with both).
NEEDED_FOR_APPROVAL: tuple[FieldName, ...] = ("gap_insurance_premium", "refund_calculation_method")
# Not a security boundary: the draw only needs to be unpredictable to reviewers, and seedable for tests.
QA_RANDOM = random.Random()


@dataclass(frozen=True)
class Routing:
    """The decision for one extraction and the sentence that explains it (kept in the extract event)."""

    route: Route
    reason: str
    thresholds: Mapping[FieldName, int]

    @property
    def qa_sample(self) -> bool:
        return self.route == "qa_sample"

    @property
    def auto_approve(self) -> bool:
        return self.route == "auto_approve"


def route(
    confidences: Mapping[FieldName, int],
    settings: SystemSettings,
    rng: random.Random | None = None,
    *,
    missing: tuple[FieldName, ...] = (),
    provider: str | None = None,
    method: str | None = None,
    flagged: tuple[FieldName, ...] = (),
) -> Routing:
    """Route one extraction by its field confidences; ``missing`` names needed fields without a value;
    ``provider`` (who extracted it) picks its own thresholds where ``field_thresholds`` gives it some.

    Only the weighed fields count (``services.domain.weighed_fields``: the APR only for ``method``
    Actuarial), and a field without a confidence (not yet extracted) is not below anything. A field
    ``flagged`` by the refund checks (services/refunds/field_checks.py) always goes to a person.

    ``rng`` defaults to the module's ``QA_RANDOM``, read at each call so that a test can seed or replace it.
    """
    thresholds = settings.thresholds(provider)
    if flagged:
        shown = ", ".join(FIELD_LABELS[n] for n in flagged)
        return Routing("review", f"the refund checks flag the {shown}", thresholds)
    below = [
        name
        for name in weighed_fields(method)
        if (confidence := confidences.get(name)) is not None and confidence < thresholds[name]
    ]
    if below:
        shown = ", ".join(f"{FIELD_LABELS[n]} {confidences[n]} < {thresholds[n]}" for n in below)
        return Routing("review", f"below its threshold: {shown}", thresholds)
    rate = float(settings.qa_sample_rate)
    if rate > 0 and (rng or QA_RANDOM).random() < rate:
        return Routing("qa_sample", f"every field passes; drawn for QA (rate {rate:g})", thresholds)
    if not settings.auto_approve:
        return Routing("passes", "every field passes; auto_approve is off", thresholds)
    needed = [name for name in NEEDED_FOR_APPROVAL if name in missing]
    if needed:
        shown = " and ".join(FIELD_LABELS[n] for n in needed)
        return Routing("review", f"every field passes but there is no {shown}: a person decides", thresholds)
    return Routing("auto_approve", "every field passes and auto_approve is on", thresholds)


def _named_threshold(*path: str) -> Any:
    """The whole number at ``path`` in ``field_thresholds`` (NULL when absent), read once per statement."""
    value: Any = cast(SystemConfig.value, JSONB)
    for step in path:
        value = value[step]
    return select(cast(value.astext, Integer)).where(SystemConfig.key == "field_thresholds").scalar_subquery()


def field_threshold_sql(name: FieldName, provider: Any = Extraction.llm_provider) -> Any:
    """The threshold of ``name`` inline in a statement, by the rule of ``SystemSettings.field_threshold``:
    the provider's own entry, else the field's, else the global threshold.

    ``provider`` is the column naming the extraction's provider (a ``literal_column("e.llm_provider")``
    where a text() statement aliases the table). One CASE branch per known provider, each reading the
    setting in an uncorrelated subquery, so the setting is read once per statement, not once per row.
    """
    field_wide = func.coalesce(_named_threshold(name), setting_sql("confidence_threshold"))
    return case(
        *(
            (provider == each, func.coalesce(_named_threshold(each, name), field_wide))
            for each in PROVIDER_NAMES
        ),
        else_=field_wide,
    )


def own_thresholds_sql() -> Any:
    """Whether ``field_thresholds`` names any threshold, i.e. the global one is not the only one in force."""
    named = (
        select(cast(SystemConfig.value, JSONB) != literal_column("'{}'::jsonb"))
        .where(SystemConfig.key == "field_thresholds")
        .scalar_subquery()
    )
    return func.coalesce(named, False)


def below_thresholds_sql(table: Any = Extraction.__table__) -> Any:
    """Whether an extraction has a weighed field below its threshold, or a field the refund checks flag:
    what routes it to a person.

    ``table`` is the extractions table or an alias of it (``sqlalchemy.table("e", ...)`` for a text()
    statement that names it ``e``).
    """
    return or_(
        *(weighed_below_sql(name, table) for name in FIELD_NAMES), func.cardinality(table.c.refund_flags) > 0
    )


def weighed_below_sql(name: FieldName, table: Any = Extraction.__table__) -> Any:
    """Whether field ``name`` is below its threshold and counts (``services.domain.weighed_fields``).

    A NULL confidence (not yet extracted) makes the comparison NULL, which no filter or OR counts.
    """
    below = table.c[f"{name}_confidence"] < field_threshold_sql(name, table.c.llm_provider)
    method = COUNTS_ONLY_FOR_METHOD.get(name)
    return below if method is None else and_(table.c.refund_calculation_method == method, below)
