"""Runtime configuration in `system_config`: typed reading for services, validated editing for admins."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SystemConfig, User
from services.access import authorize, check_session
from services.context import ServiceContext
from services.errors import InvalidInput, NotFound
from services.extraction.types import FIELD_NAMES, FieldName
from services.input_text import typed_text
from services.permissions import Permission

SECRET_MASK = "••••••••"
MAX_VALUE_CHARS = 20_000


class ModelPrice(BaseModel):
    input_per_mtok: Decimal = Field(ge=0)
    output_per_mtok: Decimal = Field(ge=0)


class SystemSettings(BaseModel):
    """Every setting a service reads, typed; defaults match the migration's rows."""

    confidence_threshold: int = 80
    session_timeout_hours: int = 4
    idle_timeout_minutes: int = 30
    max_failed_logins: int = 5
    login_delay_max_seconds: int = 900
    claim_lease_minutes: int = 15
    queue_sla_hours: int = 24
    require_correction_reason: bool = True
    llm_default_provider: str = "rules"
    max_retries: int = 3
    circuit_breaker_threshold: int = 5
    circuit_breaker_cooldown_seconds: int = 60
    extraction_timeout_seconds: int = 60
    chat_enabled: bool = True
    audit_retention_years: int = 7
    audit_partitions_ahead: int = 3
    anthropic_model: str = "claude-sonnet-4-6"
    bedrock_model_id: str = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    openai_model: str = "gpt-4o-mini"
    llm_pricing: dict[str, ModelPrice] = Field(default_factory=dict)
    refund_four_eyes_amount: Decimal = Decimal("1000")
    qa_sample_rate: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    auto_approve: bool = False
    target_error_rate: Decimal = Field(default=Decimal("0.01"), gt=0, le=Decimal("0.5"))
    # Only the fields whose threshold differs from confidence_threshold are named: the global setting stays
    # the one knob for everything else (see field_threshold).
    field_thresholds: dict[FieldName, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)

    def field_threshold(self, name: FieldName) -> int:
        """The confidence a field needs to pass without review: its own threshold, else the global one."""
        return self.field_thresholds.get(name, self.confidence_threshold)

    def thresholds(self) -> dict[FieldName, int]:
        return {name: self.field_threshold(name) for name in FIELD_NAMES}


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


def _typed(value: str, value_type: str) -> Any:
    if value_type == "integer":
        return int(value)
    if value_type == "decimal":
        return Decimal(value)
    if value_type == "boolean":
        return value == "true"
    if value_type == "json":
        return json.loads(value)
    return value


async def load_system_settings(session: AsyncSession) -> SystemSettings:
    """All settings in one query, inside the caller's transaction."""
    rows = (
        await session.execute(select(SystemConfig.key, SystemConfig.value, SystemConfig.value_type))
    ).all()
    known = SystemSettings.model_fields
    return SystemSettings(**{key: _typed(value, kind) for key, value, kind in rows if key in known})


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
            SystemSettings.model_validate({row.key: _typed(text, kind)})
        except ValidationError as exc:
            raise InvalidInput(f"{row.key}: {exc.errors()[0]['msg']}.") from exc
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
