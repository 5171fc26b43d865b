"""Logging in and out, the workstation's session checks, and a person's own password.

`login` runs before anyone is logged in, so it takes the database instead
of a ServiceContext; everything after it uses the context built from the
actor it returns.

A wrong password, an unknown username and a deactivated account get the
same answer along the same path: one short transaction to read the account,
exactly one bcrypt check (against a dummy hash when there is no account),
one short transaction recording the failure. bcrypt runs in a worker thread
*between* the transactions, so no connection sits idle in a transaction for
its fraction of a second and the UI's event loop keeps drawing.

A failed attempt must leave its trace although the call fails: the failure
transaction commits the counter and the events first, and only then is the
error raised (raising inside the unit of work would roll them back).

Screen lock: after an idle lock the workstation asks for the password again
(`unlock_screen`). When the session is still live it continues, so nothing
the reviewer holds is lost; when it has expired or gone idle meanwhile, a
new session is opened for the same person, because typing the password is
the same proof a login asks for. A session ended by logging out or by an
administrator is never revived: that takes a full login.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, case, func, insert, or_, select, text, update
from sqlalchemy.sql.dml import ReturningUpdate

from db.database import Database
from db.models import Session, User
from db.uow import AuditRecord, UnitOfWork
from services.access import NOT_LOGGED_IN, SESSION_ENDED, authorize
from services.config import SystemSettings, load_system_settings
from services.context import Actor, ServiceContext, open_unit_of_work
from services.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    ServiceError,
    SessionExpired,
)
from services.passwords import check_password_policy, hash_password, verify_password
from services.permissions import Permission, require
from services.settings import PRODUCTION_BCRYPT_ROUNDS
from services.users import USER_COLUMNS, UserInfo, normalize_username, user_info

LOGIN_FAILED = "The username or password is not right."
MAX_USER_AGENT_CHARS = 500

_SESSION_STATE = text(
    """
    SELECT s.id, s.user_id, host(s.ip_address) AS ip_address, s.user_agent, s.created_at,
           s.last_activity_at, s.expires_at, s.last_activity_at + i.idle AS idle_expires_at,
           s.ended_at, s.end_reason,
           s.expires_at <= now() AS expired, s.last_activity_at + i.idle <= now() AS idle
      FROM sessions s
     CROSS JOIN (SELECT make_interval(mins => coalesce(
                     (SELECT value::integer FROM system_config WHERE key = 'idle_timeout_minutes'), 30)) AS idle) i
     WHERE s.id = :sid AND s.user_id = :uid
    """
)


class SessionInfo(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    ip_address: str | None
    user_agent: str
    created_at: dt.datetime
    last_activity_at: dt.datetime
    expires_at: dt.datetime
    # When the session ends unless it is used before (idle_timeout_minutes after the last call).
    idle_expires_at: dt.datetime


class LoginResult(BaseModel):
    actor: Actor
    session: SessionInfo
    user: UserInfo


@dataclass(frozen=True)
class _Account:
    """What a password check needs to know about a user, read before bcrypt runs."""

    user: UserInfo
    password_hash: str


@dataclass(frozen=True)
class _Attempt:
    """Who is trying, from where, for the audit events of a failure."""

    kind: str
    username: str | None
    ip_address: str | None
    user_agent: str
    session_id: uuid.UUID | None = None

    def event(self, event_type: str, user_id: uuid.UUID | None, data: dict[str, Any]) -> AuditRecord:
        return AuditRecord(
            event_type=event_type,
            user_id=user_id,
            session_id=self.session_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent or None,
            event_data=data,
        )


def _clean_ip(ip_address: str | None) -> str | None:
    """The caller's address as PostgreSQL's inet takes it; None when it is not one.

    The address comes from the environment (SSH_CLIENT): a malformed one
    must not make logging in impossible.
    """
    if not ip_address:
        return None
    try:
        return str(ipaddress.ip_address(ip_address.split("%", 1)[0].strip()))
    except ValueError:
        return None


def _clean_user_agent(user_agent: str) -> str:
    return "".join(char for char in user_agent if char.isprintable())[:MAX_USER_AGENT_CHARS]


def _locked_message(until: dt.datetime) -> str:
    # Rounded up to the minute: trying again at the time shown must work.
    shown = until.astimezone(dt.UTC).replace(second=0, microsecond=0)
    if shown < until:
        shown += dt.timedelta(minutes=1)
    when = f"{shown:%H:%M} UTC"
    if shown.date() != dt.datetime.now(dt.UTC).date():
        when += f" on {shown:%Y-%m-%d}"
    return (
        f"This account is locked after too many failed logins, until {when}. "
        "Try again then, or ask an administrator to unlock it."
    )


async def _read_account(
    uow: UnitOfWork, which: ColumnElement[bool] | None
) -> tuple[_Account | None, SystemSettings]:
    settings = await load_system_settings(uow.session)
    if which is None:
        return None, settings
    row = (await uow.session.execute(select(*USER_COLUMNS, User.password_hash).where(which))).first()
    if row is None:
        return None, settings
    return _Account(user=user_info(row), password_hash=row.password_hash), settings


async def _authenticate(
    db: Database,
    bcrypt_rounds: int,
    settings: SystemSettings,
    account: _Account | None,
    password: str,
    attempt: _Attempt,
    failure_message: str = LOGIN_FAILED,
) -> _Account:
    """The account, when the password is right and the account may log in; else record and raise."""
    matches = await verify_password(
        password, account.password_hash if account else None, rounds=bcrypt_rounds
    )
    if account is None:
        reason = "unknown_user"
    elif not account.user.is_active:
        reason = "inactive"
    elif account.user.is_locked:
        reason = "locked"
    elif not matches:
        reason = "wrong_password"
    else:
        return account
    raise await _record_failure(db, settings, account, reason, attempt, failure_message)


def _count_failure(
    user_id: uuid.UUID, settings: SystemSettings
) -> ReturningUpdate[tuple[int, dt.datetime | None]]:
    """One more failure in a row (a lock-out that has run out starts the count again)."""
    count = case((User.locked_until <= func.now(), 1), else_=User.failed_login_count + 1)
    lock_until = func.now() + dt.timedelta(minutes=settings.lockout_minutes)
    return (
        update(User)
        .where(User.id == user_id)
        .values(
            failed_login_count=count,
            locked_until=case((count >= settings.max_failed_logins, lock_until), else_=None),
        )
        .returning(User.failed_login_count, User.locked_until)
    )


async def _record_failure(
    db: Database,
    settings: SystemSettings,
    account: _Account | None,
    reason: str,
    attempt: _Attempt,
    failure_message: str,
) -> ServiceError:
    """Commit the failure's counter and events, and return the error to raise."""
    user_id = account.user.id if account else None
    error: ServiceError = AuthenticationFailed(failure_message)
    data: dict[str, Any] = {"attempt": attempt.kind, "username": attempt.username, "reason": reason}
    async with open_unit_of_work(db) as uow:
        lock: tuple[int, dt.datetime] | None = None
        if account is not None and reason == "wrong_password":
            count, locked_until = (await uow.session.execute(_count_failure(account.user.id, settings))).one()
            data["failed_count"] = count
            if locked_until is not None:
                lock = (count, locked_until)
        elif account is not None and reason == "locked" and account.user.locked_until is not None:
            error = AccountLocked(_locked_message(account.user.locked_until))
        uow.record(attempt.event("login_failed", user_id, data))
        if lock is not None:
            count, locked_until = lock
            error = AccountLocked(_locked_message(locked_until))
            uow.record(
                attempt.event(
                    "account_locked",
                    user_id,
                    {
                        "username": attempt.username,
                        "failed_count": count,
                        "locked_until": locked_until.isoformat(),
                    },
                )
            )
        await uow.commit()
    return error


async def _mark_authenticated(uow: UnitOfWork, user_id: uuid.UUID, *, new_session: bool) -> UserInfo:
    """Reset the failure count, unless the account was deactivated or locked in the meantime."""
    values: dict[str, Any] = {"failed_login_count": 0, "locked_until": None}
    if new_session:
        values["last_login_at"] = func.now()
    row = (
        await uow.session.execute(
            update(User)
            .where(
                User.id == user_id,
                User.is_active,
                or_(User.locked_until.is_(None), User.locked_until <= func.now()),
            )
            .values(**values)
            .returning(*USER_COLUMNS)
        )
    ).first()
    if row is None:
        raise AuthenticationFailed(LOGIN_FAILED)
    return user_info(row)


async def _open_session(
    uow: UnitOfWork, settings: SystemSettings, user: UserInfo, ip_address: str | None, user_agent: str
) -> LoginResult:
    row = (
        await uow.session.execute(
            insert(Session)
            .values(
                user_id=user.id,
                ip_address=ip_address,
                user_agent=user_agent,
                expires_at=func.now() + dt.timedelta(hours=settings.session_timeout_hours),
            )
            .returning(Session.id, Session.created_at, Session.last_activity_at, Session.expires_at)
        )
    ).one()
    session = SessionInfo(
        id=row.id,
        user_id=user.id,
        ip_address=ip_address,
        user_agent=user_agent,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
        expires_at=row.expires_at,
        idle_expires_at=row.last_activity_at + dt.timedelta(minutes=settings.idle_timeout_minutes),
    )
    actor = Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        session_id=row.id,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return LoginResult(actor=actor, session=session, user=user)


async def login(
    db: Database,
    bcrypt_rounds: int,
    username: str,
    password: str,
    *,
    ip_address: str | None,
    user_agent: str,
) -> LoginResult:
    """Open a session for the person whose password this is.

    `bcrypt_rounds` is Settings.bcrypt_rounds: the cost of the dummy check
    made for an unknown username, so that it costs what a real one does.
    The workstation passes `client_ip()` and `user_agent("tui")`.
    """
    attempt = _Attempt(
        kind="login",
        username=normalize_username(username),
        ip_address=_clean_ip(ip_address),
        user_agent=_clean_user_agent(user_agent),
    )
    async with open_unit_of_work(db) as uow:
        account, settings = await _read_account(
            uow, None if attempt.username is None else User.username == attempt.username
        )
    account = await _authenticate(db, bcrypt_rounds, settings, account, password, attempt)
    async with open_unit_of_work(db) as uow:
        user = await _mark_authenticated(uow, account.user.id, new_session=True)
        result = await _open_session(uow, settings, user, attempt.ip_address, attempt.user_agent)
        uow.record(result.actor.event("login", method="password"))
        await uow.commit()
    return result


async def logout(ctx: ServiceContext) -> None:
    """End the actor's session; logging out of one that has already ended is not an error.

    No authorize(): logging out must work from a session that has just timed out.
    """
    actor = ctx.actor
    if actor.session_id is None:
        return
    async with ctx.unit_of_work() as uow:
        ended = await uow.session.scalar(
            update(Session)
            .where(
                Session.id == actor.session_id, Session.user_id == actor.user_id, Session.ended_at.is_(None)
            )
            .values(ended_at=func.now(), end_reason="logout")
            .returning(Session.id)
        )
        if ended is not None:
            uow.record(actor.event("logout"))
        await uow.commit()


def _session_info(state: Row[Any]) -> SessionInfo:
    return SessionInfo.model_validate(dict(state._mapping))


async def _session_state(uow: UnitOfWork, actor: Actor) -> Row[Any] | None:
    return (
        await uow.session.execute(_SESSION_STATE, {"sid": actor.session_id, "uid": actor.user_id})
    ).first()


async def _end_timed_out_session(uow: UnitOfWork, actor: Actor, state: Row[Any]) -> str:
    """Mark a session that ran out as ended, recording `session_expired` only the first time."""
    reason = "expired" if state.expired else "idle"
    ended = await uow.session.scalar(
        update(Session)
        .where(Session.id == actor.session_id, Session.ended_at.is_(None))
        .values(ended_at=func.now(), end_reason=reason)
        .returning(Session.id)
    )
    if ended is not None:
        uow.record(actor.event("session_expired", reason=reason))
    return reason


async def validate_session(ctx: ServiceContext) -> SessionInfo:
    """The actor's session while it is live; SessionExpired, with the reason, once it is not.

    For the workstation's periodic check. It deliberately does not go
    through authorize(), which refreshes the idle clock: a timer that kept
    the session alive would defeat the idle timeout.
    """
    actor = ctx.actor
    if actor.session_id is None:
        raise SessionExpired(NOT_LOGGED_IN)
    async with ctx.unit_of_work() as uow:
        state = await _session_state(uow, actor)
        if state is None:
            raise SessionExpired(SESSION_ENDED["revoked"])
        if state.ended_at is not None:
            raise SessionExpired(SESSION_ENDED[state.end_reason])
        if state.expired or state.idle:
            reason = await _end_timed_out_session(uow, actor, state)
            await uow.commit()
            raise SessionExpired(SESSION_ENDED[reason])
    return _session_info(state)


def _revivable(state: Row[Any] | None) -> Row[Any]:
    """The session's state, unless it was ended on purpose (logout, an administrator)."""
    if state is None:
        raise SessionExpired(SESSION_ENDED["revoked"])
    if state.end_reason in {"logout", "revoked"}:
        raise SessionExpired(SESSION_ENDED[state.end_reason])
    return state


async def unlock_screen(ctx: ServiceContext, bcrypt_rounds: int, password: str) -> LoginResult:
    """Let the person of the current session back in after an idle lock (see the module's docstring).

    A wrong password counts towards the lock-out as a failed login does,
    so the lock screen is no way round it. Returns the actor to continue
    with: the same session, or a new one.
    """
    actor = ctx.actor
    if actor.session_id is None or actor.user_id is None:
        raise SessionExpired(NOT_LOGGED_IN)
    attempt = _Attempt(
        kind="unlock",
        username=actor.username,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        session_id=actor.session_id,
    )
    async with ctx.unit_of_work() as uow:
        _revivable(await _session_state(uow, actor))
        account, settings = await _read_account(uow, User.id == actor.user_id)
    await _authenticate(
        ctx.db, bcrypt_rounds, settings, account, password, attempt, "The password is not right."
    )
    async with ctx.unit_of_work() as uow:
        state = _revivable(await _session_state(uow, actor))
        live = state.ended_at is None and not state.expired and not state.idle
        user = await _mark_authenticated(uow, actor.user_id, new_session=not live)
        if live:
            await uow.session.execute(
                update(Session).where(Session.id == actor.session_id).values(last_activity_at=func.now())
            )
            session = _session_info(await _session_state(uow, actor))
            result = LoginResult(actor=actor, session=session, user=user)
            uow.record(actor.event("login", method="unlock", continued_session=True))
        else:
            if state.ended_at is None:
                await _end_timed_out_session(uow, actor, state)
            result = await _open_session(uow, settings, user, actor.ip_address, actor.user_agent)
            uow.record(
                result.actor.event("login", method="unlock", previous_session_id=str(actor.session_id))
            )
        await uow.commit()
    return result


async def change_password(
    ctx: ServiceContext,
    old_password: str,
    new_password: str,
    *,
    bcrypt_rounds: int = PRODUCTION_BCRYPT_ROUNDS,
) -> UserInfo:
    """Change one's own password; the current one is required, and a wrong one counts as a failed login."""
    actor = ctx.actor
    require(actor, Permission.CHANGE_OWN_PASSWORD)
    if actor.user_id is None:
        raise InvalidInput(
            "The command-line operator has no password of its own; use `refund-review user reset-password`."
        )
    check_password_policy(new_password, username=actor.username)
    if new_password == old_password:
        raise InvalidInput("The new password must be different from the current one.")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, actor, Permission.CHANGE_OWN_PASSWORD)
        account, settings = await _read_account(uow, User.id == actor.user_id)
        await uow.commit()
    attempt = _Attempt(
        kind="change_password",
        username=actor.username,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        session_id=actor.session_id,
    )
    account = await _authenticate(
        ctx.db,
        bcrypt_rounds,
        settings,
        account,
        old_password,
        attempt,
        "Your current password is not right, so the password was not changed.",
    )
    new_hash = await hash_password(new_password, rounds=bcrypt_rounds)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, actor, Permission.CHANGE_OWN_PASSWORD)
        row = (
            await uow.session.execute(
                update(User)
                # Unchanged since it was checked: two changes at once cannot both win.
                .where(User.id == actor.user_id, User.password_hash == account.password_hash)
                .values(password_hash=new_hash, password_changed_at=func.now())
                .returning(*USER_COLUMNS)
            )
        ).first()
        if row is None:
            raise Conflict("Your password was changed elsewhere a moment ago, so this change was not made.")
        uow.record(actor.event("password_changed"))
        await uow.commit()
    return user_info(row)
