"""system_config reading and editing, and the per-call session check."""

from __future__ import annotations

import asyncpg
import pytest

from db.database import Database
from services.access import authorize
from services.config import get_system_settings, list_config, update_config
from services.errors import Forbidden, InvalidInput, NotFound, SessionExpired
from services.permissions import Permission
from services.system_settings import SystemSettings, setting_text
from tests.services.conftest import MakeContext


async def test_settings_load_typed_with_the_migrations_defaults(make_context: MakeContext) -> None:
    ctx = await make_context("reviewer")
    settings = await get_system_settings(ctx)
    assert settings.confidence_threshold == 80
    assert settings.require_correction_reason is True
    assert settings.llm_pricing["gpt-4o-mini"].output_per_mtok > 0
    # Every default in code is what the migrations leave in the database, prices included: a command
    # run without a database (extract-file) prices its default model as the workstation does.
    assert settings == SystemSettings()
    assert settings.anthropic_model in SystemSettings().llm_pricing


async def test_every_setting_has_a_migrated_row_and_sql_reads_the_same_values(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer")
    keys = {row["key"] for row in await superuser.fetch("SELECT key FROM system_config")}
    assert set(SystemSettings.model_fields) <= keys
    defaults = SystemSettings()
    for key in ("confidence_threshold", "idle_timeout_minutes", "require_correction_reason"):
        # The expression the statements embed reads the row, and falls back to the same default.
        assert await superuser.fetchval(f"SELECT {setting_text(key)}") == getattr(defaults, key)
    await superuser.execute("DELETE FROM system_config WHERE key = 'confidence_threshold'")
    assert await superuser.fetchval(f"SELECT {setting_text('confidence_threshold')}") == 80


async def test_admin_changes_a_setting_with_validation_and_an_audit_event(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    entry = await update_config(admin, "confidence_threshold", " 85 ")
    assert entry.value == "85"
    assert entry.updated_by == admin.actor.username
    assert (await get_system_settings(admin)).confidence_threshold == 85
    event = await superuser.fetchrow(
        "SELECT event_type, user_id, event_data FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert event["event_type"] == "config_changed"
    assert event["user_id"] == admin.actor.user_id
    assert event["event_data"] == {"key": "confidence_threshold", "old": "80", "new": "85"}


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("confidence_threshold", "101", "at most 100"),
        ("confidence_threshold", "eighty", "takes a whole number; 'eighty' is not one"),
        ("require_correction_reason", "maybe", "takes true or false"),
        ("llm_default_provider", "skynet", "must be one of"),
        ("llm_pricing", "{not json", "takes a JSON value"),
        ("llm_pricing", '{"m": {"input_per_mtok": -1, "output_per_mtok": 1}}', "llm_pricing"),
        ("confidence_threshold", "", "Type a value for confidence_threshold: a whole number"),
    ],
)
async def test_bad_values_are_refused_and_nothing_changes(
    make_context: MakeContext, key: str, value: str, words: str, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    before = await superuser.fetchval("SELECT value FROM system_config WHERE key = $1", key)
    with pytest.raises(InvalidInput, match=words):
        await update_config(admin, key, value)
    assert await superuser.fetchval("SELECT value FROM system_config WHERE key = $1", key) == before
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_boolean_spellings_and_unknown_keys(make_context: MakeContext) -> None:
    admin = await make_context("admin")
    assert (await update_config(admin, "chat_enabled", "off")).value == "false"
    with pytest.raises(NotFound):
        await update_config(admin, "no_such_setting", "1")


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
async def test_only_admins_read_or_change_config(make_context: MakeContext, role: str) -> None:
    ctx = await make_context(role)
    with pytest.raises(Forbidden):
        await list_config(ctx)
    with pytest.raises(Forbidden):
        await update_config(ctx, "confidence_threshold", "70")


async def test_secret_values_are_never_shown(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await superuser.execute(
        "INSERT INTO system_config (key, value, value_type, description, is_secret) "
        "VALUES ('webhook_token', 's3cr3t', 'string', 'token', true)"
    )
    admin = await make_context("admin")
    entries = {e.key: e for e in await list_config(admin)}
    assert entries["webhook_token"].value != "s3cr3t"
    await update_config(admin, "webhook_token", "n3w")
    data = await superuser.fetchval("SELECT event_data FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert "n3w" not in str(data) and "s3cr3t" not in str(data)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("UPDATE sessions SET ended_at = now(), end_reason = 'logout'", "logged out"),
        (
            "UPDATE sessions SET created_at = now() - interval '5 hours', expires_at = now() - interval '1 minute'",
            "expired",
        ),
        ("UPDATE sessions SET last_activity_at = now() - interval '31 minutes'", "inactivity"),
        ("UPDATE sessions SET ended_at = now(), end_reason = 'revoked'", "administrator"),
    ],
)
async def test_calls_from_dead_sessions_are_refused_with_the_reason(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection, change: str, words: str
) -> None:
    ctx = await make_context("reviewer")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
    await superuser.execute(change)
    with pytest.raises(SessionExpired, match=words):
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)


async def test_each_call_refreshes_the_idle_clock(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    ctx = await make_context("reviewer")
    await superuser.execute("UPDATE sessions SET last_activity_at = now() - interval '20 minutes'")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
        await uow.commit()
    idle = await superuser.fetchval("SELECT now() - last_activity_at FROM sessions")
    assert idle.total_seconds() < 5


async def test_one_persons_calls_do_not_wait_for_each_other(make_context: MakeContext) -> None:
    """The dashboard runs its panels at once: the session check must not take a lock each time."""
    from sqlalchemy import text

    ctx = await make_context("supervisor")
    async with ctx.unit_of_work() as first:
        await authorize(first, ctx.actor, Permission.VIEW_DASHBOARD)
        async with ctx.unit_of_work() as second:
            await second.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            await authorize(second, ctx.actor, Permission.VIEW_DASHBOARD)
