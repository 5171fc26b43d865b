"""Keeping the database in shape: audit partitions ahead, expired sessions out.

Run by `refund-review maintain` (from cron or a systemd timer) and safe to
run at any time, as often as wanted: every step is idempotent.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select, text

from services.context import ServiceContext
from services.permissions import Permission, require

MIN_PARTITIONS_AHEAD = 3


class MaintenanceReport(BaseModel):
    partitions_created: list[str]
    sessions_removed: int


async def ensure_partitions(ctx: ServiceContext, months_ahead: int | None = None) -> list[str]:
    """Create the monthly audit partitions from this month through `months_ahead` (config by default)."""
    require(ctx.actor, Permission.MAINTAIN)
    async with ctx.db.unit_of_work() as uow:
        if months_ahead is None:
            configured = await uow.session.scalar(
                text("SELECT value::integer FROM system_config WHERE key = 'audit_partitions_ahead'")
            )
            months_ahead = max(configured or MIN_PARTITIONS_AHEAD, MIN_PARTITIONS_AHEAD)
        created = list(
            (await uow.session.execute(select(func.ensure_audit_partitions(months_ahead)))).scalars()
        )
        for name in created:
            uow.record(ctx.actor.event("partition_created", partition=name))
        await uow.commit()
    return created


async def cleanup_sessions(ctx: ServiceContext) -> int:
    """Remove ended, expired and idle sessions; returns how many."""
    require(ctx.actor, Permission.MAINTAIN)
    async with ctx.db.unit_of_work() as uow:
        removed = int(await uow.session.scalar(select(func.cleanup_expired_sessions())) or 0)
        if removed:
            uow.record(ctx.actor.event("sessions_cleaned", removed=removed))
        await uow.commit()
    return removed


async def run_maintenance(ctx: ServiceContext, months_ahead: int | None = None) -> MaintenanceReport:
    return MaintenanceReport(
        partitions_created=await ensure_partitions(ctx, months_ahead),
        sessions_removed=await cleanup_sessions(ctx),
    )
