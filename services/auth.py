"""Logging in and out, the workstation's session checks, and a person's own password.

`login` runs before anyone is logged in, so it takes the database instead
of a ServiceContext; everything after it uses the context built from the
actor it returns.

A wrong password, an unknown username, a deactivated and a locked account
get the same answer along the same path: one short transaction to read the
account (and admit the attempt past the throttle, services.login_throttle),
exactly one bcrypt check (against a dummy hash when there is no account),
one short transaction recording the failure. A locked account hears why only
after its correct password. The failure's event names the user by id when
the typed name is a user's, else by the keyed hash of what was typed: never
the typed text, which may be a password typed into the wrong box. The hash
is read through auth_password_hash(): the application role may not select
the column.

A password set by an administrator is temporary (users.password_must_change):
the login succeeds and says so, and services.access refuses every other call
until change_password has replaced it. Changing a password ends the person's
other sessions, since the usual reason to change it is that it leaked.
Logging out gives back the person's claimed queue items. bcrypt runs in a worker thread
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
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, func, insert, or_, select, text, update

from db.database import Database
from db.models import Session, User
from db.uow import AuditRecord, UnitOfWork
from services import login_throttle
from services.access import DEACTIVATED, NOT_LOGGED_IN, SESSION_ENDED, authorize
from services.context import Actor, ServiceContext, open_unit_of_work
from services.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    LoginThrottled,
    ServiceError,
    SessionExpired,
)
from services.input_text import inet_address
from services.passwords import check_password_policy, hash_password, verify_password
from services.permissions import Permission, require
from services.review.claims import release_all_claims
from services.settings import PRODUCTION_BCRYPT_ROUNDS
from services.system_settings import SystemSettings, load_system_settings, setting_text
from services.users import USER_COLUMNS, UserInfo, normalize_username, revoke_sessions, user_info

LOGIN_FAILED = "The username or password is not right."
MAX_USER_AGENT_CHARS = 500

_SESSION_STATE = text(
    """
    SELECT s.id, s.user_id, host(s.ip_address) AS ip_address, s.user_agent, s.created_at,
           s.last_activity_at, s.expires_at, s.last_activity_at + i.idle AS idle_expires_at,
           s.ended_at, s.end_reason,
           s.expires_at <= now() AS expired, s.last_activity_at + i.idle <= now() AS idle, u.is_active
      FROM sessions s
      JOIN users u ON u.id = s.user_id
     CROSS JOIN (SELECT make_interval(mins => {idle_minutes}) AS idle) i
     WHERE s.id = :sid AND s.user_id = :uid
    """.format(idle_minutes=setting_text("idle_timeout_minutes"))
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

    @property
    def must_change_password(self) -> bool:
        """The password is temporary: the session may do nothing but change it."""
        return self.user.password_must_change


@dataclass(frozen=True)
class _Account:
    """What a password check needs to know about a user, read before bcrypt runs."""

    user: UserInfo
    password_hash: str


@dataclass(frozen=True)
class _Attempt:
    """Who is trying, from where, for the audit events of a failure."""

    kind: str
    # The keyed hash of the typed username: what a failure records when it is nobody's.
    username_digest: str
    ip_address: str | None
    user_agent: str
    session_id: uuid.UUID | None = None

    @classmethod
    def of(cls, actor: Actor, kind: str, username_digest: str) -> _Attempt:
        """An attempt by the person of a live session (unlocking the screen, changing the password)."""
        return cls(
            kind=kind,
            username_digest=username_digest,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
            session_id=actor.session_id,
        )

    def event(self, event_type: str, user_id: uuid.UUID | None, data: dict[str, Any]) -> AuditRecord:
        return AuditRecord(
            event_type=event_type,
            user_id=user_id,
            session_id=self.session_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent or None,
            event_data=data,
        )


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
    return f"This account is locked until {when}. Try again then, or ask an administrator to unlock it."


_PASSWORD_HASH = func.auth_password_hash(User.id).label("password_hash")


async def _read_account(uow: UnitOfWork, which: ColumnElement[bool] | None) -> _Account | None:
    if which is None:
        return None
    row = (await uow.session.execute(select(*USER_COLUMNS, _PASSWORD_HASH).where(which))).first()
    if row is None:
        return None
    return _Account(user=user_info(row), password_hash=row.password_hash)


async def _admit(
    uow: UnitOfWork, which: ColumnElement[bool] | None, typed_username: str
) -> tuple[_Account | None, SystemSettings, str, int]:
    """The account, the settings, the typed name's digest and the seconds it must still wait (0: go on)."""
    settings = await load_system_settings(uow.session)
    digest = await login_throttle.username_digest(uow, typed_username)
    wait = await login_throttle.admit(uow, digest, settings)
    return await _read_account(uow, which), settings, digest, wait


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
    elif not matches:
        reason = "wrong_password"
    elif account.user.is_locked:
        reason = "locked"
    else:
        return account
    raise await _record_failure(db, settings, account, reason, attempt, failure_message)


async def _record_failure(
    db: Database,
    settings: SystemSettings,
    account: _Account | None,
    reason: str,
    attempt: _Attempt,
    failure_message: str,
) -> ServiceError:
    """Commit the failure's count and event, and return the error to raise.

    Only a locked account whose password was right hears that it is locked;
    every other failure gets `failure_message`, whoever the username is.
    """
    error: ServiceError = AuthenticationFailed(failure_message)
    data: dict[str, Any] = {"attempt": attempt.kind, "reason": reason}
    if account is None:
        data["username_digest"] = attempt.username_digest
    else:
        # A failed login has no session, so append_audit_events records it as nobody's: the account
        # it was aimed at is named in the data.
        data["user_id"] = str(account.user.id)
    async with open_unit_of_work(db) as uow:
        if reason == "locked" and account is not None and account.user.locked_until is not None:
            error = AccountLocked(_locked_message(account.user.locked_until))
        elif reason == "throttled":
            error = LoginThrottled(failure_message)
        else:
            data["failed_count"] = await login_throttle.count_failure(uow, attempt.username_digest, settings)
            if account is not None:
                await uow.session.execute(
                    update(User)
                    .where(User.id == account.user.id)
                    .values(failed_login_count=User.failed_login_count + 1)
                )
        uow.record(attempt.event("login_failed", account.user.id if account else None, data))
        await uow.commit()
    return error


async def _refuse_throttled(
    db: Database, settings: SystemSettings, account: _Account | None, attempt: _Attempt, wait: int
) -> ServiceError:
    """Record an attempt that came before its username's wait was over, and return the answer."""
    return await _record_failure(
        db, settings, account, "throttled", attempt, login_throttle.wait_message(wait)
    )


async def _mark_authenticated(
    uow: UnitOfWork, user_id: uuid.UUID, digest: str, *, new_session: bool
) -> UserInfo:
    """Reset the failure counts, unless the account was deactivated or locked in the meantime."""
    await login_throttle.forget(uow, digest)
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
    name = normalize_username(username)
    async with open_unit_of_work(db) as uow:
        account, settings, digest, wait = await _admit(
            uow, None if name is None else User.username == name, username
        )
        await uow.commit()
    attempt = _Attempt(
        kind="login",
        username_digest=digest,
        ip_address=inet_address(ip_address),
        user_agent=_clean_user_agent(user_agent),
    )
    if wait:
        raise await _refuse_throttled(db, settings, account, attempt, wait)
    account = await _authenticate(db, bcrypt_rounds, settings, account, password, attempt)
    async with open_unit_of_work(db) as uow:
        user = await _mark_authenticated(uow, account.user.id, digest, new_session=True)
        result = await _open_session(uow, settings, user, attempt.ip_address, attempt.user_agent)
        temporary = {"must_change_password": True} if user.password_must_change else {}
        uow.record(result.actor.event("login", method="password", **temporary))
        await uow.commit()
    return result


async def logout(ctx: ServiceContext) -> None:
    """End the actor's session and give back their claims; logging out twice is not an error.

    No authorize(): logging out must work from a session that has just timed
    out. The claims go in the same transaction (each with its `release`
    event), so nobody sees "Held by …" for someone who has left.
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
        released = await release_all_claims(uow, actor, reason="logout")
        if ended is not None:
            uow.record(actor.event("logout", claims_released=released))
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
        if not state.is_active:
            raise SessionExpired(DEACTIVATED)
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

    A wrong password counts towards the username's throttle as a failed
    login does, so the lock screen is no way round it. Returns the actor to
    continue with: the same session, or a new one.
    """
    actor = ctx.actor
    if actor.session_id is None or actor.user_id is None:
        raise SessionExpired(NOT_LOGGED_IN)
    async with ctx.unit_of_work() as uow:
        _revivable(await _session_state(uow, actor))
        account, settings, digest, wait = await _admit(uow, User.id == actor.user_id, actor.username)
        await uow.commit()
    attempt = _Attempt.of(actor, "unlock", digest)
    if wait:
        raise await _refuse_throttled(ctx.db, settings, account, attempt, wait)
    await _authenticate(
        ctx.db, bcrypt_rounds, settings, account, password, attempt, "The password is not right."
    )
    async with ctx.unit_of_work() as uow:
        state = _revivable(await _session_state(uow, actor))
        live = state.ended_at is None and not state.expired and not state.idle
        user = await _mark_authenticated(uow, actor.user_id, digest, new_session=not live)
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
    """Change one's own password, which ends one's other sessions.

    The current password is required, and a wrong one counts as a failed
    login. This is also how a temporary password is replaced: the only call
    such a session may make.
    """
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
        account, settings, digest, wait = await _admit(uow, User.id == actor.user_id, actor.username)
        await uow.commit()
    attempt = _Attempt.of(actor, "change_password", digest)
    if wait:
        raise await _refuse_throttled(ctx.db, settings, account, attempt, wait)
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
                .where(User.id == actor.user_id, User.password_changed_at == account.user.password_changed_at)
                .values(password_hash=new_hash, password_changed_at=func.now(), password_must_change=False)
                .returning(*USER_COLUMNS)
            )
        ).first()
        if row is None:
            raise Conflict("Your password was changed elsewhere a moment ago, so this change was not made.")
        await login_throttle.forget(uow, digest)
        ended = await revoke_sessions(uow, actor.user_id, keep=actor.session_id)
        uow.record(
            actor.event(
                "password_changed", was_temporary=account.user.password_must_change, sessions_ended=ended
            )
        )
        await uow.commit()
    return user_info(row)
