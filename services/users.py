"""User administration: create, change role, deactivate, reactivate, unlock, reset a password.

Every call needs Permission.MANAGE_USERS and leaves an audit event naming
the user it changed and what changed, never a password or a hash. Users are
addressed by username: it is unique and never changes.

Two guards keep the system administrable: nobody deactivates or demotes
themselves, and the last active admin is never deactivated or demoted. The
second holds under concurrency because every call that may remove an admin
first locks the rows of all active admins, in id order, so two admins
demoting each other at the same moment cannot both succeed.

A change that alters what a person may do (role, deactivation, a new
password) ends their live sessions: a session's actor carries its role, so
it must log in again to get the new one.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Row, false, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.models import Session, User
from db.uow import UnitOfWork
from services import login_throttle
from services.access import authorize
from services.context import ROLES, Role, ServiceContext
from services.errors import Forbidden, InvalidInput, NotFound
from services.input_text import has_hidden_characters
from services.passwords import check_password_policy, hash_password
from services.permissions import Permission, require
from services.settings import PRODUCTION_BCRYPT_ROUNDS

USERNAME_RULE = "a letter, then 1 to 31 letters, digits, dots, hyphens or underscores"
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
# The same shape as the users_email_format CHECK, so a bad address is refused with a sentence.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_CHARS = 254
MAX_FULL_NAME_CHARS = 200


class UserInfo(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    is_locked: bool
    failed_login_count: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    password_changed_at: dt.datetime
    # Set by an admin's create or reset: the next login must change it before anything else.
    password_must_change: bool
    created_at: dt.datetime


USER_COLUMNS = (
    User.id,
    User.username,
    User.email,
    User.full_name,
    User.role,
    User.is_active,
    func.coalesce(User.locked_until > func.now(), false()).label("is_locked"),
    User.failed_login_count,
    User.locked_until,
    User.last_login_at,
    User.password_changed_at,
    User.password_must_change,
    User.created_at,
)


# The application role may read every column of users but password_hash (schema/v0006): every
# query here selects USER_COLUMNS, and the login reads a hash only through auth_password_hash().


def user_info(row: Row[Any]) -> UserInfo:
    """A UserInfo from a row selected with USER_COLUMNS (extra columns are ignored)."""
    return UserInfo.model_validate(dict(row._mapping))


def normalize_username(raw: str) -> str | None:
    """The stored form of a username (usernames are case-insensitive), or None when it cannot be one."""
    name = raw.strip()
    if not name.isascii():
        return None
    name = name.lower()
    return name if _USERNAME.fullmatch(name) else None


def _new_username(raw: str) -> str:
    name = normalize_username(raw)
    if name is None:
        raise InvalidInput(f"A username is {USERNAME_RULE}; {raw.strip()[:40]!r} is not one.")
    return name


def _email(raw: str) -> str:
    """Stored lower-case, so that two spellings of one mailbox cannot make two users."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_CHARS or has_hidden_characters(email) or not _EMAIL.fullmatch(email):
        raise InvalidInput(f"{raw.strip()[:60]!r} is not an email address (name@example.com).")
    return email


def _full_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not 1 <= len(name) <= MAX_FULL_NAME_CHARS or has_hidden_characters(name):
        raise InvalidInput(
            f"A full name is 1 to {MAX_FULL_NAME_CHARS} characters, without control characters or invisible ones."
        )
    return name


def _role(raw: str) -> Role:
    role = raw.strip().lower()
    if role in ROLES:
        return cast(Role, role)
    raise InvalidInput(f"A role is one of {', '.join(ROLES)}; {raw.strip()[:40]!r} is not one.")


def _about(user: UserInfo) -> dict[str, Any]:
    """What every event of this module says about the user it changed."""
    return {"target_user_id": str(user.id), "username": user.username}


async def revoke_sessions(uow: UnitOfWork, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> int:
    """End the user's live sessions (but `keep`) as 'revoked'; returns how many were ended."""
    ended = await uow.session.scalars(
        update(Session)
        .where(
            Session.user_id == user_id,
            Session.ended_at.is_(None),
            Session.expires_at > func.now(),
            Session.id.is_distinct_from(keep),
        )
        .values(ended_at=func.now(), end_reason="revoked")
        .returning(Session.id)
    )
    return len(ended.all())


async def _locked_target(uow: UnitOfWork, username: str, *, lock_admins: bool = False) -> UserInfo:
    """The user called `username`, locked for update (after all active admins, when asked)."""
    if lock_admins:
        await uow.session.execute(
            select(User.id).where(User.role == "admin", User.is_active).order_by(User.id).with_for_update()
        )
    name = normalize_username(username)
    row = None
    if name is not None:
        row = (
            await uow.session.execute(select(*USER_COLUMNS).where(User.username == name).with_for_update())
        ).first()
    if row is None:
        raise NotFound(f"There is no user called {username.strip()[:40]!r}.")
    return user_info(row)


async def _ensure_an_admin_remains(uow: UnitOfWork, target: UserInfo) -> None:
    """Refuse to take admin rights from the last active admin (admins are locked by _locked_target)."""
    if target.role != "admin" or not target.is_active:
        return
    others = await uow.session.scalar(
        select(func.count()).where(User.role == "admin", User.is_active, User.id != target.id)
    )
    if not others:
        raise InvalidInput(f"{target.username} is the last active admin; make another user an admin first.")


def _refuse_self(ctx: ServiceContext, target: UserInfo, message: str) -> None:
    if ctx.actor.user_id == target.id:
        raise Forbidden(message)


async def _update(uow: UnitOfWork, target: UserInfo, **values: Any) -> UserInfo:
    row = (
        await uow.session.execute(
            update(User).where(User.id == target.id).values(**values).returning(*USER_COLUMNS)
        )
    ).one()
    return user_info(row)


async def list_users(ctx: ServiceContext) -> list[UserInfo]:
    """Every user, active or not, by username (a few hundred at most: no paging)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        rows = (await uow.session.execute(select(*USER_COLUMNS).order_by(User.username))).all()
        await uow.commit()
    return [user_info(row) for row in rows]


async def create_user(
    ctx: ServiceContext,
    username: str,
    email: str,
    full_name: str,
    role: str,
    password: str,
    *,
    bcrypt_rounds: int = PRODUCTION_BCRYPT_ROUNDS,
    temporary: bool = True,
) -> UserInfo:
    """A new user; their password is `temporary` (to be changed at the first login) unless told otherwise.

    A password an admin chose is known to the admin, so by default it only
    opens the door to choosing one's own; the demo's published logins are
    the exception.
    """
    # The role check comes before bcrypt's fraction of a second; the session check with the write.
    require(ctx.actor, Permission.MANAGE_USERS)
    name = _new_username(username)
    address = _email(email)
    values = {"username": name, "email": address, "full_name": _full_name(full_name), "role": _role(role)}
    check_password_policy(password, username=name)
    password_hash = await hash_password(password, rounds=bcrypt_rounds)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        try:
            row = (
                await uow.session.execute(
                    insert(User)
                    .values(**values, password_hash=password_hash, password_must_change=temporary)
                    .returning(*USER_COLUMNS)
                )
            ).one()
        except IntegrityError as exc:
            # The unique constraints decide, so two admins creating the same user at once get a sentence too.
            original = getattr(exc.orig, "__cause__", None) or exc.orig
            constraint = getattr(original, "constraint_name", None)
            if constraint == "users_username_key":
                raise InvalidInput(f"The username {name!r} is already taken; choose another.") from exc
            if constraint == "users_email_key":
                raise InvalidInput(f"{address} is already the email address of another user.") from exc
            raise
        user = user_info(row)
        uow.record(
            ctx.actor.event(
                "user_created",
                **_about(user),
                email=user.email,
                full_name=user.full_name,
                role=user.role,
                temporary_password=temporary,
            )
        )
        await uow.commit()
    return user


async def change_role(ctx: ServiceContext, username: str, role: str) -> UserInfo:
    """Give a user another role; their live sessions end so that the new role applies at once."""
    new_role = _role(role)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        target = await _locked_target(uow, username, lock_admins=True)
        if target.role == new_role:
            await uow.commit()
            return target
        _refuse_self(ctx, target, "You cannot change your own role; ask another admin.")
        await _ensure_an_admin_remains(uow, target)
        user = await _update(uow, target, role=new_role)
        ended = await revoke_sessions(uow, target.id)
        uow.record(
            ctx.actor.event(
                "user_updated",
                **_about(user),
                changes={"role": {"old": target.role, "new": new_role}},
                sessions_ended=ended,
            )
        )
        await uow.commit()
    return user


async def deactivate(ctx: ServiceContext, username: str) -> UserInfo:
    """Stop a user from logging in and end their live sessions; their history stays."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        target = await _locked_target(uow, username, lock_admins=True)
        _refuse_self(ctx, target, "You cannot deactivate yourself; ask another admin.")
        if not target.is_active:
            raise InvalidInput(f"{target.username} is already deactivated.")
        await _ensure_an_admin_remains(uow, target)
        user = await _update(uow, target, is_active=False)
        ended = await revoke_sessions(uow, target.id)
        uow.record(ctx.actor.event("user_deactivated", **_about(user), sessions_ended=ended))
        await uow.commit()
    return user


async def reactivate(ctx: ServiceContext, username: str) -> UserInfo:
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        target = await _locked_target(uow, username)
        if target.is_active:
            raise InvalidInput(f"{target.username} is already active.")
        user = await _update(uow, target, is_active=True)
        uow.record(ctx.actor.event("user_reactivated", **_about(user)))
        await uow.commit()
    return user


async def unlock(ctx: ServiceContext, username: str) -> UserInfo:
    """Clear the failed-login count, the login delays and any lock-out, so the user can log in at once."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        target = await _locked_target(uow, username)
        user = await _update(uow, target, failed_login_count=0, locked_until=None)
        await login_throttle.forget(uow, await login_throttle.username_digest(uow, target.username))
        uow.record(
            ctx.actor.event(
                "user_unlocked",
                **_about(user),
                was_locked=target.is_locked,
                failed_login_count=target.failed_login_count,
            )
        )
        await uow.commit()
    return user


async def reset_password(
    ctx: ServiceContext,
    username: str,
    password: str,
    *,
    bcrypt_rounds: int = PRODUCTION_BCRYPT_ROUNDS,
    temporary: bool = True,
) -> UserInfo:
    """Set a temporary password for someone who lost theirs (they change it at their next login).

    It also clears any lock-out and login delays (the usual reason to ask)
    and ends the user's live sessions (the other usual reason: the old one
    leaked).
    """
    require(ctx.actor, Permission.MANAGE_USERS)
    name = normalize_username(username)
    check_password_policy(password, username=name or username)
    password_hash = await hash_password(password, rounds=bcrypt_rounds)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_USERS)
        target = await _locked_target(uow, username)
        _refuse_self(
            ctx, target, "Change your own password with 'change password': it asks for your current one."
        )
        user = await _update(
            uow,
            target,
            password_hash=password_hash,
            password_changed_at=func.now(),
            password_must_change=temporary,
            failed_login_count=0,
            locked_until=None,
        )
        await login_throttle.forget(uow, await login_throttle.username_digest(uow, target.username))
        ended = await revoke_sessions(uow, target.id)
        uow.record(
            ctx.actor.event(
                "password_reset",
                **_about(user),
                was_locked=target.is_locked,
                sessions_ended=ended,
                temporary_password=temporary,
            )
        )
        await uow.commit()
    return user
