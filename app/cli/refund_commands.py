"""`refund-review refund-quote` and `refund-review refunds export`.

`refund-quote` computes without a database from the shipped starter rules
(services/refunds/starter_rules.csv), so an operator, a lender or a test can ask "what would this
contract refund?" anywhere the program is installed. `refunds export` hands approved refunds to the
payment system, each once, and prints the cursor to resume from.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from app import exit_codes
from app.cli.runner import CliState, echo, fail, run
from services.errors import InvalidInput
from services.extraction.amounts import AmountError, parse_amount
from services.extraction.types import REFUND_METHODS
from services.refunds.calculation import money, quote_refund
from services.refunds.export_file import RefundFileExport, export_refunds_to_file
from services.refunds.jurisdictions import rule_in_force, starter_rules
from services.refunds.requests import EXPORT_FORMATS, ExportFormat, RefundExport, export_refunds
from services.refunds.types import REFUND_REASONS, RefundInputs, RefundQuote
from services.runtime import Runtime

DAY = click.DateTime(formats=["%Y-%m-%d"])


class AmountType(click.ParamType):
    """Dollars and cents as a person types them ("500", "1,250.00", "$75"), refused with the reason."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(str(value))
        except AmountError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class PercentType(click.ParamType):
    """An annual percentage rate such as 7.9 (at most four decimals, 0 to 100)."""

    name = "percent"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        try:
            rate = Decimal(str(value).strip().removesuffix("%"))
        except InvalidOperation:
            self.fail(f"{value!r} is not a rate; give the APR in percent, for example 7.9.", param, ctx)
        if not rate.is_finite() or not 0 <= rate <= 100 or rate != rate.quantize(Decimal("0.0001")):
            self.fail(f"{value!r} is not a rate between 0 and 100 with at most four decimals.", param, ctx)
        return rate


def _inputs(**values: Any) -> RefundInputs:
    try:
        return RefundInputs.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            (f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        fail(f"The quote cannot be computed: {problems}.", exit_codes.INVALID_INPUT)
        raise AssertionError("unreachable") from exc


def quote_json(quote: RefundQuote) -> dict[str, Any]:
    """The --json shape: decimals as strings so nothing is lost to floating point."""
    return {
        "verdict": quote.verdict,
        "eligible": quote.eligible,
        "refund": None if quote.refund is None else str(quote.refund),
        "refund_before_fee": None if quote.gross_refund is None else str(quote.gross_refund),
        "fee_applied": str(quote.fee_applied),
        "method": quote.method,
        "rule": None
        if quote.rule is None
        else {
            "state": quote.rule.state,
            "effective_from": str(quote.rule.effective_from),
            "citation": quote.rule.citation,
        },
        "pay_by": None if quote.pay_by is None else str(quote.pay_by),
        "reasons": list(quote.reasons),
        "flags": list(quote.flags),
        "steps": [step.model_dump() for step in quote.steps],
    }


def _headline(quote: RefundQuote) -> str:
    if quote.verdict == "needs information":
        return "Needs information: " + "; ".join(quote.reasons) + "."
    if quote.verdict == "not eligible":
        return f"Not eligible: {quote.reasons[0]}."
    assert quote.refund is not None
    how = "in the free look" if quote.method == "Free look" else f"by {quote.method}"
    return f"Eligible: refund {money(quote.refund)} {how} (fee {money(quote.fee_applied)})."


@click.command("refund-quote")
@click.option("--premium", type=AmountType(), required=True, help="The GAP premium, for example 500.00.")
@click.option("--term-months", type=click.IntRange(1, 600), help="The contract's term in months.")
@click.option("--contract-date", type=DAY, required=True, help="The contract date, YYYY-MM-DD.")
@click.option("--cancel-date", type=DAY, required=True, help="The cancellation (or payoff) date, YYYY-MM-DD.")
@click.option("--method", type=click.Choice(REFUND_METHODS), help="The refund method the contract states.")
@click.option(
    "--fee", type=AmountType(), default="0", show_default=True, help="The contract's cancellation fee."
)
@click.option("--state", help="Two-letter code of the state whose law governs the contract, for example OH.")
@click.option("--reason", type=click.Choice(REFUND_REASONS), required=True, help="Why the contract ends.")
@click.option("--apr", type=PercentType(), help="The loan's APR in percent (needed for Actuarial).")
@click.option("--request-date", type=DAY, help="The day the written request was received, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print the quote as JSON.")
def refund_quote(
    premium: Decimal,
    term_months: int | None,
    contract_date: dt.datetime,
    cancel_date: dt.datetime,
    method: str | None,
    fee: Decimal,
    state: str | None,
    reason: str,
    apr: Decimal | None,
    request_date: dt.datetime | None,
    as_json: bool,
) -> None:
    """Compute the refund of one cancellation under the shipped state rules, with the steps."""
    inputs = _inputs(
        premium=premium,
        term_months=term_months,
        contract_date=contract_date.date(),
        cancel_date=cancel_date.date(),
        method=method,
        fee=fee,
        state=state,
        reason=reason,
        apr=apr,
        request_date=request_date.date() if request_date else None,
    )
    rule = (
        None if inputs.state is None else rule_in_force(starter_rules(), inputs.state, inputs.contract_date)
    )
    quote = quote_refund(inputs, rule)
    if as_json:
        click.echo(json.dumps(quote_json(quote), indent=2, ensure_ascii=False))
        return
    click.echo(_headline(quote))
    for flag in quote.flags:
        click.echo(f"Check: {flag}")
    click.echo("Steps:")
    for number, step in enumerate(quote.steps, start=1):
        click.echo(f"  {number}. {step.text}")


@click.group()
def refunds() -> None:
    """Refund requests: hand approved refunds to the payment system."""


@refunds.command("export")
@click.option(
    "--status",
    type=click.Choice(["approved"]),
    default="approved",
    show_default=True,
    help="Which refunds: those approved for payment.",
)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option(
    "--since",
    type=click.IntRange(min=0),
    metavar="CURSOR",
    help="Export again every approved refund after this cursor (default: only those never exported).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A new file to write (an existing one is never overwritten; default: standard output, with the "
    "summary on standard error).",
)
@click.pass_obj
def export_command(
    state: CliState, status: str, fmt: ExportFormat, since: int | None, output: Path | None
) -> None:
    """Write approved refunds for the payment system, each once; audited, and the cursor printed."""
    del status  # the one choice there is; named so the command reads as what it hands over

    if output is not None:

        async def to_file(runtime: Runtime) -> RefundFileExport:
            return await export_refunds_to_file(
                runtime.system_context("refunds-export"), fmt=fmt, destination=output, since=since
            )

        done = run(state, to_file)
        echo(
            f"Exported {done.count} approved refunds; cursor {done.cursor} (resume with --since {done.cursor}). "
            f"Written to {done.path}."
        )
        return

    def write(export: RefundExport) -> None:
        """The rows go out before the refunds are marked exported: a reader that went away (a closed
        pipe, a full disk) leaves them to the next export instead of losing them."""
        try:
            click.echo(export.text, nl=False)  # flushes
        except OSError as exc:
            raise InvalidInput(
                f"Cannot write the refunds to standard output ({exc.strerror or exc}); nothing was marked "
                "exported, so the next export hands them over again."
            ) from exc

    async def body(runtime: Runtime) -> RefundExport:
        return await export_refunds(
            runtime.system_context("refunds-export"), fmt=fmt, since=since, before_commit=write
        )

    result = run(state, body)
    echo(
        f"Exported {result.count} approved refunds; cursor {result.cursor} (resume with --since {result.cursor}).",
        err=True,
    )
