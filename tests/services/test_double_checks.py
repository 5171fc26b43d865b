"""Double checks of QA items: drawn at the first decision, decided again blind by someone else; agreement."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from db.models import Extraction
from services.context import ServiceContext
from services.errors import Forbidden
from services.metrics import Period
from services.quality import double_checks
from services.quality.reviewers import reviewer_performance
from services.review import approve, claim_extraction, claim_next, correct_field, get_detail, reject
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]


async def _rate(superuser: asyncpg.Connection, rate: str) -> None:
    await superuser.execute("UPDATE system_config SET value = $1 WHERE key = 'qa_double_check_rate'", rate)


async def test_a_drawn_qa_item_goes_back_once_to_someone_else_who_sees_neither_figure_nor_first_decision(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await _rate(superuser, "1")
    ana = await make_context("reviewer", "ana")
    bo = await make_context("reviewer", "bo")
    item = await add_contract(qa_sample=True, premium_confidence=95, method_confidence=94, fee_confidence=93)
    detail = await claim_extraction(ana, item.id)
    corrected = await correct_field(
        ana, item.id, detail.version, "cancellation_fee", "75", "misread_value", "p3"
    )
    decision = await approve(ana, item.id, corrected.version)
    assert decision.double_check and decision.undo_until is None

    row = await superuser.fetchrow("SELECT * FROM extractions WHERE id = $1", item.id)
    assert (row["status"], row["reviewed_by"], str(row["cancellation_fee"])) == ("pending", None, "50.00")
    check = await superuser.fetchrow("SELECT * FROM qa_double_checks WHERE extraction_id = $1", item.id)
    assert (check["first_reviewer"], check["first_decision"]) == (ana.actor.user_id, "approved")
    assert check["first_values"]["cancellation_fee"] == "75.00"
    events = await superuser.fetch(
        "SELECT event_type FROM audit_events WHERE contract_id = $1 ORDER BY seq", item.contract_id
    )
    assert [e["event_type"] for e in events][-2:] == ["approve", "qa_double_check"]

    # The same reviewer never gets their own item for the double check: not next, not chosen, not decided.
    assert await claim_next(ana) is None
    with pytest.raises(Forbidden, match=r"You made the first decision on .* a second reviewer decides it"):
        await claim_extraction(ana, item.id)
    with pytest.raises(Forbidden, match="second reviewer"):
        await approve(ana, item.id, row["version"])
    with pytest.raises(Forbidden, match="second reviewer"):
        await correct_field(ana, item.id, row["version"], "cancellation_fee", "80", "misread_value", "p3")

    # Someone else gets it, blind: no confidence, no correction of the first reviewer, no first decision.
    second = await claim_next(bo)
    assert second is not None and second.extraction_id == item.id
    assert second.confidence_hidden and second.double_check_since is not None
    assert second.corrections == [] and not any(f.corrected for f in second.fields)
    assert not {"approve", "correct", "qa_double_check"} & {h.event_type for h in second.history}
    await reject(bo, item.id, second.version, "The contract text is unreadable or incomplete")

    check = await superuser.fetchrow("SELECT * FROM qa_double_checks WHERE extraction_id = $1", item.id)
    assert (check["second_reviewer"], check["second_decision"]) == (bo.actor.user_id, "rejected")
    # Once: the second decision stands, and with it the figures and the whole history show again.
    row = await superuser.fetchrow("SELECT status, reviewed_by FROM extractions WHERE id = $1", item.id)
    assert (row["status"], row["reviewed_by"]) == ("rejected", bo.actor.user_id)
    after = await get_detail(bo, item.id)
    assert not after.confidence_hidden and len(after.corrections) == 1
    assert await superuser.fetchval("SELECT count(*) FROM qa_double_checks") == 1


async def test_the_draw_follows_the_rate_and_leaves_other_items_alone(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _rate(superuser, "0.5")
    seed = 11
    reference = random.Random(seed)
    expected = [reference.random() < 0.5 for _ in range(6)]
    assert len(set(expected)) == 2
    monkeypatch.setattr(double_checks, "DOUBLE_CHECK_RANDOM", random.Random(seed))
    ana = await make_context("reviewer", "ana")
    sent_back = []
    for _ in expected:
        item = await add_contract(qa_sample=True)
        detail = await claim_extraction(ana, item.id)
        sent_back.append((await approve(ana, item.id, detail.version)).double_check)
    assert sent_back == expected
    # An item that is not a QA sample is never drawn, whatever the rate.
    await _rate(superuser, "1")
    plain = await add_contract()
    detail = await claim_extraction(ana, plain.id)
    assert not (await approve(ana, plain.id, detail.version)).double_check


async def test_agreement_per_reviewer_against_a_hand_made_table(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    """Five completed double checks:

    | first | second | decisions           | values           | agree |
    | ana   | bo     | approved / approved | same             | yes   |
    | ana   | bo     | approved / approved | fee 50 vs 75     | no    |
    | ana   | cy     | rejected / rejected | (not compared)   | yes   |
    | bo    | ana    | approved / rejected | same             | no    |
    | cy    | bo     | approved / approved | same             | yes   |

    ana: 4 checks, 2 agree (0.5); bo: 4, 2 agree (0.5); cy: 2, 2 agree (1.0). One more, still waiting for
    its second decision, counts for nobody.
    """
    people = {name: await make_context("reviewer", name) for name in ("ana", "bo", "cy")}
    same = {
        "gap_insurance_premium": "1250.00",
        "refund_calculation_method": "Pro-Rata",
        "cancellation_fee": "50.00",
    }
    other = {**same, "cancellation_fee": "75.00"}
    table = [
        ("ana", "bo", "approved", "approved", same, same),
        ("ana", "bo", "approved", "approved", same, other),
        ("ana", "cy", "rejected", "rejected", same, other),
        ("bo", "ana", "approved", "rejected", same, same),
        ("cy", "bo", "approved", "approved", same, same),
    ]
    for first, second, first_decision, second_decision, first_values, second_values in table:
        item = await add_contract(qa_sample=True)
        await superuser.execute(
            """INSERT INTO qa_double_checks (extraction_id, extracted_at, first_reviewer, first_decision,
                   first_values, second_reviewer, second_decision, second_values, second_decided_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())""",
            item.id, item.extracted_at, people[first].actor.user_id, first_decision, first_values,
            people[second].actor.user_id, second_decision, second_values,
        )  # fmt: skip
    waiting = await add_contract(qa_sample=True)
    await superuser.execute(
        """INSERT INTO qa_double_checks (extraction_id, extracted_at, first_reviewer, first_decision, first_values)
           VALUES ($1, $2, $3, 'approved', $4)""",
        waiting.id, waiting.extracted_at, people["ana"].actor.user_id, same,
    )  # fmt: skip
    # Everyone decided something in the period, so everyone has a row.
    for ctx in people.values():
        item = await add_contract()
        detail = await claim_extraction(ctx, item.id)
        await approve(ctx, item.id, detail.version)

    rows = {
        r.username: r
        for r in await reviewer_performance(await make_context("supervisor"), Period.last_days(1))
    }
    assert {name: (r.qa_double_checked, r.qa_agreement) for name, r in rows.items()} == {
        "ana": (4, 0.5),
        "bo": (4, 0.5),
        "cy": (2, 1.0),
    }
    # A check completed before the period is not in it.
    earlier = Period.last_days(1, today=dt.date.today() - dt.timedelta(days=3))
    assert all(
        r.qa_double_checked == 0
        for r in await reviewer_performance(await make_context("supervisor"), earlier)
    )


async def test_the_two_people_rule_holds_in_the_schema_too(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    ana: ServiceContext = await make_context("reviewer", "ana")
    item = await add_contract(qa_sample=True)
    with pytest.raises(asyncpg.CheckViolationError, match="qa_double_checks_two_people"):
        await superuser.execute(
            """INSERT INTO qa_double_checks (extraction_id, extracted_at, first_reviewer, first_decision,
                   first_values, second_reviewer, second_decision, second_values, second_decided_at)
               VALUES ($1, $2, $3, 'approved', '{}', $3, 'approved', '{}', now())""",
            item.id, item.extracted_at, ana.actor.user_id,
        )  # fmt: skip
