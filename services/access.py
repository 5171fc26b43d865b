"""Authorizing a service call: the role's permission and a live session, in one round trip.

The session check is a single statement that also records activity, so a call
from an ended, expired or idle session is refused with the reason, and an
active one keeps its idle clock fresh, without an extra query on the hot path.
"""

from __future__ import annotations

from sqlalchemy import text

from db.uow import UnitOfWork
from services.context import Actor
from services.errors import SessionExpired
from services.permissions import Permission, require

# The activity clock is moved at most once a minute: a call that only needs to
# know the session is alive then takes no row lock, so one person's concurrent
# calls (the dashboard's panels) never queue behind each other.
_TOUCH = text(
    """
    WITH live AS (
        SELECT id, last_activity_at < now() - interval '1 minute' AS stale
          FROM sessions
         WHERE id = :sid AND user_id = :uid AND ended_at IS NULL AND expires_at > now()
           AND last_activity_at > now() - make_interval(mins => coalesce(
               (SELECT value::integer FROM system_config WHERE key = 'idle_timeout_minutes'), 30))
    ), touched AS (
        UPDATE sessions SET last_activity_at = now() WHERE id IN (SELECT id FROM live WHERE stale)
    )
    SELECT 1 FROM live
    """
)
_WHY = text("SELECT ended_at, end_reason, expires_at <= now() AS expired FROM sessions WHERE id = :sid")

NOT_LOGGED_IN = "You are not logged in. Log in again to continue."
# Why a session no longer works, by sessions.end_reason; services.auth ends sessions with these reasons.
SESSION_ENDED = {
    "revoked": "Your session was ended by an administrator. Log in again to continue.",
    "logout": "You have logged out of this session. Log in again to continue.",
    "expired": "Your session has expired (sessions last a working day). Log in again to continue.",
    "idle": "Your session was closed after a period of inactivity. Log in again to continue.",
}


async def authorize(uow: UnitOfWork, actor: Actor, permission: Permission) -> None:
    """Raise Forbidden or SessionExpired unless the actor may do this now."""
    require(actor, permission)
    if actor.session_id is None:
        if actor.is_system:
            return
        raise SessionExpired(NOT_LOGGED_IN)
    if await uow.session.scalar(_TOUCH, {"sid": actor.session_id, "uid": actor.user_id}) is None:
        raise SessionExpired(await _why_refused(uow, actor))


async def _why_refused(uow: UnitOfWork, actor: Actor) -> str:
    row = (await uow.session.execute(_WHY, {"sid": actor.session_id})).first()
    if row is None:
        return SESSION_ENDED["revoked"]
    if row.end_reason is not None:
        return SESSION_ENDED[row.end_reason]
    return SESSION_ENDED["expired" if row.expired else "idle"]
