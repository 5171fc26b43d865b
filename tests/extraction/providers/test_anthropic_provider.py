"""Anthropic specifics: a forced tool call on the Messages API, and streamed chat over SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.config import SystemSettings
from services.extraction.prompt import EXTRACTION_SCHEMA, TOOL_NAME
from services.extraction.providers.base import (
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    MalformedAnswer,
    ProviderUnavailable,
)
from services.extraction.providers.registry import get_provider
from tests.extraction.providers.fakes import (
    FakeVendor,
    Reply,
    answer,
    anthropic_message,
    anthropic_stream,
    anthropic_tool_answer,
    sse,
)


@pytest.fixture
async def anthropic(vendor: FakeVendor) -> AsyncIterator[LLMProvider]:
    llm = get_provider("anthropic", SystemSettings(anthropic_model="claude-sonnet-4-6"))
    yield llm
    await llm.aclose()


async def test_the_tool_is_forced_and_its_schema_is_the_products(
    vendor: FakeVendor, anthropic: LLMProvider
) -> None:
    vendor.script(anthropic_tool_answer(answer()))
    await anthropic.extract("GAP Waiver Charge: $1,250.00", timeout=5)
    [request] = vendor.requests
    # The key of ANTHROPIC_API_KEY (this SDK version sends it as a bearer token).
    assert "sk-ant-test" in request.headers.get("x-api-key", request.headers.get("authorization", ""))
    assert request.body["model"] == "claude-sonnet-4-6"
    assert request.body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    [tool] = request.body["tools"]
    assert (tool["name"], tool["input_schema"]) == (TOOL_NAME, EXTRACTION_SCHEMA)
    assert "stream" not in request.body or request.body["stream"] is False


@pytest.mark.parametrize(
    ("content", "stop_reason", "why"),
    [
        ([{"type": "text", "text": "The premium is $1,250.00."}], "end_turn", "made 0 calls"),
        (
            [
                {"type": "tool_use", "id": "a", "name": TOOL_NAME, "input": answer()},
                {"type": "tool_use", "id": "b", "name": TOOL_NAME, "input": answer()},
            ],
            "tool_use",
            "made 2 calls",
        ),
        ([{"type": "tool_use", "id": "a", "name": TOOL_NAME, "input": answer()}], "max_tokens", "cut off"),
    ],
    ids=["text instead of the tool", "two tool calls", "cut off"],
)
async def test_anything_but_one_complete_tool_call_is_refused(
    content: list[dict[str, object]], stop_reason: str, why: str, vendor: FakeVendor, anthropic: LLMProvider
) -> None:
    vendor.script(anthropic_message(content, stop_reason=stop_reason))
    with pytest.raises(MalformedAnswer, match=why):
        await anthropic.extract("text", timeout=5)


async def test_chat_streams_only_text_even_when_a_tool_block_streams_first(
    vendor: FakeVendor, anthropic: LLMProvider
) -> None:
    vendor.script(
        anthropic_stream(["Pro-Rata, ", "page 3."], tool_json=['{"gap_insurance', '_premium": {}}'])
    )
    turns = [ChatTurn(role="user", content="Which refund method?")]
    events = [event async for event in anthropic.stream_chat("system", turns, timeout=5)]
    assert events == [
        ChatTextDelta(text="Pro-Rata, "),
        ChatTextDelta(text="page 3."),
        ChatUsage(model_version="claude-sonnet-4-6", prompt_tokens=25, completion_tokens=12),
    ]
    [request] = vendor.requests
    assert request.body["stream"] is True
    assert request.body["messages"] == [{"role": "user", "content": "Which refund method?"}]


async def test_an_error_event_in_the_middle_of_a_stream_is_a_provider_error(
    vendor: FakeVendor, anthropic: LLMProvider
) -> None:
    started = anthropic_stream(["The premium"]).chunks or []
    overloaded = sse(
        [("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]
    )
    vendor.script(Reply(headers={"content-type": "text/event-stream"}, chunks=started[:3] + overloaded))
    received: list[object] = []
    with pytest.raises(ProviderUnavailable) as caught:
        async for event in anthropic.stream_chat("system", [ChatTurn(role="user", content="?")], timeout=5):
            received.append(event)
    assert received == [ChatTextDelta(text="The premium")]
    assert caught.value.message == "Anthropic failed (overloaded_error in the stream): Overloaded"
    assert caught.value.retryable
