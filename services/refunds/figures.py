"""The dashboard's refund figures for a period: requested, approved, paid, overdue; amounts by method and state.

Every figure is an aggregate computed by the database (counts and sums with FILTER, GROUP BY), never a
loop over rows here, so the panel costs the same for ten refunds as for a million. What each counts:

- **requested**: requests opened in the period (every outcome: open, approved, paid, rejected, not payable);
- **approved** / **paid**: refunds whose (final) approval / payment mark fell in the period, with their sum;
- **overdue**: refunds whose payment deadline fell in the period, has passed, and was missed — paid after
  it or not paid at all (rejected and not-payable requests owe nothing); ``overdue_unpaid`` of them are
  still not paid;
- **by method / by state**: the refunds approved in the period — what the business owes — per method
  used and per governing state, largest amount first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from db.models import RefundRequest
from services.access import authorize
from services.context import ServiceContext
from services.metrics.period import Period
from services.permissions import Permission

# A refund approved without a method or state cannot happen (eligible needs both); shown so if it does.
NO_VALUE = "—"


class AmountGroup(BaseModel):
    """Refunds approved in the period that share a method or a state: how many and how much."""

    model_config = ConfigDict(frozen=True)

    name: str
    count: int
    amount: Decimal


class RefundFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: Period
    requested: int
    approved: int
    approved_amount: Decimal
    paid: int
    paid_amount: Decimal
    overdue: int
    overdue_unpaid: int
    by_method: tuple[AmountGroup, ...]
    by_state: tuple[AmountGroup, ...]


def _count_sum(condition: ColumnElement[bool]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    return (
        func.count().filter(condition),
        func.coalesce(func.sum(RefundRequest.refund_amount).filter(condition), 0),
    )


async def refund_figures(ctx: ServiceContext, period: Period) -> RefundFigures:
    """The period's refund figures (supervisors and admins, like the rest of the dashboard)."""
    start, end = period.start, period.end
    in_period = {
        "requested": and_(RefundRequest.requested_at >= start, RefundRequest.requested_at < end),
        "approved": and_(RefundRequest.approved_at >= start, RefundRequest.approved_at < end),
        "paid": and_(RefundRequest.paid_at >= start, RefundRequest.paid_at < end),
    }
    today = func.current_date()
    due_in_period = and_(RefundRequest.pay_by >= period.first_day, RefundRequest.pay_by <= period.last_day)
    missed = and_(
        due_in_period,
        RefundRequest.pay_by < today,
        RefundRequest.status.in_(("open", "awaiting_second_approval", "approved", "paid")),
        or_(
            RefundRequest.paid_at.is_(None),
            func.date(func.timezone("UTC", RefundRequest.paid_at)) > RefundRequest.pay_by,
        ),
    )
    totals = select(
        func.count().filter(in_period["requested"]),
        *_count_sum(in_period["approved"]),
        *_count_sum(in_period["paid"]),
        func.count().filter(missed),
        func.count().filter(and_(missed, RefundRequest.paid_at.is_(None))),
    ).where(or_(*in_period.values(), due_in_period))

    def grouped(column: ColumnElement[Any]) -> Select[Any]:
        name = func.coalesce(column, NO_VALUE)
        amount = func.coalesce(func.sum(RefundRequest.refund_amount), 0)
        return (
            select(name, func.count(), amount)
            .where(in_period["approved"])
            .group_by(name)
            .order_by(amount.desc(), name)
        )

    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_DASHBOARD)
        row = (await uow.session.execute(totals)).one()
        by_method = (await uow.session.execute(grouped(RefundRequest.method_used))).all()
        by_state = (await uow.session.execute(grouped(RefundRequest.state))).all()
        await uow.commit()
    requested, approved, approved_amount, paid, paid_amount, overdue, overdue_unpaid = row
    return RefundFigures(
        period=period,
        requested=requested,
        approved=approved,
        approved_amount=approved_amount,
        paid=paid,
        paid_amount=paid_amount,
        overdue=overdue,
        overdue_unpaid=overdue_unpaid,
        by_method=tuple(AmountGroup(name=n, count=c, amount=a) for n, c, a in by_method),
        by_state=tuple(AmountGroup(name=n, count=c, amount=a) for n, c, a in by_state),
    )
