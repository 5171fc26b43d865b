"""The loan terms (term, governing state, APR) of migration 0011 in the review: queue, detail, corrections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import asyncpg
import pytest

from db.models import Extraction
from services.context import ServiceContext
from services.errors import InvalidInput
from services.extractions import extract_contracts
from services.review import correct_field, get_detail, queue_counts, queue_page
from services.review.types import NOT_YET_EXTRACTED
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
LOAN_TERMS = {
    "term_months": 72,
    "term_months_confidence": 92,
    "governing_state": "OH",
    "governing_state_confidence": 86,
    "apr": None,
    "apr_confidence": 30,
}


async def test_an_old_extraction_shows_the_loan_terms_as_not_yet_extracted(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    item = await add_contract(premium_confidence=70)
    reviewer = await make_context("reviewer")
    detail = await get_detail(reviewer, item.id)
    term = detail.field("term_months")
    assert (term.extracted, term.confidence, term.display_value) == (False, None, NOT_YET_EXTRACTED)
    assert not term.below_threshold
    [queued] = (await queue_page(reviewer)).items
    assert (queued.min_confidence, queued.lowest_field) == (70, "gap_insurance_premium")
    assert queued.confidences["apr"] is None


async def test_a_doubtful_term_or_state_raises_the_item_but_an_apr_only_for_actuarial(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    old = await add_contract(premium_confidence=70)
    weak_term = await add_contract(**{**LOAN_TERMS, "term_months_confidence": 40})
    weak_apr = await add_contract(**LOAN_TERMS)
    actuarial = await add_contract(method="Actuarial", **LOAN_TERMS)
    reviewer = await make_context("reviewer")

    items = (await queue_page(reviewer)).items

    assert [(i.extraction_id, i.lowest_field, i.min_confidence) for i in items] == [
        (actuarial.id, "apr", 30),
        (weak_term.id, "term_months", 40),
        (old.id, "gap_insurance_premium", 70),
        (weak_apr.id, "governing_state", 86),
    ]
    counts = await queue_counts(reviewer)
    assert (counts.total_pending, counts.below_threshold) == (4, 3)
    only_apr = (await queue_page(reviewer, field="apr")).items
    assert [i.extraction_id for i in only_apr] == [actuarial.id]
    detail = await get_detail(reviewer, weak_apr.id)
    assert not detail.field("apr").below_threshold
    assert (await get_detail(reviewer, actuarial.id)).field("apr").below_threshold


@pytest.mark.parametrize(
    ("field", "typed", "stored", "as_text"),
    [
        ("term_months", "5 years", 60, "60"),
        ("term_months", " 84 months ", 84, "84"),
        ("governing_state", "the State of Georgia", "GA", "GA"),
        ("governing_state", "ar", "AR", "AR"),
        ("apr", "7.9%", Decimal("7.90"), "7.90"),
        ("apr", "not stated", None, None),
    ],
)
async def test_a_loan_term_correction_stores_the_typed_value(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    field: str,
    typed: str,
    stored: object,
    as_text: str | None,
) -> None:
    item = await add_contract(**{**LOAN_TERMS, "apr": Decimal("6.49")})
    reviewer = await make_context("reviewer")
    detail = await correct_field(reviewer, item.id, 1, field, typed, "misread_value", "checked page 1")
    assert detail.field(field).value == stored  # type: ignore[arg-type]
    assert detail.field(field).corrected
    row = await superuser.fetchrow(
        "SELECT field_name, corrected_value FROM corrections WHERE extraction_id = $1", item.id
    )
    assert (row["field_name"], row["corrected_value"]) == (field, as_text)


async def test_a_reviewer_may_fill_a_field_not_yet_extracted(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    detail = await correct_field(reviewer, item.id, 1, "term_months", "60", "missing_value", "from page 1")
    term = detail.field("term_months")
    assert (term.value, term.confidence, term.extracted, term.display_value) == (60, None, True, "60")
    assert await superuser.fetchval("SELECT min_confidence FROM extractions WHERE id = $1", item.id) == 90


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("term_months", "sixty-one months", "is not a term"),
        ("term_months", "0", "1 to 600 months"),
        ("governing_state", "Ontario", "is not a US state"),
        ("apr", "about 8", "is not an APR"),
    ],
)
async def test_a_bad_loan_term_is_refused_with_a_sentence(
    make_context: MakeContext, add_contract: AddContract, field: str, typed: str, says: str
) -> None:
    item = await add_contract(**LOAN_TERMS)
    reviewer = await make_context("reviewer")
    with pytest.raises(InvalidInput, match=says):
        await correct_field(reviewer, item.id, 1, field, typed, "misread_value", "checked")


async def test_re_extraction_fills_the_loan_terms(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || $2 WHERE contract_id = $1",
        item.contract_id,
        "\fTerm: 60 months    APR: 5.25%\nThis Addendum is governed by the laws of the State of Ohio.\n",
    )
    await extract_contracts(system, contract_ids=[item.contract_id], provider="rules")
    row = await superuser.fetchrow("SELECT * FROM extractions WHERE id = $1", item.id)
    assert (row["term_months"], row["governing_state"], row["apr"]) == (60, "OH", Decimal("5.25"))
    assert min(row["term_months_confidence"], row["governing_state_confidence"]) >= 80
    assert row["governing_state_source"]["quote"].endswith("State of Ohio.")


async def test_a_correction_that_breaks_the_states_rule_raises_the_item_and_one_that_mends_it_lowers_it(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    other = await add_contract(premium_confidence=50)
    item = await add_contract(**{**LOAN_TERMS, "governing_state": "AR"})
    reviewer = await make_context("reviewer")
    # Arkansas caps the fee at $75 (starter rule, Ark. Code §4-90-806).
    detail = await correct_field(reviewer, item.id, 1, "cancellation_fee", "100", "misread_value", "page 2")
    [check] = detail.refund.checks if detail.refund else ()
    assert (check.field, check.text) == (
        "cancellation_fee",
        "The contract's fee of $100.00 is above the Arkansas cap of $75.00.",
    )
    row = await superuser.fetchrow(
        "SELECT refund_flags, min_confidence FROM extractions WHERE id = $1", item.id
    )
    assert (row["refund_flags"], row["min_confidence"]) == (["cancellation_fee"], 0)
    first, second = (await queue_page(reviewer)).items
    assert (first.extraction_id, first.lowest_field, first.refund_flags) == (
        item.id,
        "cancellation_fee",
        ["cancellation_fee"],
    )
    assert second.extraction_id == other.id
    assert (await queue_counts(reviewer)).below_threshold == 2

    await correct_field(reviewer, item.id, 2, "cancellation_fee", "75", "misread_value", "page 2 again")
    row = await superuser.fetchrow(
        "SELECT refund_flags, min_confidence FROM extractions WHERE id = $1", item.id
    )
    assert (row["refund_flags"], row["min_confidence"]) == ([], 86)


async def test_an_extraction_under_a_no_fee_state_with_a_fee_is_flagged_and_routed_to_review(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || $2 WHERE contract_id = $1",
        item.contract_id,
        "\fTerm: 60 months\nThis Addendum is governed by the laws of the State of South Carolina.\n",
    )
    report = await extract_contracts(system, contract_ids=[item.contract_id], provider="rules")
    row = await superuser.fetchrow(
        "SELECT governing_state, cancellation_fee, refund_flags, min_confidence FROM extractions WHERE id = $1",
        item.id,
    )
    # South Carolina allows no cancellation fee of any kind (S.C. Code §37-30-150): the $50 fee is flagged.
    assert tuple(row) == ("SC", Decimal("50.00"), ["cancellation_fee"], 0)
    assert (report.extracted, report.below_threshold) == (1, 1)
    event = await superuser.fetchval(
        "SELECT event_data FROM audit_events WHERE event_type = 'extract' AND contract_id = $1",
        item.contract_id,
    )
    assert event["route_reason"] == "the refund checks flag the cancellation fee"
