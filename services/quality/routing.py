"""Where a new extraction goes: to a reviewer, to a reviewer as a QA sample, or straight to approved.

An extraction passes when every field is at or above its threshold (``SystemSettings.field_threshold``:
the field's own entry in ``field_thresholds``, else ``confidence_threshold``). One that passes is drawn for
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

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from db.models import Extraction, SystemConfig
from services.domain import COUNTS_ONLY_FOR_METHOD, FIELD_LABELS, FIELD_NAMES, FieldName, weighed_fields
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
    method: str | None = None,
    flagged: tuple[FieldName, ...] = (),
) -> Routing:
    """Route one extraction by its field confidences; ``missing`` names needed fields without a value.

    Only the weighed fields count (``services.domain.weighed_fields``: the APR only for ``method``
    Actuarial), and a field without a confidence (not yet extracted) is not below anything. A field
    ``flagged`` by the refund checks (services/refunds/field_checks.py) always goes to a person.

    ``rng`` defaults to the module's ``QA_RANDOM``, read at each call so that a test can seed or replace it.
    """
    thresholds = settings.thresholds()
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


def field_threshold_sql(name: FieldName) -> Any:
    """The threshold of ``name`` inline in a statement: its ``field_thresholds`` entry, else the global one."""
    own = (
        select(cast(cast(SystemConfig.value, JSONB)[name].astext, Integer))
        .where(SystemConfig.key == "field_thresholds")
        .scalar_subquery()
    )
    return func.coalesce(own, setting_sql("confidence_threshold"))


def below_thresholds_sql() -> Any:
    """Whether a pending extraction has a field below its threshold or flagged: what routes it to a person."""
    return or_(
        *(weighed_below_sql(name) for name in FIELD_NAMES), func.cardinality(Extraction.refund_flags) > 0
    )


def weighed_below_sql(name: FieldName) -> Any:
    """Whether field ``name`` is below its threshold and counts (``services.domain.weighed_fields``).

    A NULL confidence (not yet extracted) makes the comparison NULL, which no filter or OR counts.
    """
    below = getattr(Extraction, f"{name}_confidence") < field_threshold_sql(name)
    method = COUNTS_ONLY_FOR_METHOD.get(name)
    return below if method is None else and_(Extraction.refund_calculation_method == method, below)
