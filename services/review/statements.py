"""SQL building blocks the review statements share: the pending test, the bind parameters, the lease.

The hot statements (claim, correct, decide) are built once at import from these pieces; building one
costs more Python than the database spends running it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from db.models import Extraction, SystemConfig
from services.config import SystemSettings

# Spelled as a literal, not a bind parameter: only then can a prepared (generic) plan use the partial
# index extractions_queue_idx, whose predicate is status = 'pending'.
IS_PENDING: ColumnElement[bool] = Extraction.status == literal_column("'pending'")
# The reviewer and the item in the hot write statements, which are built once: building one costs more
# Python than the database spends running it.
ACTOR = bindparam("actor", type_=PG_UUID(as_uuid=True))
ITEM = bindparam("item", type_=PG_UUID(as_uuid=True))


def setting(key: str, type_: type[Integer] | type[Boolean]) -> ColumnElement[Any]:
    """A system_config value inline in a statement, so hot paths read settings without a round trip."""
    default = SystemSettings.model_fields[key].default
    return func.coalesce(
        select(cast(SystemConfig.value, type_)).where(SystemConfig.key == key).scalar_subquery(),
        default,
    )


def lease_end() -> ColumnElement[Any]:
    return func.now() + func.make_interval(0, 0, 0, 0, 0, setting("claim_lease_minutes", Integer))


def claim_open_to(user_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The item is unclaimed, claimed by this user, or its lease has run out."""
    return or_(
        Extraction.claimed_by.is_(None),
        Extraction.claimed_by == user_id,
        Extraction.claim_expires_at <= func.now(),
    )
