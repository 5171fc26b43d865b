"""Runtime configuration in `system_config`: typed reading for services, validated editing for admins."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from db.models import SystemConfig, User
from services.access import authorize, check_session
from services.context import ServiceContext
from services.errors import InvalidInput, NotFound
from services.input_text import typed_text
from services.permissions import Permission
from services.system_settings import SystemSettings, load_system_settings, typed_value

SECRET_MASK = "••••••••"
MAX_VALUE_CHARS = 20_000


class ConfigEntry(BaseModel):
    key: str
    value: str
    value_type: str
    description: str
    allowed_values: list[str] | None
    min_value: Decimal | None
    max_value: Decimal | None
    is_secret: bool
    updated_at: dt.datetime
    updated_by: str | None


async def get_system_settings(ctx: ServiceContext) -> SystemSettings:
    """The settings, for someone with a live session (or the command line)."""
    async with ctx.unit_of_work() as uow:
        await check_session(uow, ctx.actor)
        return await load_system_settings(uow.session)


def _entry(row: SystemConfig, updated_by: str | None) -> ConfigEntry:
    return ConfigEntry(
        key=row.key,
        value=SECRET_MASK if row.is_secret else row.value,
        value_type=row.value_type,
        description=row.description,
        allowed_values=row.allowed_values,
        min_value=row.min_value,
        max_value=row.max_value,
        is_secret=row.is_secret,
        updated_at=row.updated_at,
        updated_by=updated_by,
    )


async def list_config(ctx: ServiceContext) -> list[ConfigEntry]:
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_CONFIG)
        rows = (
            await uow.session.execute(
                select(SystemConfig, User.username)
                .outerjoin(User, User.id == SystemConfig.updated_by)
                .order_by(SystemConfig.key)
            )
        ).all()
        await uow.commit()  # keeps the session's activity clock moving
        return [_entry(row, username) for row, username in rows]


# How a refusal names what each type of value takes.
_KIND_WORDS = {
    "integer": "a whole number",
    "decimal": "a number",
    "boolean": "true or false",
    "json": "a JSON value",
    "string": "some text",
}


def normalize_value(row: SystemConfig, raw: str) -> str:
    """Check `raw` against the entry's type, bounds and allowed values; return its stored form."""
    text = typed_text(raw, what=f"A value for {row.key}", max_chars=MAX_VALUE_CHARS)
    kind = row.value_type
    wanted = _KIND_WORDS.get(kind, kind)
    if not text:
        raise InvalidInput(f"Type a value for {row.key}: {wanted}.")
    if len(text) > MAX_VALUE_CHARS:
        raise InvalidInput(f"A value for {row.key} is at most {MAX_VALUE_CHARS:,} characters.")
    try:
        if kind == "integer":
            number: Decimal = Decimal(int(text))
            text = str(int(number))
        elif kind == "decimal":
            number = Decimal(text)
            if not number.is_finite():
                raise InvalidOperation
            text = format(number.normalize(), "f")
        elif kind == "boolean":
            lowered = text.lower()
            if lowered not in {"true", "false", "yes", "no", "on", "off", "1", "0"}:
                raise ValueError
            text = "true" if lowered in {"true", "yes", "on", "1"} else "false"
        elif kind == "json":
            text = json.dumps(json.loads(text), sort_keys=True)
    except (ValueError, InvalidOperation) as exc:
        raise InvalidInput(f"{row.key} takes {wanted}; {raw.strip()[:40]!r} is not one.") from exc
    if kind in {"integer", "decimal"}:
        if row.min_value is not None and number < row.min_value:
            raise InvalidInput(f"{row.key} must be at least {row.min_value}.")
        if row.max_value is not None and number > row.max_value:
            raise InvalidInput(f"{row.key} must be at most {row.max_value}.")
    if row.allowed_values and text not in row.allowed_values:
        raise InvalidInput(f"{row.key} must be one of: {', '.join(row.allowed_values)}.")
    if row.key in SystemSettings.model_fields:
        try:
            SystemSettings.model_validate({row.key: typed_value(text, kind)})
        except ValidationError as exc:
            error = exc.errors()[0]
            # A validator's own sentence (field_thresholds) is given as written, without pydantic's prefix.
            own = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
            raise InvalidInput(f"{row.key}: {own or error['msg']}.") from exc
    return text


async def update_config(ctx: ServiceContext, key: str, value: str) -> ConfigEntry:
    """Change one setting (admins); the audit event keeps the old and new value (masked when secret)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_CONFIG)
        row = None
        if key.isascii() and key.isidentifier():
            row = await uow.session.scalar(
                select(SystemConfig).where(SystemConfig.key == key).with_for_update()
            )
        if row is None:
            raise NotFound(f"There is no setting called {key!r}.")
        new = normalize_value(row, value)
        old = row.value
        if new != old:
            row.value = new
            row.updated_by = ctx.actor.user_id
            uow.record(
                ctx.actor.event(
                    "config_changed",
                    key=key,
                    old=SECRET_MASK if row.is_secret else old,
                    new=SECRET_MASK if row.is_secret else new,
                )
            )
        await uow.session.flush()
        await uow.session.refresh(row)
        entry = _entry(row, ctx.actor.username if new != old else None)
        await uow.commit()
    return entry
