"""Authorizing a service call: the role's permission and a live session, in one round trip.

This is the one place every public service call is checked: authorize()
(or check_session() for the few calls that need a session but no
particular right) runs inside the call's unit of work. The check is a
single statement that also records activity, so a call from an ended,
expired or idle session, or from a user deactivated meanwhile, is refused
with the reason, and an active one keeps its idle clock fresh, without an
extra query on the hot path. It also reads whether the password is a
temporary one: until it is changed, the only thing the session may do is
change it.
"""

from __future__ import annotations

from sqlalchemy import text

from db.uow import UnitOfWork
from services.context import Actor
from services.errors import PasswordChangeRequired, SessionExpired
from services.permissions import Permission, require
from services.system_settings import setting_text

# The activity clock is moved at most once a minute: a call that only needs to
# know the session is alive then takes no row lock, so one person's concurrent
# calls (the dashboard's panels) never queue behind each other.
_TOUCH = text(
    """
    WITH live AS (
        SELECT s.id, s.last_activity_at < now() - interval '1 minute' AS stale, u.password_must_change
          FROM sessions s
          JOIN users u ON u.id = s.user_id AND u.is_active
         WHERE s.id = :sid AND s.user_id = :uid AND s.ended_at IS NULL AND s.expires_at > now()
           AND s.last_activity_at > now() - make_interval(mins => {idle_minutes})
    ), touched AS (
        UPDATE sessions SET last_activity_at = now() WHERE id IN (SELECT id FROM live WHERE stale)
    )
    SELECT password_must_change FROM live
    """.format(idle_minutes=setting_text("idle_timeout_minutes"))
)
_WHY = text(
    """
    SELECT s.ended_at, s.end_reason, s.expires_at <= now() AS expired, u.is_active
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = :sid
    """
)

NOT_LOGGED_IN = "You are not logged in. Log in again to continue."
# Why a session no longer works, by sessions.end_reason; services.auth ends sessions with these reasons.
SESSION_ENDED = {
    "revoked": "Your session was ended by an administrator. Log in again to continue.",
    "logout": "You have logged out of this session. Log in again to continue.",
    "expired": "Your session has expired (sessions last a working day). Log in again to continue.",
    "idle": "Your session was closed after a period of inactivity. Log in again to continue.",
}
DEACTIVATED = "Your account has been deactivated, so this session has ended. Ask an administrator."
MUST_CHANGE_PASSWORD = (
    "Your password is a temporary one: change it (f9, or 'Change password' in ctrl+p) before anything else."
)


async def authorize(uow: UnitOfWork, actor: Actor, permission: Permission) -> None:
    """Raise Forbidden or SessionExpired unless the actor may do this now."""
    require(actor, permission)
    await check_session(uow, actor, password_change=permission is Permission.CHANGE_OWN_PASSWORD)


async def check_session(uow: UnitOfWork, actor: Actor, *, password_change: bool = False) -> None:
    """Raise unless the actor's session is open, not expired or idle, and its user active.

    The command-line operator has no session and is let through: whoever
    runs the command line already holds the database credentials. A session
    whose password is temporary may only change it (`password_change`).
    """
    if actor.session_id is None:
        if actor.is_system:
            return
        raise SessionExpired(NOT_LOGGED_IN)
    must_change = await uow.session.scalar(_TOUCH, {"sid": actor.session_id, "uid": actor.user_id})
    if must_change is None:
        raise SessionExpired(await _why_refused(uow, actor))
    if must_change and not password_change:
        raise PasswordChangeRequired(MUST_CHANGE_PASSWORD)


async def _why_refused(uow: UnitOfWork, actor: Actor) -> str:
    row = (await uow.session.execute(_WHY, {"sid": actor.session_id})).first()
    if row is None:
        return SESSION_ENDED["revoked"]
    if row.end_reason is not None:
        return SESSION_ENDED[row.end_reason]
    if not row.is_active:
        return DEACTIVATED
    return SESSION_ENDED["expired" if row.expired else "idle"]
