"""The system settings a service reads (`system_config`), typed, with their defaults defined once.

The bottom of settings: the typed model, its one loader, and the one way to read a setting inside a
SQL statement. Editing them, with permissions and an audit event, is services/config.py; what a
process needs before it reaches the database is services/settings.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Boolean, ColumnElement, Integer, Numeric, Text, cast, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SystemConfig
from services.domain import FIELD_NAMES, PROVIDER_NAMES, FieldName


class ModelPrice(BaseModel):
    input_per_mtok: Decimal = Field(ge=0)
    output_per_mtok: Decimal = Field(ge=0)


def _price(input_per_mtok: str, output_per_mtok: str) -> ModelPrice:
    return ModelPrice(input_per_mtok=Decimal(input_per_mtok), output_per_mtok=Decimal(output_per_mtok))


# The prices the migrations leave in system_config.llm_pricing (schema/v0001, v0003), so that a command
# run without a database (extract-file) prices its default models as an installed workstation does.
DEFAULT_LLM_PRICING: dict[str, ModelPrice] = {
    "claude-sonnet-4-5": _price("3.0", "15.0"),
    "claude-sonnet-4-6": _price("3.0", "15.0"),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": _price("3.0", "15.0"),
    "gpt-4o-mini": _price("0.15", "0.6"),
    "gpt-4o": _price("2.5", "10.0"),
}


class SystemSettings(BaseModel):
    """Every setting a service reads, typed; the defaults are the migrated rows (a test keeps them equal).

    They serve the database-less commands, and stand in for a row an admin's database lacks.
    """

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
    llm_pricing: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_LLM_PRICING))
    refund_four_eyes_amount: Decimal = Decimal("1000")
    qa_sample_rate: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    auto_approve: bool = False
    qa_double_check_rate: Decimal = Field(default=Decimal("0.1"), ge=0, le=1)
    target_error_rate: Decimal = Field(default=Decimal("0.01"), gt=0, le=Decimal("0.5"))
    # Only the fields whose threshold differs from confidence_threshold are named: the global setting stays
    # the one knob for everything else (see field_threshold). A provider may have its own thresholds too:
    # {"gap_insurance_premium": 85, "anthropic": {"gap_insurance_premium": 90}} (checked_field_thresholds).
    field_thresholds: dict[str, int | dict[FieldName, int]] = Field(default_factory=dict)

    @field_validator("field_thresholds", mode="before")
    @classmethod
    def _checked_field_thresholds(cls, value: object) -> dict[str, int | dict[FieldName, int]]:
        return checked_field_thresholds(value)

    def field_threshold(self, name: FieldName, provider: str | None = None) -> int:
        """The confidence a field needs to pass without review: the provider's own threshold for it, else the
        field's own, else the global one."""
        own = self.field_thresholds.get(provider) if provider is not None else None
        if isinstance(own, dict) and name in own:
            return own[name]
        field_wide = self.field_thresholds.get(name)
        return field_wide if isinstance(field_wide, int) else self.confidence_threshold

    def thresholds(self, provider: str | None = None) -> dict[FieldName, int]:
        """Every field's threshold, for ``provider``'s extractions (None: the thresholds of no provider)."""
        return {name: self.field_threshold(name, provider) for name in FIELD_NAMES}

    def providers_with_thresholds(self) -> list[str]:
        """The providers ``field_thresholds`` gives thresholds of their own, in PROVIDER_NAMES order."""
        return [p for p in PROVIDER_NAMES if isinstance(self.field_thresholds.get(p), dict)]


def checked_field_thresholds(value: object) -> dict[str, int | dict[FieldName, int]]:
    """``field_thresholds`` as stored, or a ValueError whose sentence says what to type instead.

    Two kinds of key, so that the older form ({"field": 85}) keeps its meaning: a field name with a whole
    number 0-100 (for every provider), or a provider name with an object of such fields (its own).
    """
    fields, providers = ", ".join(FIELD_NAMES), ", ".join(PROVIDER_NAMES)
    if not isinstance(value, dict):
        raise ValueError(
            f'type a JSON object such as {{"{FIELD_NAMES[0]}": 85}} or '
            f'{{"anthropic": {{"{FIELD_NAMES[0]}": 90}}}}'
        )
    checked: dict[str, int | dict[FieldName, int]] = {}
    for key, entry in value.items():
        if key in FIELD_NAMES:
            checked[key] = _threshold(key, entry)
        elif key in PROVIDER_NAMES:
            if not isinstance(entry, dict) or not entry:
                raise ValueError(
                    f"The thresholds of the provider {key} are an object of fields and thresholds, "
                    f'e.g. {{"{FIELD_NAMES[0]}": 90}}'
                )
            for name in entry:
                if name not in FIELD_NAMES:
                    raise ValueError(
                        f"The provider {key} names {name!r}, which is not a field: use one of {fields}"
                    )
            checked[key] = {name: _threshold(f"{key} {name}", threshold) for name, threshold in entry.items()}
        else:
            raise ValueError(f"{key!r} is neither a field ({fields}) nor a provider ({providers})")
    return checked


def _threshold(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"The threshold of {what} is a whole number from 0 to 100, not {value!r}")
    return value


_SQL_TYPES: dict[type, type[Integer] | type[Boolean] | type[Numeric] | type[Text]] = {
    int: Integer,
    bool: Boolean,
    Decimal: Numeric,
    str: Text,
}


def setting_sql(key: str) -> ColumnElement[Any]:
    """A scalar setting inline in a statement, typed, with its default when the row is missing.

    The one way services read a setting inside SQL, so that hot paths need no extra round trip and the
    default is SystemSettings' own. `setting_text` gives the same expression for text() statements.
    """
    field = SystemSettings.model_fields[key]
    sql_type = _SQL_TYPES[field.annotation]  # type: ignore[index]
    return func.coalesce(
        select(cast(SystemConfig.value, sql_type)).where(SystemConfig.key == key).scalar_subquery(),
        literal(field.default, sql_type),
    )


def setting_text(key: str) -> str:
    """`setting_sql(key)` as SQL text, for the statements written as text()."""
    return sql_text(setting_sql(key))


def sql_text(expression: ColumnElement[Any]) -> str:
    """An expression that reads settings (`setting_sql`, the per-field thresholds) as SQL text for text().

    Its values are inlined, so a text() statement shares the one rule rather than restating it. It comes
    in parentheses: an OR of conditions placed after an AND must stay one operand.
    """
    compiled = expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return f"({compiled})"


def typed_value(value: str, value_type: str) -> Any:
    """A system_config value (stored as text) in the type its value_type names."""
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
    return SystemSettings(**{key: typed_value(value, kind) for key, value, kind in rows if key in known})
