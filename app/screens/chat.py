"""Chat (`c` on the review screen): the conversation about one contract, and asking it a question.

The conversation is shared by everyone who opens the contract. A question is answered from the
contract's text; the answer streams in (services.chat.ask yields AnswerStarted, AnswerChunk…, then
AnswerComplete or AnswerFailed) and is shown piece by piece, then replaced by the stored answer with its
citations. `escape` goes back to the review screen.

The contract stays in view beside the conversation, and the line an answer cites is highlighted there,
so a reviewer checks the answer against the text without leaving the chat.
"""

from __future__ import annotations

from contextlib import aclosing

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerState

from app.screens.base import WorkstationScreen
from services.chat import (
    CHAT_DISABLED,
    MAX_QUESTION_CHARS,
    AnswerChunk,
    AnswerComplete,
    AnswerFailed,
    AnswerStarted,
    ChatMessageView,
    ask,
    chat_history,
)
from services.chat_retrieval import display_quote
from services.errors import Forbidden, InvalidInput
from services.review import clock
from widgets.chat_log import ChatEntry, ChatLog, CitationView, QuestionBox
from widgets.document_view import DocumentView
from widgets.key_footer import KeyFooter
from widgets.plain import plain


def assistant_name(provider: str | None, model_version: str | None = None) -> str:
    source = ", ".join(part for part in (provider, model_version) if part)
    return f"Assistant ({source})" if source else "Assistant"


def chat_entry(message: ChatMessageView) -> ChatEntry:
    """A stored message as the log shows it; times through `clock` (the reader's local time)."""
    if message.role == "user":
        who = message.username or "someone"
    else:
        who = assistant_name(message.provider, message.model_version)
    return ChatEntry(
        role=message.role,
        who=who,
        when=clock(message.created_at),
        text=message.content,
        citations=tuple(CitationView(c.page, c.line, display_quote(c.quote)) for c in message.citations),
    )


class ChatScreen(WorkstationScreen):
    """Questions and answers about one contract, newest at the bottom."""

    BINDINGS = [
        Binding("escape", "back", "Back to review", id="chat_back"),
        Binding("ctrl+r", "reload", "Reload conversation", id="chat_reload"),
        Binding("pageup", "scroll_log(-1)", "Scroll up", show=False, id="chat_page_up"),
        Binding("pagedown", "scroll_log(1)", "Scroll down", show=False, id="chat_page_down"),
    ]

    def __init__(
        self, contract_id: str, document_text: str = "", span: tuple[int, int] | None = None
    ) -> None:
        """`document_text` is shown beside the chat, `span` (the review's source) lit until an answer
        cites a line of its own."""
        super().__init__()
        self.contract_id = contract_id
        self._document_text = document_text
        self._span = span
        # From enter to the stored answer (or the refusal): one question at a time.
        self._asking = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            Text.assemble(
                "Chat about ", (self.contract_id, "bold"), " — answers quote the contract, page and line"
            ),
            id="chat-title",
        )
        with Horizontal(id="chat-body"):
            yield DocumentView(id="chat-document")
            with Vertical(id="chat-side"):
                yield ChatLog(
                    empty_text=(
                        f"No questions about {self.contract_id} yet. Ask one below, "
                        "for example “What is the cancellation fee?”."
                    ),
                    id="chat-log",
                )
                yield Static(id="chat-status")
                yield QuestionBox(
                    placeholder="Ask about this contract — enter sends",
                    max_length=MAX_QUESTION_CHARS * 4,
                    id="chat-input",
                )
        yield KeyFooter()

    def on_mount(self) -> None:
        document = self.query_one(DocumentView)
        document.show_document(self._document_text or "(this contract has no text)")
        if self._span is not None:
            self.call_after_refresh(document.highlight, *self._span)
        box = self.query_one(QuestionBox)
        if not self.session.settings.chat_enabled:
            box.disabled = True
            self._say(CHAT_DISABLED, error=True)
        else:
            box.focus()
        self.load_history()

    def _say(self, text: str, *, error: bool = False) -> None:
        """A sentence under the conversation: what is happening, or why a question was not sent."""
        status = self.query_one("#chat-status", Static)
        status.set_class(error, "error")
        status.update(plain(text))

    # --- history -----------------------------------------------------------------------------------

    @work(exclusive=True, group="chat-history", exit_on_error=False)
    async def load_history(self) -> None:
        log = self.query_one(ChatLog)
        log.loading = True
        try:
            history = await chat_history(self.ctx, self.contract_id)
        finally:
            log.loading = False
        if not log.answering:  # a question asked meanwhile is shown already, its answer still coming
            await log.show([chat_entry(message) for message in history])
            answers = [message for message in history if message.role != "user" and message.citations]
            if answers:
                self._show_cited(answers[-1])

    def _show_cited(self, message: ChatMessageView) -> None:
        """Light, in the contract beside the chat, the first line the answer cites."""
        citation = message.citations[0]
        self.call_after_refresh(self.query_one(DocumentView).highlight_line, citation.page, citation.line)

    def action_reload(self) -> None:
        if not self._asking:
            self.load_history()

    def action_scroll_log(self, pages: int) -> None:
        self.query_one(ChatLog).page(pages)

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "chat-ask":
            self._say("")
        super().on_worker_state_changed(event)

    # --- asking ------------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._asking:
            self._say("Wait for the answer to finish before asking again.", error=True)
            return
        self._asking = True
        self.send(event.value)

    @work(exclusive=True, group="chat-ask", exit_on_error=False)
    async def send(self, question: str) -> None:
        log = self.query_one(ChatLog)
        self._say("Sending your question…")
        try:
            async with aclosing(ask(self.ctx, self.contract_id, question)) as events:
                async for event in events:
                    if isinstance(event, AnswerStarted):
                        self.query_one(QuestionBox).clear()
                        await log.add(chat_entry(event.question))
                        await log.begin_answer(assistant_name(event.provider))
                        self._say(f"Answering with {event.provider}…")
                    elif isinstance(event, AnswerChunk):
                        log.extend_answer(event.text)
                    elif isinstance(event, AnswerComplete):
                        await log.end_answer(chat_entry(event.message))
                        if event.message.citations:
                            self._show_cited(event.message)
                        self._say("")
                    elif isinstance(event, AnswerFailed):
                        log.fail_answer(event.message)
                        self._say(event.message, error=True)
        except (InvalidInput, Forbidden) as exc:
            # Refused before anything was stored: the question stays in the box to be fixed.
            self._say(exc.message, error=True)
        finally:
            self._asking = False
