"""The dashboard's refund figures against a hand-made month of refunds whose figures are counted by hand.

Rows are written straight into the database with chosen dates (the services stamp `now()`), so every
boundary is exercised: before, inside and after the period; paid on time, late, never; rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial

import asyncpg
import pytest

from db.models import Extraction
from services.errors import Forbidden
from services.metrics.period import Period
from services.refunds.figures import AmountGroup, refund_figures
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
TODAY = dt.date.today()
PERIOD = Period.between(TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=31))


def day(offset: int) -> dt.datetime:
    """Noon UTC, `offset` days after the period's first day."""
    return dt.datetime.combine(PERIOD.first_day + dt.timedelta(days=offset), dt.time(12), dt.UTC)


async def insert_refund(
    superuser: asyncpg.Connection, contract_id: str, *, user: object, status: str, requested: dt.datetime,
    amount: str | None, method: str | None = "Pro-Rata", state: str | None = "AR",
    approved: dt.datetime | None = None, paid: dt.datetime | None = None, pay_by: dt.date | None = None,
    rejected: dt.datetime | None = None,
) -> None:  # fmt: skip
    """A refund request row with chosen moments (`user` approved, paid or rejected it as its status says)."""
    await superuser.execute(
        """
        INSERT INTO refund_requests (contract_id, cancel_date, reason, request_date, verdict, refund_amount,
            method_used, state, steps, pay_by, status, requested_at, approved_by, approved_at, approval_seq,
            paid_by, paid_at, rejected_by, rejected_at, rejection_reason)
        VALUES ($1, $2, 'payoff', $2, $3, $4::numeric, $5, $6, '[]'::jsonb, $7, $8, $9,
            CASE WHEN $10::timestamptz IS NULL THEN NULL ELSE $11::uuid END, $10,
            CASE WHEN $10::timestamptz IS NULL THEN NULL ELSE nextval('refund_requests_approval_seq') END,
            CASE WHEN $12::timestamptz IS NULL THEN NULL ELSE $11::uuid END, $12,
            CASE WHEN $13::timestamptz IS NULL THEN NULL ELSE $11::uuid END, $13,
            CASE WHEN $13::timestamptz IS NULL THEN NULL ELSE 'duplicate' END)
        """,
        contract_id, requested.date(), "needs information" if status == "not_payable" else "eligible",
        amount, method, state, pay_by, status, requested, approved, user, paid, rejected,
    )  # fmt: skip


async def _insert(superuser: asyncpg.Connection, contract_id: str, *, user: object, **days: object) -> None:
    """`insert_refund` with each moment given as days after the period's first day (noon UTC)."""
    moments = {
        name: day(value) if isinstance(value, int) and name != "pay_by" else value
        for name, value in days.items()
    }
    if isinstance(days.get("pay_by"), int):
        moments["pay_by"] = day(days["pay_by"]).date()  # type: ignore[arg-type]
    await insert_refund(superuser, contract_id, user=user, **moments)  # type: ignore[arg-type]


async def test_refund_figures_match_a_hand_counted_period(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    supervisor = await make_context("supervisor")
    user = supervisor.actor.user_id
    contracts = [(await add_contract()).contract_id for _ in range(7)]
    insert = partial(_insert, superuser, user=user)
    # requested inside, still open, deadline (day 5) missed: requested, overdue and unpaid
    await insert(contracts[0], status="open", requested=1, amount="100.00", pay_by=5)
    # requested, approved $200 inside; paid on day 10 after its day-8 deadline: overdue, not unpaid
    await insert(contracts[1], status="paid", requested=2, amount="200.00", approved=3, paid=10, pay_by=8)
    # requested before; approved $300 by Rule of 78s in California inside; due after the period
    await insert(
        contracts[2],
        status="approved",
        requested=-10,
        amount="300.00",
        method="Rule of 78s",
        state="CA",
        approved=4,
        pay_by=40,
    )
    # requested inside and rejected: requested only, never overdue
    await insert(contracts[3], status="rejected", requested=5, amount="400.00", pay_by=7, rejected=6)
    # requested inside, not payable: requested only
    await insert(contracts[4], status="not_payable", requested=6, amount=None, method=None)
    # approved before the period, paid $50 on time inside: paid only
    await insert(contracts[5], status="paid", requested=-20, amount="50.00", approved=-15, paid=7, pay_by=9)
    # everything after the period: nothing
    await insert(contracts[6], status="paid", requested=31, amount="999.00", approved=32, paid=33, pay_by=34)

    figures = await refund_figures(supervisor, PERIOD)
    assert (figures.requested, figures.approved, figures.approved_amount) == (4, 2, Decimal("500.00"))
    assert (figures.paid, figures.paid_amount) == (2, Decimal("250.00"))
    assert (figures.overdue, figures.overdue_unpaid) == (2, 1)
    assert figures.by_method == (
        AmountGroup(name="Rule of 78s", count=1, amount=Decimal("300.00")),
        AmountGroup(name="Pro-Rata", count=1, amount=Decimal("200.00")),
    )
    assert figures.by_state == (
        AmountGroup(name="CA", count=1, amount=Decimal("300.00")),
        AmountGroup(name="AR", count=1, amount=Decimal("200.00")),
    )


async def test_an_empty_period_has_zero_figures_and_reviewers_do_not_see_them(
    make_context: MakeContext,
) -> None:
    figures = await refund_figures(await make_context("admin"), PERIOD)
    assert (figures.requested, figures.approved, figures.approved_amount, figures.paid, figures.overdue) == (
        0, 0, Decimal("0"), 0, 0,
    )  # fmt: skip
    assert figures.by_method == figures.by_state == ()
    with pytest.raises(Forbidden, match="see the dashboards"):
        await refund_figures(await make_context("reviewer"), PERIOD)
