"""Anthropic through the official SDK: a forced tool call for extraction, ``messages.stream`` for chat.

Forcing the tool (``tool_choice={"type": "tool", ...}``) makes the model answer with the schema's object
and nothing else. The SDK's own retries are off (the engine's resilience layer is the only one, with the
configured timeout), and its strict response validation is on, so a reply that is not a Message is an
error instead of a half-filled object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

import anthropic
import httpx2
from pydantic import SecretStr

from services.domain import LLMProviderName
from services.extraction.prompt import (
    EXTRACTION_SCHEMA,
    SYSTEM_PROMPT,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    parse_answer,
    user_message,
)
from services.extraction.providers.base import (
    CHAT_MAX_TOKENS,
    EXTRACTION_MAX_TOKENS,
    ChatEvent,
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    MalformedAnswer,
    ProviderNotConfigured,
    ProviderOutput,
    Usage,
)
from services.extraction.providers.http import AnswerTooLarge, cap_response_size, http_sdk_error

# Failures that reach us from the SDK: its own errors, transport errors surfacing while a stream is read,
# a body cut off by the size cap, and a body that is not JSON at all (the SDK lets json's ValueError out).
_FAILURES = (anthropic.AnthropicError, httpx2.HTTPError, AnswerTooLarge, ValueError)


class AnthropicProvider(LLMProvider):
    name: ClassVar[LLMProviderName] = "anthropic"

    def __init__(self, model: str, api_key: SecretStr | None) -> None:
        super().__init__(model)
        if api_key is None:
            raise ProviderNotConfigured(
                self.name, "ANTHROPIC_API_KEY is not set; set it or use --provider rules"
            )
        # The base URL comes from ANTHROPIC_BASE_URL when set (a gateway, or a test server).
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key.get_secret_value(),
            max_retries=0,
            http_client=anthropic.DefaultAsyncHttpxClient(event_hooks={"response": [cap_response_size]}),
            _strict_response_validation=True,
        )

    async def extract(self, document_text: str, *, timeout: float) -> ProviderOutput:  # noqa: ASYNC109
        try:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=EXTRACTION_MAX_TOKENS,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": user_message(document_text)}],
                tools=[
                    {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": EXTRACTION_SCHEMA}
                ],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                timeout=timeout,
            )
        except _FAILURES as exc:
            raise http_sdk_error(self.name, exc, anthropic, timeout=timeout) from exc
        usage = Usage(
            model_version=message.model,
            prompt_tokens=message.usage.input_tokens,
            completion_tokens=message.usage.output_tokens,
        )
        calls = [block for block in message.content if block.type == "tool_use" and block.name == TOOL_NAME]
        if message.stop_reason == "max_tokens":
            raise MalformedAnswer(self.name, "Anthropic's answer was cut off at the token limit", usage=usage)
        if len(calls) != 1:
            raise MalformedAnswer(
                self.name, f"Anthropic made {len(calls)} calls of {TOOL_NAME} instead of one", usage=usage
            )
        candidates, size = parse_answer(self.name, calls[0].input, usage)
        return ProviderOutput(
            fields=candidates,
            model_version=usage.model_version,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            raw_bytes=size,
        )

    async def stream_chat(
        self,
        system: str,
        messages: Sequence[ChatTurn],
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> AsyncIterator[ChatEvent]:
        try:
            async with self._client.messages.stream(
                model=self.model,
                max_tokens=CHAT_MAX_TOKENS,
                system=system,
                messages=[{"role": turn.role, "content": turn.content} for turn in messages],
                timeout=timeout,
            ) as stream:
                async for text in stream.text_stream:
                    yield ChatTextDelta(text=text)
                message = await stream.get_final_message()
        except _FAILURES as exc:
            raise http_sdk_error(self.name, exc, anthropic, timeout=timeout) from exc
        yield ChatUsage(
            model_version=message.model,
            prompt_tokens=message.usage.input_tokens,
            completion_tokens=message.usage.output_tokens,
        )

    async def aclose(self) -> None:
        await self._client.close()
