"""Chat about a contract: offline answers with citations, history, refusals, audit, and the LLM stream."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.database import Database
from db.models import Contract
from services.chat import (
    CHAT_DISABLED,
    AnswerChunk,
    AnswerComplete,
    AnswerFailed,
    AnswerStarted,
    ChatEvent,
    ask,
    chat_history,
)
from services.chat_retrieval import OfflineAnswer, answer_question
from services.context import ServiceContext
from services.errors import Forbidden, InvalidInput, NotFound, SessionExpired
from services.extraction.providers import registry
from services.extraction.providers.base import (
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    ProviderNotConfigured,
    ProviderOutput,
    ProviderTimeout,
)
from synthetic.contracts import SyntheticContract, generate_contract
from tests.services.conftest import MakeContext


async def _add(database: Database, contract: SyntheticContract) -> str:
    async with database.unit_of_work() as uow:
        uow.session.add(
            Contract(
                contract_id=contract.contract_id,
                account_number=contract.account_number,
                customer_name=contract.customer_name,
                vehicle_info=contract.vehicle_info.model_dump(),
                contract_type=contract.contract_type,
                contract_date=contract.contract_date,
                document_text=contract.document_text,
                page_count=contract.document_text.count("\f") + 1,
                text_extraction_status="extracted",
            )
        )
        await uow.commit()
    return contract.contract_id


async def _ask(ctx: ServiceContext, contract_id: str, question: str) -> list[ChatEvent]:
    return [event async for event in ask(ctx, contract_id, question)]


def _complete(events: list[ChatEvent]) -> AnswerComplete:
    assert isinstance(events[0], AnswerStarted)
    assert isinstance(events[-1], AnswerComplete), events[-1]
    return events[-1]


def _page_and_line(text: str, offset: int) -> tuple[int, int]:
    """Counted by hand, independently of DocumentIndex."""
    page_start = text.rfind("\f", 0, offset) + 1
    return text.count("\f", 0, offset) + 1, text.count("\n", page_start, offset) + 1


# --- offline answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "question", "expected"),
    [
        (9, "What is the premium?", r"\$748\.29"),
        (9, "How is the refund calculated?", r"pro-rata basis"),
        (9, "what is the cancellation fee?", r"without any fee or penalty"),
        (1, "What is the cancellation fee?", r"cancellation fee\s+of \$50\.00"),
        (1, "what is the premium", r"ONE THOUSAND THREE HUNDRED NINETY-FIVE"),
        (1, "Is there a free look period?", r"FREE LOOK: You may return this Addendum within 30 days"),
        (7, "Who is the lienholder?", r"LIENHOLDER – the Creditor or any assignee"),
    ],
)
async def test_offline_answers_quote_the_passage_with_its_page_and_line(
    make_context: MakeContext, database: Database, seq: int, question: str, expected: str
) -> None:
    contract = generate_contract(seq)
    text = contract.document_text
    contract_id = await _add(database, contract)
    ctx = await make_context("reviewer")

    events = await _ask(ctx, contract_id, question)

    answer = _complete(events).message
    assert answer.provider == "rules"
    assert (answer.prompt_tokens, answer.completion_tokens, answer.cost_usd) == (0, 0, Decimal(0))
    top = answer.citations[0]
    assert re.search(expected, top.quote), top.quote
    assert top.quote == text[top.start : top.end]
    assert (top.page, top.line) == _page_and_line(text, top.start)
    assert f"page {top.page}, line {top.line}" in answer.content
    assert [event.text for event in events if isinstance(event, AnswerChunk)] == [answer.content]


async def test_an_unrelated_question_is_answered_with_not_found(
    make_context: MakeContext, database: Database
) -> None:
    contract_id = await _add(database, generate_contract(3))
    answer = _complete(
        await _ask(await make_context(), contract_id, "What is the capital of France?")
    ).message
    assert answer.content.startswith("The contract does not seem to say anything about capital of France.")
    assert answer.citations == []


_PIECES = [
    *"abcXYZ $.,;:-–|()\n\f\t0123456789",
    "fee ",
    "refund ",
    "GAP ",
    "....",
    "Cancellation Fee: $50.00",
]
_CONTRACTISH = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


async def _offline(database: Database, text: str, question: str) -> OfflineAnswer:
    async with database.unit_of_work() as uow:
        return await answer_question(uow.session, text, question)


# The database is only read: one for all the examples is right.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=_CONTRACTISH,
    question=st.one_of(
        st.text(max_size=80), st.sampled_from(["What is the cancellation fee?", "refund GAP"])
    ),
)
async def test_any_text_and_question_give_an_answer_whose_citations_are_verbatim(
    database: Database, text: str, question: str
) -> None:
    answer = await _offline(database, text, question)
    assert answer.text
    for citation in answer.citations:
        assert 0 <= citation.start < citation.end <= len(text)
        assert citation.quote == text[citation.start : citation.end]
        assert (citation.page, citation.line) == _page_and_line(text, citation.start)


async def test_questions_meet_the_contract_across_word_forms(database: Database) -> None:
    text = (
        "TERMS\nThe charges for this Addendum are shown in the itemization.\n\n"
        "CANCELLATION\nIf this Addendum is cancelled, the refund is calculated pro rata.\n"
    )
    for question in ("What if I cancel?", "What about cancellations?", "How are refunds calculated?"):
        answer = await _offline(database, text, question)
        assert [c.quote for c in answer.citations] == [
            "If this Addendum is cancelled, the refund is calculated pro rata."
        ], question
    charged = await _offline(database, text, "What is charged?")
    assert charged.citations[0].quote.startswith("The charges for this Addendum")


async def test_a_debt_cancellation_fee_is_the_premium_not_the_fee(database: Database) -> None:
    text = (
        "ITEMIZATION\nDebt Cancellation Fee ........................ $1,349.00\n\n"
        "CANCELLATION\nIf you cancel, a cancellation fee of $25.00 is deducted from your refund.\n"
    )
    fee = await _offline(database, text, "What is the cancellation fee?")
    assert "$25.00" in fee.citations[0].quote
    assert all("1,349" not in citation.quote for citation in fee.citations)
    for question in ("What is the premium?", "What is the debt cancellation fee?"):
        premium = await _offline(database, text, question)
        assert "$1,349.00" in premium.citations[0].quote, question


# --- history, refusals, audit --------------------------------------------------------------------------


async def test_history_keeps_the_conversation_in_order_for_everyone(
    make_context: MakeContext, database: Database
) -> None:
    contract_id = await _add(database, generate_contract(9))
    alice, bob = await make_context("reviewer"), await make_context("supervisor")
    questions = ["What is the premium?", "How is the refund calculated?", "Who is the lienholder?"]
    for ctx, question in zip((alice, bob, alice), questions, strict=True):
        _complete(await _ask(ctx, contract_id, question))

    history = await chat_history(bob, contract_id)

    assert [message.role for message in history] == ["user", "assistant"] * 3
    assert [message.content for message in history if message.role == "user"] == questions
    assert [message.username for message in history[::2]] == [
        alice.actor.username,
        bob.actor.username,
        alice.actor.username,
    ]
    assert history[1].citations and history[1].citations[0].quote in generate_contract(9).document_text
    assert [message.created_at for message in history] == sorted(message.created_at for message in history)
    assert [message.content for message in await chat_history(alice, contract_id, limit=2)] == [
        questions[2],
        history[5].content,
    ]


async def test_questions_and_answers_are_audited_without_their_text(
    make_context: MakeContext, database: Database, superuser: asyncpg.Connection
) -> None:
    contract_id = await _add(database, generate_contract(9))
    ctx = await make_context("reviewer")
    question = "What is the cancellation fee?"
    answer = _complete(await _ask(ctx, contract_id, question)).message

    events = await superuser.fetch(
        "SELECT user_id, session_id, contract_id, event_data FROM audit_events WHERE event_type = 'chat'"
        " ORDER BY seq"
    )
    assert [event["event_data"]["stage"] for event in events] == ["asked", "answered"]
    assert {(event["user_id"], event["session_id"], event["contract_id"]) for event in events} == {
        (ctx.actor.user_id, ctx.actor.session_id, contract_id)
    }
    answered = events[1]["event_data"]
    assert answered["question_chars"] == len(question)
    assert (answered["provider"], answered["prompt_tokens"], answered["cost_usd"]) == ("rules", 0, "0.000000")
    assert answered["message_id"] == str(answer.id)
    assert answered["citations"] == len(answer.citations)
    assert all("cancellation fee" not in str(event["event_data"]) for event in events)


async def test_chat_can_be_turned_off(
    make_context: MakeContext, database: Database, superuser: asyncpg.Connection
) -> None:
    contract_id = await _add(database, generate_contract(9))
    await superuser.execute("UPDATE system_config SET value = 'false' WHERE key = 'chat_enabled'")
    with pytest.raises(Forbidden) as refused:
        await _ask(await make_context(), contract_id, "What is the premium?")
    assert refused.value.message == CHAT_DISABLED
    assert await superuser.fetchval("SELECT count(*) FROM chat_messages") == 0


async def test_only_people_with_a_live_session_may_ask(
    make_context: MakeContext, database: Database, system: ServiceContext, superuser: asyncpg.Connection
) -> None:
    contract_id = await _add(database, generate_contract(9))
    with pytest.raises(Forbidden, match="Chat is for people"):
        await _ask(system, contract_id, "What is the premium?")
    ctx = await make_context("reviewer")
    await superuser.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = 'logout' WHERE id = $1", ctx.actor.session_id
    )
    with pytest.raises(SessionExpired):
        await _ask(ctx, contract_id, "What is the premium?")
    with pytest.raises(SessionExpired):
        await chat_history(ctx, contract_id)
    assert await superuser.fetchval("SELECT count(*) FROM chat_messages") == 0


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("x" * 10_000, "at most 2,000 characters (this one has 10,000)"),
        ("\x00\x01\u200b \n\t", "Type a question"),
        ("", "Type a question"),
    ],
)
async def test_hostile_questions_are_refused_and_nothing_is_stored(
    make_context: MakeContext, database: Database, superuser: asyncpg.Connection, question: str, words: str
) -> None:
    contract_id = await _add(database, generate_contract(9))
    with pytest.raises(InvalidInput, match=re.escape(words)):
        await _ask(await make_context(), contract_id, question)
    assert await superuser.fetchval("SELECT count(*) FROM chat_messages") == 0


async def test_control_characters_are_stripped_from_a_question(
    make_context: MakeContext, database: Database, superuser: asyncpg.Connection
) -> None:
    contract_id = await _add(database, generate_contract(9))
    events = await _ask(await make_context(), contract_id, "What is the\x00 premium?\x07\u202e\x1b")
    assert isinstance(events[0], AnswerStarted)
    assert events[0].question.content == "What is the premium?"
    assert await superuser.fetchval("SELECT content FROM chat_messages WHERE role = 'user'") == (
        "What is the premium?"
    )
    assert _complete(events).message.citations


async def test_unknown_and_malformed_contract_ids(make_context: MakeContext, add_contract: object) -> None:
    ctx = await make_context()
    with pytest.raises(NotFound):
        await _ask(ctx, "GAP-2099-999999", "What is the premium?")
    with pytest.raises(NotFound):
        await chat_history(ctx, "GAP-2099-999999")
    with pytest.raises(InvalidInput, match="is not a contract id"):
        await _ask(ctx, "x'; DROP TABLE contracts; --", "What is the premium?")


async def test_a_contract_without_text_cannot_be_asked_about(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await superuser.execute(
        "INSERT INTO contracts (contract_id, account_number, customer_name, text_extraction_status,"
        " text_extraction_error, page_count) VALUES ('GAP-SCAN-1', 'UNKNOWN', 'Unknown customer', 'empty',"
        " 'scanned PDF: needs OCR (no text layer on its 2 pages)', 2)"
    )
    with pytest.raises(InvalidInput, match=r"has no text to answer from \(scanned PDF: needs OCR"):
        await _ask(await make_context(), "GAP-SCAN-1", "What is the premium?")


# --- LLM providers -------------------------------------------------------------------------------------


class ScriptedProvider(LLMProvider):
    """A vendor that streams a scripted answer, or fails after ``fail_after`` pieces."""

    name = "anthropic"

    def __init__(self, pieces: Sequence[str], fail_after: int | None = None) -> None:
        super().__init__("claude-sonnet-4-5")
        self.pieces = pieces
        self.fail_after = fail_after
        self.calls: list[tuple[str, list[ChatTurn]]] = []
        self.closed = False

    async def extract(self, document_text: str, *, timeout: float) -> ProviderOutput:  # noqa: ASYNC109
        raise NotImplementedError

    async def stream_chat(  # type: ignore[override]
        self,
        system: str,
        messages: Sequence[ChatTurn],
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> AsyncIterator[ChatTextDelta | ChatUsage]:
        self.calls.append((system, list(messages)))
        for number, piece in enumerate(self.pieces):
            if number == self.fail_after:
                raise ProviderTimeout("anthropic", "Anthropic stopped answering for 60 s.")
            yield ChatTextDelta(text=piece)
        yield ChatUsage(model_version="claude-sonnet-4-5", prompt_tokens=1200, completion_tokens=80)

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
async def llm_contract(database: Database, superuser: asyncpg.Connection) -> str:
    await superuser.execute("UPDATE system_config SET value = 'anthropic' WHERE key = 'llm_default_provider'")
    return await _add(database, generate_contract(9))


async def test_an_llm_answer_is_streamed_and_its_quotes_become_citations(
    make_context: MakeContext,
    llm_contract: str,
    monkeypatch: pytest.MonkeyPatch,
    superuser: asyncpg.Connection,
) -> None:
    pieces = [
        "The contract says ",
        '"You may cancel this Addendum at any time ',
        'without any fee or penalty." ',
        "(page 3).",
    ]
    provider = ScriptedProvider(pieces)
    monkeypatch.setattr(registry, "get_provider", lambda name, settings: provider)
    ctx = await make_context()
    _complete(await _ask(ctx, llm_contract, "Who is the lienholder?"))

    events = await _ask(ctx, llm_contract, "Is there a cancellation fee?")

    assert [event.text for event in events if isinstance(event, AnswerChunk)] == pieces
    answer = _complete(events).message
    assert answer.content == "".join(pieces)
    assert (answer.provider, answer.model_version) == ("anthropic", "claude-sonnet-4-5")
    assert (answer.prompt_tokens, answer.completion_tokens) == (1200, 80)
    assert answer.cost_usd == Decimal("0.004800")
    text = generate_contract(9).document_text
    [citation] = answer.citations
    # The model's quote runs over a line break of the contract: the citation is the contract's own text.
    assert (
        " ".join(citation.quote.split())
        == "You may cancel this Addendum at any time without any fee or penalty."
    )
    assert text[citation.start : citation.end] == citation.quote
    assert (citation.page, citation.line) == _page_and_line(text, citation.start)
    system, turns = provider.calls[-1]
    assert "[Page 3]" in system and "without any fee or penalty" in system
    assert [turn.role for turn in turns] == ["user", "assistant", "user"]
    assert turns[-1].content == "Is there a cancellation fee?"
    assert provider.closed
    stored = await superuser.fetchrow(
        "SELECT llm_provider, cost_usd, citations FROM chat_messages WHERE id = $1", answer.id
    )
    assert (stored["llm_provider"], stored["cost_usd"]) == ("anthropic", Decimal("0.004800"))
    assert stored["citations"][0]["start"] == citation.start


async def test_an_answer_that_fails_midway_keeps_the_question_and_stores_nothing_else(
    make_context: MakeContext,
    llm_contract: str,
    monkeypatch: pytest.MonkeyPatch,
    superuser: asyncpg.Connection,
) -> None:
    provider = ScriptedProvider(["The fee is ", "fifty dollars", " unless"], fail_after=2)
    monkeypatch.setattr(registry, "get_provider", lambda name, settings: provider)

    events = await _ask(await make_context(), llm_contract, "What is the cancellation fee?")

    assert [type(event) for event in events] == [AnswerStarted, AnswerChunk, AnswerChunk, AnswerFailed]
    failed = events[-1]
    assert isinstance(failed, AnswerFailed)
    assert failed.message == (
        "The answer could not be completed: Anthropic stopped answering for 60 s. Your question is kept."
    )
    rows = await superuser.fetch("SELECT role, content FROM chat_messages")
    assert [(row["role"], row["content"]) for row in rows] == [("user", "What is the cancellation fee?")]
    stages = await superuser.fetch(
        "SELECT event_data FROM audit_events WHERE event_type = 'chat' ORDER BY seq"
    )
    assert [event["event_data"]["stage"] for event in stages] == ["asked", "failed"]
    assert stages[1]["event_data"]["reason"] == "Anthropic stopped answering for 60 s."
    assert provider.closed


async def test_a_provider_that_is_not_configured_hands_over_to_the_offline_answer(
    make_context: MakeContext, llm_contract: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_configured(name: str, settings: object) -> LLMProvider:
        raise ProviderNotConfigured("anthropic", "ANTHROPIC_API_KEY is not set.")

    monkeypatch.setattr(registry, "get_provider", not_configured)

    answer = _complete(await _ask(await make_context(), llm_contract, "What is the premium?")).message

    assert answer.provider == "rules"
    assert answer.content.startswith("(anthropic could not answer: ANTHROPIC_API_KEY is not set.")
    assert "$748.29" in answer.citations[0].quote
