"""The interface every LLM provider implements, its output, and the errors it raises.

Errors are typed by what the caller should do about them: retry (rate limits, server errors, timeouts,
lost connections), give up on this provider for this document (a malformed or oversized answer, a refused
request), or tell the operator to configure something (a missing key or package). They are service errors
with a sentence, so the chat screen can show one as it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from services.domain import LLMProviderName
from services.errors import Unavailable
from services.extraction.types import FieldCandidate

PROVIDER_LABELS: dict[str, str] = {
    "rules": "rules",
    "anthropic": "Anthropic",
    "bedrock": "Bedrock",
    "openai": "OpenAI",
}

# A correct answer (three values, three short quotes) is under 4 KB; anything past this is not an answer.
MAX_ANSWER_BYTES = 256 * 1024
# Streamed chat repeats an envelope of ~100 bytes around every token.
MAX_STREAM_BYTES = 4 * 2**20
EXTRACTION_MAX_TOKENS = 1024
CHAT_MAX_TOKENS = 2048


class ProviderOutput(BaseModel):
    """One LLM answer, validated against the schema but not yet grounded in the document."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    # One candidate per field, in FIELD_NAMES order (prompt.parse_answer builds them so).
    fields: tuple[FieldCandidate, ...]
    model_version: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    raw_bytes: int = Field(ge=0, le=MAX_ANSWER_BYTES)

    def candidates(self) -> tuple[FieldCandidate, ...]:
        return self.fields


class Usage(BaseModel):
    """Tokens billed for one call, also for an answer that was then refused."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    model_version: str
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)


class ChatTurn(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class ChatTextDelta(BaseModel):
    """The next piece of the answer's text."""

    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = "text"
    text: str


class ChatUsage(BaseModel):
    """The last event of a complete answer: what it cost."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    type: Literal["usage"] = "usage"
    model_version: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


ChatEvent = ChatTextDelta | ChatUsage


class ProviderError(Unavailable):
    """A provider call that failed. ``retryable``: whether the same call may succeed if tried again."""

    title = "Extraction provider failed"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after = retry_after
        self.usage = usage
        # Set by the retry loop: how many calls this failure took.
        self.attempts = 1


class ProviderNotConfigured(ProviderError):
    """No key, no region, or no SDK installed: nothing will work until someone configures it."""

    title = "Provider not configured"


class ProviderUnavailable(ProviderError):
    """Rate limited, a server error or a lost connection: worth another try after a pause."""

    retryable = True


class ProviderTimeout(ProviderError):
    retryable = True


class ProviderRejected(ProviderError):
    """The vendor refused the request itself (bad key, unknown model, prompt too long): a retry cannot help."""


class MalformedAnswer(ProviderError):
    """The vendor answered, but not with the three fields the schema asks for (or far too much of it)."""

    title = "Provider answer refused"


class CircuitOpen(ProviderError):
    """The provider failed too often lately; calls go straight to the fallback until its cooldown ends."""


class LLMProvider(ABC):
    """An LLM vendor behind the product's interface. Holds an HTTP client: close it with ``aclose``.

    ``timeout`` is a parameter (not left to ``asyncio.timeout``) because it is handed to the vendor SDK as
    its socket timeout: a call abandoned by the caller must not keep a connection or a thread busy.
    """

    name: ClassVar[LLMProviderName]

    def __init__(self, model: str) -> None:
        self.model = model

    @abstractmethod
    async def extract(self, document_text: str, *, timeout: float) -> ProviderOutput:  # noqa: ASYNC109
        """The three fields as the model reads them, in one call (no retries: the caller owns those)."""

    @abstractmethod
    def stream_chat(
        self, system: str, messages: Sequence[ChatTurn], *, timeout: float
    ) -> AsyncIterator[ChatEvent]:
        """The answer to the last user turn as text deltas, then one :class:`ChatUsage`.

        ``timeout`` bounds every wait for the vendor (connecting, and each pause between chunks), not the
        whole answer: a stalled stream fails, a long steady one completes.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """Release the HTTP client's connections."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
