"""A conversation about one contract: questions, answers as they stream in, and what they cite.

The log is anchored to its bottom (Textual's `anchor`): new text keeps the latest message in view while
the reader is at the end, and leaves the view alone once the reader has scrolled up to read something;
scrolling back to the end re-anchors it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from widgets.plain import shown


@dataclass(frozen=True)
class CitationView:
    """A passage an answer quotes, with where it is; `quote` already made one readable line."""

    page: int
    line: int
    quote: str


@dataclass(frozen=True)
class ChatEntry:
    """One message as shown: who wrote it and when (already formatted), its text and citations."""

    role: Literal["user", "assistant"]
    who: str
    when: str
    text: str
    citations: tuple[CitationView, ...] = field(default_factory=tuple)


def citation_text(citation: CitationView, *, quoted: bool = False) -> str:
    """Where a source is and what it says; only where, when the answer quotes it already."""
    where = f"p.{citation.page} l.{citation.line}"
    return where if quoted else shown(f"{where}: “{citation.quote}”")


def entry_text(entry: ChatEntry) -> Text:
    """The heading (who · when), the message, then its sources, one line per citation (a quote the
    message already shows is not shown a second time)."""
    text = Text()
    text.append(shown(entry.who), style="bold")
    if entry.when:
        text.append(f" · {entry.when}", style="dim")
    text.append("\n")
    text.append(shown(entry.text))
    if entry.citations:
        text.append("\n\nSources", style="dim")
        for citation in entry.citations:
            text.append("\n")
            text.append(citation_text(citation, quoted=citation.quote in entry.text), style="italic")
    return text


class ChatMessage(Static):
    """One message of the log; the message being answered is redrawn as its text arrives."""

    def __init__(self, entry: ChatEntry) -> None:
        super().__init__(entry_text(entry), classes=f"chat-message -{entry.role}")
        self.entry = entry

    def show(self, entry: ChatEntry) -> None:
        self.entry = entry
        self.update(entry_text(entry))


class ChatLog(VerticalScroll):
    """The messages of a conversation, oldest first; an answer in progress is the last one."""

    def __init__(self, *, empty_text: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._empty_text = empty_text
        self._answer: ChatMessage | None = None
        self._answer_text: list[str] = []

    def on_mount(self) -> None:
        self.anchor()

    async def show(self, entries: list[ChatEntry]) -> None:
        """Replace the whole conversation (the history as loaded)."""
        self._answer = None
        await self.remove_children()
        if entries:
            await self.mount_all([ChatMessage(entry) for entry in entries])
        else:
            await self.mount(Static(self._empty_text, classes="chat-empty"))
        self.anchor()

    async def add(self, entry: ChatEntry) -> ChatMessage:
        await self.query(".chat-empty").remove()
        message = ChatMessage(entry)
        await self.mount(message)
        return message

    async def begin_answer(self, who: str) -> None:
        """An answer on its way: a message that fills as `extend_answer` brings text."""
        self._answer_text = []
        self._answer = await self.add(ChatEntry("assistant", who, "", "…"))
        self._answer.add_class("-pending")

    def extend_answer(self, text: str) -> None:
        if self._answer is None:
            return
        self._answer_text.append(text)
        entry = self._answer.entry
        self._answer.show(ChatEntry(entry.role, entry.who, entry.when, "".join(self._answer_text)))

    async def end_answer(self, entry: ChatEntry) -> None:
        """The answer as stored (with its citations) replaces the streamed text."""
        if self._answer is None:
            await self.add(entry)
            return
        self._answer.remove_class("-pending")
        self._answer.show(entry)
        self._answer = None

    def fail_answer(self, message: str) -> None:
        """No answer was stored: the message being streamed becomes the reason."""
        if self._answer is None:
            return
        entry = self._answer.entry
        self._answer.remove_class("-pending")
        self._answer.add_class("-failed")
        self._answer.show(ChatEntry(entry.role, entry.who, entry.when, message))
        self._answer = None

    def page(self, pages: int) -> None:
        """Page through the conversation. Paging down at the end follows new text again (Textual would
        release the anchor on a scroll that cannot move, and only moving back to the end restores it)."""
        if pages > 0 and self.scroll_y >= self.max_scroll_y:
            self.anchor()
        elif pages > 0:
            self.scroll_page_down(animate=False)
        else:
            self.scroll_page_up(animate=False)

    @property
    def answering(self) -> bool:
        return self._answer is not None


class QuestionBox(Input):
    """Where a question is typed: `enter` sends it."""

    BINDINGS = [Binding("enter", "submit", "Send question", id="chat_send")]
