"""Asking about the contract on screen: the question, the streamed answer with its citations, the history."""

from __future__ import annotations

import asyncpg
import pytest
from textual.widgets import Static

from app.screens.chat import ChatScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from services.chat import CHAT_DISABLED
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.chat_log import ChatLog, ChatMessage, QuestionBox
from widgets.document_view import DocumentView


async def open_chat(pilot, workstation: RefundReviewApp) -> ChatScreen:
    """Log in as rita, take the next item from the queue, press c on the review screen."""
    await log_in(pilot, "rita", PASSWORD)
    await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(workstation.screen, ChatScreen))
    screen: ChatScreen = workstation.screen  # type: ignore[assignment]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def messages(screen: ChatScreen) -> list[ChatMessage]:
    return list(screen.query_one(ChatLog).query(ChatMessage))


def status_text(screen: ChatScreen) -> str:
    return str(screen.query_one("#chat-status", Static).render())


async def ask(pilot, screen: ChatScreen, question: str) -> None:
    box = screen.query_one(QuestionBox)
    box.focus()
    box.value = question
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_ask_the_cancellation_fee_and_see_the_cited_answer(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    contract = await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(pilot, workstation)
        assert screen.contract_id == contract.contract_id
        assert screen.query_one(QuestionBox).has_focus
        assert "No questions about" in str(screen.query_one(".chat-empty", Static).render())
        await pilot.press(*"what is the cancellation fee", "question_mark", "enter")
        await wait_until(
            pilot, lambda: len(messages(screen)) == 2 and not screen.query_one(ChatLog).answering
        )
        question, answer = (m.entry for m in messages(screen))
        assert (question.role, question.who, question.text) == (
            "user",
            "rita",
            "what is the cancellation fee?",
        )
        assert answer.role == "assistant"
        assert "A $50 cancellation fee will be retained." in answer.text
        assert answer.who.startswith("Assistant (rules")
        assert [(c.page, c.line) for c in answer.citations] == [(3, 3)]
        shown = str(messages(screen)[1].render())
        # The answer quotes the line: its source names where, without the quote a second time.
        assert shown.count("A $50 cancellation fee will be retained.") == 1
        assert shown.rstrip().endswith("Sources\np.3 l.3")
        # The contract beside the chat lights the cited line.
        document = screen.query_one(DocumentView)
        await wait_until(
            pilot, lambda: document.highlighted_text == "A $50 cancellation fee will be retained."
        )
        assert screen.query_one(QuestionBox).value == ""
        assert status_text(screen) == ""
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
    rows = await superuser.fetch(
        "SELECT role, content, citations, llm_provider FROM chat_messages WHERE contract_id = $1 ORDER BY created_at",
        contract.contract_id,
    )
    assert [(r["role"], r["llm_provider"]) for r in rows] == [("user", None), ("assistant", "rules")]
    assert rows[0]["content"] == "what is the cancellation fee?"
    assert "A $50 cancellation fee will be retained." in rows[1]["content"]
    assert [(c["page"], c["line"]) for c in rows[1]["citations"]] == [(3, 3)]


async def test_history_is_shown_when_the_chat_opens_again(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(80, 24)) as pilot:
        screen = await open_chat(pilot, workstation)
        await ask(pilot, screen, "How is the refund calculated?")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ChatScreen))
        again: ChatScreen = workstation.screen  # type: ignore[assignment]
        assert again is not screen
        await wait_until(pilot, lambda: len(messages(again)) == 2)
        question, answer = (m.entry for m in messages(again))
        assert question.text == "How is the refund calculated?"
        assert "pro rata" in answer.text
        assert answer.citations


async def test_an_empty_question_is_refused_under_the_box(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(pilot, workstation)
        await ask(pilot, screen, "   ")
        assert status_text(screen).startswith("Type a question about the contract")
        assert screen.query_one("#chat-status").has_class("error")
        assert messages(screen) == []
    assert await superuser.fetchval("SELECT count(*) FROM chat_messages") == 0


async def test_chat_turned_off_says_so(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await superuser.execute("UPDATE system_config SET value = 'false' WHERE key = 'chat_enabled'")
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(pilot, workstation)
        assert status_text(screen) == CHAT_DISABLED
        assert screen.query_one(QuestionBox).disabled


async def test_the_log_follows_new_text_only_when_the_reader_is_at_the_bottom(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    contract = await add_contract()
    await superuser.execute(
        """
        INSERT INTO chat_messages (contract_id, user_id, role, content, llm_provider, citations, created_at)
        SELECT $1, $2, CASE WHEN n % 2 = 0 THEN 'user' ELSE 'assistant' END, 'Earlier message ' || n,
               CASE WHEN n % 2 = 0 THEN NULL ELSE 'rules' END, '[]'::jsonb,
               now() - interval '1 hour' + n * interval '1 second'
          FROM generate_series(0, 19) AS n
        """,
        contract.contract_id,
        rita.actor.user_id,
    )
    async with workstation.run_test(size=(80, 24)) as pilot:
        screen = await open_chat(pilot, workstation)
        log = screen.query_one(ChatLog)
        await wait_until(pilot, lambda: len(messages(screen)) == 20 and log.max_scroll_y > 0)
        await wait_until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        await pilot.press("pageup")
        await pilot.pause()
        reading = log.scroll_y
        assert reading < log.max_scroll_y
        await ask(pilot, screen, "What is the cancellation fee?")
        assert len(messages(screen)) == 22
        assert log.scroll_y == reading  # the reader's place is kept
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        await ask(pilot, screen, "How is the refund calculated?")
        assert len(messages(screen)) == 24
        await wait_until(pilot, lambda: log.scroll_y == log.max_scroll_y)  # at the bottom: it follows


# --- snapshots ---------------------------------------------------------------------------------------


@pytest.fixture
async def snapshot_contract(make_context, add_contract, monkeypatch: pytest.MonkeyPatch) -> None:
    """One contract and its reviewer; message times are frozen (the services stamp them with now())."""
    monkeypatch.setattr("app.screens.chat.clock", lambda moment: "09:30")
    await make_context("reviewer", username="rita")
    await add_contract(number=201)


async def short_conversation(pilot) -> None:
    workstation: RefundReviewApp = pilot.app  # type: ignore[assignment]
    screen = await open_chat(pilot, workstation)
    await ask(pilot, screen, "What is the cancellation fee?")
    await ask(pilot, screen, "How is the refund calculated?")
    await wait_until(pilot, lambda: len(messages(screen)) == 4 and not screen.query_one(ChatLog).answering)
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_chat_snapshot(
    workstation: RefundReviewApp, snapshot_contract: None, snap_compare, size: tuple[int, int]
) -> None:
    assert snap_compare(workstation, terminal_size=size, run_before=short_conversation)
