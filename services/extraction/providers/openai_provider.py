"""OpenAI through the official SDK (an optional extra): strict structured output for extraction, a
streamed chat completion for chat.

``response_format`` is a strict ``json_schema`` of the same schema the other vendors get as a tool, so the
model's whole message is the answer object. The package is imported when the provider is first used, so
an installation without the extra only fails when someone asks for OpenAI, with a sentence saying what to
install. The SDK's own retries are off; its strict response validation is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import ModuleType
from typing import Any, ClassVar

import httpx2
from pydantic import SecretStr

from services.domain import LLMProviderName
from services.extraction.prompt import EXTRACTION_SCHEMA, SYSTEM_PROMPT, TOOL_NAME, parse_answer, user_message
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


def _import_openai() -> ModuleType:
    try:
        import openai
    except ImportError:
        raise ProviderNotConfigured(
            "openai",
            "The openai package is not installed; install refund-review[openai] or use --provider rules",
        ) from None
    return openai


class OpenAIProvider(LLMProvider):
    name: ClassVar[LLMProviderName] = "openai"

    def __init__(self, model: str, api_key: SecretStr | None) -> None:
        super().__init__(model)
        self._sdk = _import_openai()
        if api_key is None:
            raise ProviderNotConfigured(
                self.name, "OPENAI_API_KEY is not set; set it or use --provider rules"
            )
        self._failures = (self._sdk.OpenAIError, httpx2.HTTPError, AnswerTooLarge, ValueError)
        # The base URL comes from OPENAI_BASE_URL when set (Azure-style gateways, or a test server).
        self._client = self._sdk.AsyncOpenAI(
            api_key=api_key.get_secret_value(),
            max_retries=0,
            http_client=self._sdk.DefaultAsyncHttpxClient(event_hooks={"response": [cap_response_size]}),
            _strict_response_validation=True,
        )

    async def extract(self, document_text: str, *, timeout: float) -> ProviderOutput:  # noqa: ASYNC109
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": user_message(document_text)},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": TOOL_NAME, "strict": True, "schema": EXTRACTION_SCHEMA},
                },
                max_completion_tokens=EXTRACTION_MAX_TOKENS,
                stream=False,
                timeout=timeout,
            )
        except self._failures as exc:
            raise http_sdk_error(self.name, exc, self._sdk, timeout=timeout) from exc
        tokens = completion.usage
        usage = Usage(
            model_version=completion.model,
            prompt_tokens=tokens.prompt_tokens if tokens else 0,
            completion_tokens=tokens.completion_tokens if tokens else 0,
        )
        if len(completion.choices) != 1:
            raise MalformedAnswer(
                self.name, f"OpenAI gave {len(completion.choices)} choices instead of one", usage=usage
            )
        choice = completion.choices[0]
        if choice.message.refusal:
            raise MalformedAnswer(
                self.name, f"OpenAI refused to answer: {choice.message.refusal[:300]}", usage=usage
            )
        if choice.finish_reason != "stop" or choice.message.content is None:
            raise MalformedAnswer(
                self.name,
                f"OpenAI's answer is incomplete (finish reason {choice.finish_reason})",
                usage=usage,
            )
        candidates, size = parse_answer(self.name, choice.message.content, usage)
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
        turns: list[Any] = [{"role": "system", "content": system}]
        turns.extend({"role": turn.role, "content": turn.content} for turn in messages)
        model, prompt_tokens, completion_tokens = self.model, 0, 0
        try:
            stream = await self._client.chat.completions.create(
                model=self.model,
                messages=turns,
                max_completion_tokens=CHAT_MAX_TOKENS,
                stream=True,
                stream_options={"include_usage": True},
                timeout=timeout,
            )
            async with stream:
                async for chunk in stream:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        prompt_tokens = chunk.usage.prompt_tokens
                        completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield ChatTextDelta(text=choice.delta.content)
        except self._failures as exc:
            raise http_sdk_error(self.name, exc, self._sdk, timeout=timeout) from exc
        yield ChatUsage(model_version=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    async def aclose(self) -> None:
        await self._client.close()
