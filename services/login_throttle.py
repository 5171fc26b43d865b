"""Growing delays between failed logins for one typed username, whether or not it is a user's.

A hard lock-out after N failures lets anyone who knows a colleague's username
keep them out of work, and its answer ("account locked") tells a stranger
the username exists. Instead, failures are counted per typed username, by a
keyed hash of it (HMAC-SHA256 whose key never leaves the database, see
schema/v0006): after `max_failed_logins` failures every further attempt for
that name must wait 1 second, then 2, 4 … up to `login_delay_max_seconds`.
The wait is the same for a name that belongs to nobody, so the answer says
nothing about who exists, and a guesser gets a few dozen tries an hour
instead of thousands a second.

Names typed once and never again would pile up; each failure also clears a
few rows whose last failure is older than FORGET_AFTER, so the table holds
about one day of distinct typed names.

An attempt admitted while delays apply pushes the next permitted time
forward *before* its bcrypt check, under a row lock, so a burst of parallel
guesses gets one try per delay rather than one each. A count whose last
failure is older than FORGET_AFTER starts again.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from db.models import LoginThrottle
from db.uow import UnitOfWork
from services.system_settings import SystemSettings

FORGET_AFTER = dt.timedelta(days=1)
# Forgotten rows cleared by each failure: more than arrive, so the table cannot grow without end.
_SWEEP = 20
# What is hashed of a typed username: enough to tell names apart, never a megabyte.
MAX_DIGESTED_CHARS = 256
# 2**30 seconds is decades: the exponent stops growing long before any cap is reached.
_MAX_EXPONENT = 30
_DIGEST = text("SELECT auth_username_digest(:typed)")


async def username_digest(uow: UnitOfWork, typed: str) -> str:
    """The keyed hash that stands for a typed username in events and in the throttle.

    Anything may have been typed: what the database cannot take as text (NUL,
    a lone surrogate) is replaced first, so a hostile name gets the ordinary answer.
    """
    cleaned = typed.strip().lower()[:MAX_DIGESTED_CHARS].replace("\x00", "\ufffd")
    cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    return str(await uow.session.scalar(_DIGEST, {"typed": cleaned}))


def delay_seconds(failures: int, settings: SystemSettings) -> int:
    """How long the next attempt must wait after `failures` failures in a row."""
    over = failures - settings.max_failed_logins
    if over < 0:
        return 0
    return int(min(2 ** min(over, _MAX_EXPONENT), settings.login_delay_max_seconds))


def wait_message(seconds: int) -> str:
    """The answer to an attempt that came too soon; the same for every username."""
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many failed logins with this username. Try again in {seconds} {unit}."


async def admit(uow: UnitOfWork, digest: str, settings: SystemSettings) -> int:
    """0 when this attempt may be checked now (reserving its slot), else the seconds still to wait."""
    row = (
        await uow.session.execute(
            select(
                LoginThrottle.failures,
                LoginThrottle.last_failure_at < func.now() - FORGET_AFTER,
                func.extract("epoch", LoginThrottle.retry_at - func.now()),
            )
            .where(LoginThrottle.username_digest == digest)
            .with_for_update()
        )
    ).first()
    if row is None:
        return 0
    failures, forgotten, remaining = row
    if forgotten:
        return 0
    if remaining > 0:
        return max(1, math.ceil(remaining))
    delay = delay_seconds(failures, settings)
    if delay:
        await uow.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.username_digest == digest)
            .values(retry_at=func.now() + dt.timedelta(seconds=delay))
        )
    return 0


async def count_failure(uow: UnitOfWork, digest: str, settings: SystemSettings) -> int:
    """One more failure for the username; returns the count and sets when the next try may come."""
    # A count forgotten by age starts again at one.
    counted = case(
        (LoginThrottle.last_failure_at < func.now() - FORGET_AFTER, 1), else_=LoginThrottle.failures + 1
    )
    statement = (
        insert(LoginThrottle)
        .values(username_digest=digest, failures=1)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.username_digest],
            set_={"failures": counted, "last_failure_at": func.now()},
        )
        .returning(LoginThrottle.failures)
    )
    failures = int(await uow.session.scalar(statement) or 1)
    forgotten = (
        select(LoginThrottle.username_digest)
        .where(LoginThrottle.last_failure_at < func.now() - FORGET_AFTER)
        .limit(_SWEEP)
        .with_for_update(skip_locked=True)
    )
    await uow.session.execute(
        delete(LoginThrottle).where(LoginThrottle.username_digest.in_(forgotten.scalar_subquery()))
    )
    await uow.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username_digest == digest)
        .values(retry_at=func.now() + dt.timedelta(seconds=delay_seconds(failures, settings)))
    )
    return failures


async def forget(uow: UnitOfWork, digest: str) -> None:
    """A successful login (or an admin's unlock) clears the username's count."""
    await uow.session.execute(delete(LoginThrottle).where(LoginThrottle.username_digest == digest))
