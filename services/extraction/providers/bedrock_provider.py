"""Amazon Bedrock through boto3's ``bedrock-runtime`` Converse API: a forced tool for extraction,
``converse_stream`` for chat.

boto3 is synchronous, so every call runs in a worker thread (``asyncio.to_thread``). botocore's own retries
are off (``total_max_attempts=1``) so that the engine's resilience layer is the only one, and its socket
timeouts are the configured timeout, so a thread whose caller has given up does not linger.

Size bound: botocore reads a non-streaming body whole before any hook sees it, so an oversized Converse
answer is refused (by a ``before-parse`` hook) before it is parsed, but after it is in memory; what a real
model can send is bounded by ``maxTokens``. A streamed chat answer is read event by event and abandoned as
soon as it passes the cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, ClassVar

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
)

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
    MAX_ANSWER_BYTES,
    MAX_STREAM_BYTES,
    ChatEvent,
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    MalformedAnswer,
    ProviderError,
    ProviderNotConfigured,
    ProviderOutput,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    Usage,
)
from services.extraction.providers.http import AnswerTooLarge, retry_after_seconds

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "ModelStreamErrorException",
    }
)
_MISSING_CREDENTIALS = (
    "AWS credentials are not set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile); "
    "set them or use --provider rules"
)


def _refuse_oversized(response_dict: dict[str, Any], **_: Any) -> None:
    body = response_dict.get("body")
    if isinstance(body, bytes) and len(body) > MAX_ANSWER_BYTES:
        raise AnswerTooLarge(len(body), MAX_ANSWER_BYTES)


class BedrockProvider(LLMProvider):
    name: ClassVar[LLMProviderName] = "bedrock"

    def __init__(self, model: str, region: str | None, endpoint_url: str | None = None) -> None:
        super().__init__(model)
        if not region:
            raise ProviderNotConfigured(
                self.name, "AWS_REGION is not set; set it (and AWS credentials) or use --provider rules"
            )
        self._session = boto3.session.Session(region_name=region)
        if self._session.get_credentials() is None:
            raise ProviderNotConfigured(self.name, _MISSING_CREDENTIALS)
        # botocore itself honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME when no endpoint is given.
        self._endpoint_url = endpoint_url
        self._clients: dict[float, BaseClient] = {}

    def _client(self, timeout: float) -> BaseClient:
        """A client whose socket timeouts are ``timeout`` (clients are cached: creating one costs ~30 ms)."""
        client = self._clients.get(timeout)
        if client is None:
            config = Config(
                connect_timeout=min(timeout, 10.0),
                read_timeout=timeout,
                retries={"total_max_attempts": 1, "mode": "standard"},
            )
            client = self._session.client("bedrock-runtime", endpoint_url=self._endpoint_url, config=config)
            client.meta.events.register("before-parse.bedrock-runtime.Converse", _refuse_oversized)
            self._clients[timeout] = client
        return client

    async def extract(self, document_text: str, *, timeout: float) -> ProviderOutput:  # noqa: ASYNC109
        client = self._client(timeout)
        try:
            response = await asyncio.to_thread(
                client.converse,
                modelId=self.model,
                system=[{"text": SYSTEM_PROMPT}],
                messages=[{"role": "user", "content": [{"text": user_message(document_text)}]}],
                toolConfig={
                    "tools": [
                        {
                            "toolSpec": {
                                "name": TOOL_NAME,
                                "description": TOOL_DESCRIPTION,
                                "inputSchema": {"json": EXTRACTION_SCHEMA},
                            }
                        }
                    ],
                    "toolChoice": {"tool": {"name": TOOL_NAME}},
                },
                inferenceConfig={"maxTokens": EXTRACTION_MAX_TOKENS},
            )
        except (BotoCoreError, ClientError, AnswerTooLarge) as exc:
            raise self._error(exc, timeout) from exc
        answer, usage = self._tool_input(response)
        candidates, size = parse_answer(self.name, answer, usage)
        return ProviderOutput(
            fields=candidates,
            model_version=usage.model_version,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            raw_bytes=size,
        )

    def _tool_input(self, response: dict[str, Any]) -> tuple[dict[str, Any], Usage]:
        try:
            tokens = response.get("usage") or {}
            usage = Usage(
                model_version=self.model,
                prompt_tokens=tokens.get("inputTokens", 0),
                completion_tokens=tokens.get("outputTokens", 0),
            )
            content = response["output"]["message"]["content"]
            calls = [
                block["toolUse"] for block in content if block.get("toolUse", {}).get("name") == TOOL_NAME
            ]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MalformedAnswer(
                self.name, f"Bedrock's answer is not a Converse response ({type(exc).__name__}: {exc})"
            ) from None
        if response.get("stopReason") == "max_tokens":
            raise MalformedAnswer(self.name, "Bedrock's answer was cut off at the token limit", usage=usage)
        if len(calls) != 1:
            raise MalformedAnswer(
                self.name, f"Bedrock made {len(calls)} calls of {TOOL_NAME} instead of one", usage=usage
            )
        tool_input = calls[0].get("input")
        if not isinstance(tool_input, dict):
            raise MalformedAnswer(self.name, f"Bedrock's {TOOL_NAME} input is not an object", usage=usage)
        return tool_input, usage

    async def stream_chat(
        self,
        system: str,
        messages: Sequence[ChatTurn],
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> AsyncIterator[ChatEvent]:
        client = self._client(timeout)
        usage: dict[str, int] = {}
        received = 0
        try:
            response = await asyncio.to_thread(
                client.converse_stream,
                modelId=self.model,
                system=[{"text": system}],
                messages=[{"role": turn.role, "content": [{"text": turn.content}]} for turn in messages],
                inferenceConfig={"maxTokens": CHAT_MAX_TOKENS},
            )
            stream = response["stream"]
            try:
                events: Iterator[dict[str, Any]] = iter(stream)
                while (event := await asyncio.to_thread(next, events, None)) is not None:
                    if "contentBlockDelta" in event:
                        text = event["contentBlockDelta"].get("delta", {}).get("text")
                        if text:
                            received += len(text.encode())
                            if received > MAX_STREAM_BYTES:
                                raise AnswerTooLarge(received, MAX_STREAM_BYTES)
                            yield ChatTextDelta(text=text)
                    elif "metadata" in event:
                        usage = event["metadata"].get("usage", {})
            finally:
                stream.close()
        except (BotoCoreError, ClientError, AnswerTooLarge) as exc:
            raise self._error(exc, timeout) from exc
        yield ChatUsage(
            model_version=self.model,
            prompt_tokens=usage.get("inputTokens", 0),
            completion_tokens=usage.get("outputTokens", 0),
        )

    def _error(self, exc: Exception, timeout: float) -> ProviderError:
        if isinstance(exc, AnswerTooLarge):
            return MalformedAnswer(self.name, f"Bedrock's answer was refused: {exc}")
        if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
            return ProviderTimeout(self.name, f"Bedrock did not answer within {timeout:g} s")
        if isinstance(exc, NoCredentialsError):
            return ProviderNotConfigured(self.name, _MISSING_CREDENTIALS)
        if isinstance(exc, HTTPClientError):
            return ProviderUnavailable(self.name, f"Bedrock cannot be reached ({type(exc).__name__}: {exc})")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            metadata = exc.response.get("ResponseMetadata", {})
            code = str(error.get("Code", "unknown"))
            status = int(metadata.get("HTTPStatusCode") or 0)
            # Errors inside an event stream arrive without an HTTP status of their own.
            where = f"{code}, HTTP {status}" if status else code
            detail = " ".join(str(error.get("Message", "")).split())[:300]
            if status in {408, 429} or status >= 500 or code[:1].upper() + code[1:] in _RETRYABLE_CODES:
                what = "is throttling requests" if status == 429 or "hrottling" in code else "failed"
                return ProviderUnavailable(
                    self.name,
                    f"Bedrock {what} ({where}): {detail}",
                    retry_after=retry_after_seconds(metadata.get("HTTPHeaders", {})),
                )
            return ProviderRejected(self.name, f"Bedrock refused the request ({where}): {detail}")
        return MalformedAnswer(self.name, f"Bedrock's answer could not be read ({type(exc).__name__}: {exc})")

    async def aclose(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
