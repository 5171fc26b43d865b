"""The declarative base and the column defaults every table shares."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NOW = text("now()")
UUID_DEFAULT = text("gen_random_uuid()")
ZERO_HASH = text("'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea")


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=True),
        dt.date: Date(),
        str: Text(),
        dict[str, Any]: JSONB(),
        list[Any]: JSONB(),
    }


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, server_default=UUID_DEFAULT)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(server_default=NOW)
