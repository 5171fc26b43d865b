"""SQL building blocks the review statements share: the pending test, the bind parameters, the lease.

The hot statements (claim, correct, decide) are built once at import from these pieces; building one
costs more Python than the database spends running it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    func,
    literal_column,
    or_,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from db.models import Extraction
from services.system_settings import setting_sql

# Spelled as a literal, not a bind parameter: only then can a prepared (generic) plan use the partial
# index extractions_queue_idx, whose predicate is status = 'pending'.
IS_PENDING: ColumnElement[bool] = Extraction.status == literal_column("'pending'")
# The reviewer and the item in the hot write statements, which are built once: building one costs more
# Python than the database spends running it.
ACTOR = bindparam("actor", type_=PG_UUID(as_uuid=True))
ITEM = bindparam("item", type_=PG_UUID(as_uuid=True))


def lease_end() -> ColumnElement[Any]:
    return func.now() + func.make_interval(0, 0, 0, 0, 0, setting_sql("claim_lease_minutes"))


def claim_open_to(user_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The item is unclaimed, claimed by this user, or its lease has run out."""
    return or_(
        Extraction.claimed_by.is_(None),
        Extraction.claimed_by == user_id,
        Extraction.claim_expires_at <= func.now(),
    )
