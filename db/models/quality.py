"""Double checks of QA items (schema/v0013)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import NOW, Base, _pk


class QaDoubleCheck(Base):
    """A decided QA sample sent back once to a second reviewer: both decisions, for their agreement."""

    __tablename__ = "qa_double_checks"
    __table_args__ = (
        UniqueConstraint("extraction_id", "extracted_at", name="qa_double_checks_once"),
        Index("qa_double_checks_first_reviewer_idx", "first_reviewer", "first_decided_at"),
        Index("qa_double_checks_second_reviewer_idx", "second_reviewer", "second_decided_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    extraction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"))
    extracted_at: Mapped[dt.datetime]
    first_reviewer: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    first_decision: Mapped[str]
    first_values: Mapped[dict[str, Any]]
    first_review_seconds: Mapped[int | None] = mapped_column(Integer)
    first_decided_at: Mapped[dt.datetime] = mapped_column(server_default=NOW)
    second_reviewer: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    second_decision: Mapped[str | None]
    second_values: Mapped[dict[str, Any] | None]
    second_decided_at: Mapped[dt.datetime | None]
