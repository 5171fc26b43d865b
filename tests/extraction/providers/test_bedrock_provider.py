"""Bedrock specifics: Converse with a forced tool, and ConverseStream's AWS event-stream framing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.config import SystemSettings
from services.extraction.prompt import EXTRACTION_SCHEMA, TOOL_NAME
from services.extraction.providers.base import (
    MAX_STREAM_BYTES,
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    MalformedAnswer,
    ProviderNotConfigured,
    ProviderUnavailable,
)
from services.extraction.providers.registry import get_provider
from tests.extraction.providers.fakes import (
    BEDROCK_MODEL,
    FakeVendor,
    answer,
    bedrock_converse,
    bedrock_exception,
    bedrock_stream,
    bedrock_tool_answer,
)


@pytest.fixture
async def bedrock(vendor: FakeVendor) -> AsyncIterator[LLMProvider]:
    llm = get_provider("bedrock", SystemSettings())
    yield llm
    await llm.aclose()


async def test_converse_forces_the_tool_and_signs_the_request(
    vendor: FakeVendor, bedrock: LLMProvider
) -> None:
    vendor.script(bedrock_tool_answer(answer()))
    output = await bedrock.extract("GAP Waiver Charge: $1,250.00", timeout=5)
    assert output.model_version == BEDROCK_MODEL
    [request] = vendor.requests
    assert request.path == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]
    tools = request.body["toolConfig"]
    assert tools["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    [spec] = tools["tools"]
    assert spec["toolSpec"]["inputSchema"] == {"json": EXTRACTION_SCHEMA}
    assert request.body["inferenceConfig"]["maxTokens"] > 0


async def test_a_tool_input_that_is_a_string_is_refused(vendor: FakeVendor, bedrock: LLMProvider) -> None:
    # Even a string holding valid JSON: the schema asks for an object.
    vendor.script(bedrock_converse([{"toolUse": {"toolUseId": "t", "name": TOOL_NAME, "input": '{"a": 1}'}}]))
    with pytest.raises(MalformedAnswer, match="not an object"):
        await bedrock.extract("text", timeout=5)


async def test_an_answer_cut_off_at_max_tokens_is_refused(vendor: FakeVendor, bedrock: LLMProvider) -> None:
    vendor.script(bedrock_tool_answer(answer(), stop_reason="max_tokens"))
    with pytest.raises(MalformedAnswer, match="cut off"):
        await bedrock.extract("text", timeout=5)


async def test_chat_decodes_the_event_stream(vendor: FakeVendor, bedrock: LLMProvider) -> None:
    vendor.script(bedrock_stream(["A $50 ", "fee applies."], input_tokens=31, output_tokens=7))
    turns = [
        ChatTurn(role="user", content="Is there a fee?"),
        ChatTurn(role="assistant", content="Let me look."),
        ChatTurn(role="user", content="And?"),
    ]
    events = [event async for event in bedrock.stream_chat("Answer from the contract.", turns, timeout=5)]
    assert events == [
        ChatTextDelta(text="A $50 "),
        ChatTextDelta(text="fee applies."),
        ChatUsage(model_version=BEDROCK_MODEL, prompt_tokens=31, completion_tokens=7),
    ]
    [request] = vendor.requests
    assert request.path.endswith("/converse-stream")
    assert request.body["system"] == [{"text": "Answer from the contract."}]
    assert [turn["role"] for turn in request.body["messages"]] == ["user", "assistant", "user"]


async def test_an_exception_inside_the_stream_is_a_retryable_error(
    vendor: FakeVendor, bedrock: LLMProvider
) -> None:
    vendor.script(bedrock_stream(["Partial"], then=[bedrock_exception("throttlingException", "Slow down")]))
    received: list[object] = []
    with pytest.raises(ProviderUnavailable, match="Slow down") as caught:
        async for event in bedrock.stream_chat("s", [ChatTurn(role="user", content="?")], timeout=5):
            received.append(event)
    assert received == [ChatTextDelta(text="Partial")]
    assert caught.value.retryable


async def test_a_streamed_answer_past_the_cap_is_abandoned(vendor: FakeVendor, bedrock: LLMProvider) -> None:
    piece = "x" * 65_536
    vendor.script(bedrock_stream([piece] * (MAX_STREAM_BYTES // len(piece) + 2)))
    received = 0
    with pytest.raises(MalformedAnswer, match="refused"):
        async for event in bedrock.stream_chat("s", [ChatTurn(role="user", content="?")], timeout=5):
            received += isinstance(event, ChatTextDelta)
    assert received == MAX_STREAM_BYTES // len(piece)


def test_missing_credentials_are_a_sentence(
    vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No profile files and no instance metadata either.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ProviderNotConfigured, match="AWS credentials are not set") as caught:
        get_provider("bedrock", SystemSettings())
    assert caught.value.message.endswith("or use --provider rules")
