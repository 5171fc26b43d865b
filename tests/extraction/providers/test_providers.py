"""What every LLM provider must do, checked against fake vendor servers through the real SDK clients.

Each test runs once per vendor (Anthropic Messages, Bedrock Converse, OpenAI Chat Completions): the same
answer must come back as the same candidates, and the same failure as the same error type, so that the
engine can treat the three alike.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.config import SystemSettings
from services.extraction.prompt import SYSTEM_PROMPT, user_message
from services.extraction.providers.base import (
    MAX_ANSWER_BYTES,
    ChatTextDelta,
    ChatTurn,
    ChatUsage,
    LLMProvider,
    MalformedAnswer,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from services.extraction.providers.registry import get_provider
from services.settings import Settings
from tests.extraction.providers.fakes import KITS, FakeVendor, Reply, VendorKit, answer, json_reply

SETTINGS = SystemSettings(anthropic_model="claude-sonnet-4-6")
DOCUMENT = (
    "GAP Waiver Charge: $1,250.00\nA $50 cancellation fee will be retained.\nTerm: 72 months\n"
    "This Addendum is governed by the laws of the State of Ohio.\n"
)


@pytest.fixture(params=sorted(KITS))
def kit(request: pytest.FixtureRequest) -> VendorKit:
    return KITS[request.param]


@pytest.fixture
async def provider(kit: VendorKit, vendor: FakeVendor) -> AsyncIterator[LLMProvider]:
    llm = get_provider(kit.name, SETTINGS)
    yield llm
    await llm.aclose()


async def test_a_well_formed_answer_becomes_three_candidates_with_usage(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.answer(answer(), **_usage(kit, 1234, 56)))
    output = await provider.extract(DOCUMENT, timeout=5)
    assert [(c.name, c.value, c.quote, c.confidence) for c in output.candidates()] == [
        ("gap_insurance_premium", "1250.00", "GAP Waiver Charge: $1,250.00", 95),
        ("refund_calculation_method", "Pro-Rata", "refunded on a pro rata basis", 90),
        ("cancellation_fee", "50.00", "A $50 cancellation fee will be retained.", 88),
        ("term_months", "72", "Term: 72 months", 92),
        ("governing_state", "OH", "governed by the laws of the State of Ohio", 90),
        ("apr", None, None, 85),
    ]
    assert (output.prompt_tokens, output.completion_tokens) == (1234, 56)
    assert output.model_version == kit.model
    assert 0 < output.raw_bytes < 1000
    [request] = vendor.requests
    assert request.path == kit.path
    # The instructions are the product's, and the document travels as data inside the user turn.
    system, user = _prompt_sent(kit, request.body)
    assert (system, user) == (SYSTEM_PROMPT, user_message(DOCUMENT))


def _drop(field: str) -> dict[str, Any]:
    broken = answer()
    del broken[field]
    return broken


def _set(field: str, key: str, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(answer())
    broken[field][key] = value
    return broken


MALFORMED = {
    "missing field": _drop("cancellation_fee"),
    "extra field": {**answer(), "notes": {"value": "x", "quote": None, "confidence": 1}},
    "extra key in a field": _set("gap_insurance_premium", "currency", "USD"),
    "number for a string": _set("gap_insurance_premium", "value", 1250.0),
    "string for a number": _set("refund_calculation_method", "confidence", "high"),
    "boolean for a number": _set("cancellation_fee", "confidence", True),
    "confidence above 100": _set("gap_insurance_premium", "confidence", 150),
    "confidence below 0": _set("cancellation_fee", "confidence", -1),
    "not an object": ["1250.00", "Pro-Rata", "50.00"],
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_an_answer_off_the_schema_is_refused_with_its_usage(
    case: str, kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.answer(MALFORMED[case], **_usage(kit, 900, 40)))
    with pytest.raises(MalformedAnswer) as caught:
        await provider.extract(DOCUMENT, timeout=5)
    assert not caught.value.retryable
    # The tokens were billed even though the answer is useless: the engine records them as discarded.
    if caught.value.usage is not None:
        assert (caught.value.usage.prompt_tokens, caught.value.usage.completion_tokens) == (900, 40)


async def test_a_body_that_is_not_json_is_refused(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(Reply(headers={"content-type": "application/json"}, body=b"<html>502 Bad Gateway</html>"))
    with pytest.raises(MalformedAnswer):
        await provider.extract(DOCUMENT, timeout=5)


async def test_an_envelope_of_the_wrong_shape_is_refused(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(json_reply({"result": answer()}))
    with pytest.raises(MalformedAnswer):
        await provider.extract(DOCUMENT, timeout=5)


async def test_rate_limits_and_server_errors_are_retryable(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.rate_limited(), kit.server_error())
    with pytest.raises(ProviderUnavailable) as limited:
        await provider.extract(DOCUMENT, timeout=5)
    assert limited.value.retryable and "429" in limited.value.message
    with pytest.raises(ProviderUnavailable) as failed:
        await provider.extract(DOCUMENT, timeout=5)
    assert failed.value.retryable
    # The SDK's own retries are off: each call reached the server exactly once.
    assert len(vendor.requests) == 2


async def test_a_refused_request_is_not_retryable(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.rejected())
    with pytest.raises(ProviderRejected) as caught:
        await provider.extract(DOCUMENT, timeout=5)
    assert not caught.value.retryable
    assert "40" in caught.value.message  # the status is in the sentence
    assert len(vendor.requests) == 1


async def test_an_answer_slower_than_the_timeout_is_a_timeout(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(Reply(delay=30))
    with pytest.raises(ProviderTimeout) as caught:
        await provider.extract(DOCUMENT, timeout=0.5)
    assert caught.value.retryable
    assert "0.5 s" in caught.value.message


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
async def test_an_oversized_answer_is_refused(
    declared: bool, kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    body = b'{"padding": "' + b"x" * (MAX_ANSWER_BYTES + 10) + b'"}'
    headers = {"content-type": "application/json"}
    vendor.script(Reply(headers=headers, body=body) if declared else Reply(headers=headers, chunks=[body]))
    with pytest.raises(MalformedAnswer) as caught:
        await provider.extract(DOCUMENT, timeout=5)
    assert "refused" in caught.value.message and f"{MAX_ANSWER_BYTES:,}" in caught.value.message
    assert not caught.value.retryable


async def test_an_oversized_tool_answer_inside_a_small_envelope_is_refused(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    # Under the HTTP cap as a whole, but the answer itself is larger than any real one.
    huge = _set("gap_insurance_premium", "quote", "x" * (MAX_ANSWER_BYTES - 10_000))
    huge["cancellation_fee"]["quote"] = "y" * 20_000
    vendor.script(kit.answer(huge))
    with pytest.raises(MalformedAnswer):
        await provider.extract(DOCUMENT, timeout=5)


async def test_chat_streams_text_deltas_then_usage(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.chat(["The premium ", "is $1,250.00 ", "(page 2, line 3)."]))
    turns = [ChatTurn(role="user", content="What is the GAP premium?")]
    events = [event async for event in provider.stream_chat("Answer from the contract.", turns, timeout=5)]
    *deltas, usage = events
    assert all(isinstance(delta, ChatTextDelta) for delta in deltas)
    assert "".join(delta.text for delta in deltas if isinstance(delta, ChatTextDelta)) == (
        "The premium is $1,250.00 (page 2, line 3)."
    )
    assert isinstance(usage, ChatUsage) and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert "What is the GAP premium?" in str(vendor.requests[0].body)


async def test_chat_failures_are_provider_errors(
    kit: VendorKit, vendor: FakeVendor, provider: LLMProvider
) -> None:
    vendor.script(kit.rate_limited())
    turns = [ChatTurn(role="user", content="Is there a fee?")]
    with pytest.raises(ProviderUnavailable):
        [event async for event in provider.stream_chat("system", turns, timeout=5)]


@pytest.mark.parametrize(
    ("name", "variable", "sentence"),
    [
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY is not set; set it or use --provider rules"),
        ("openai", "OPENAI_API_KEY", "OPENAI_API_KEY is not set; set it or use --provider rules"),
        (
            "bedrock",
            "AWS_REGION",
            "AWS_REGION is not set; set it (and AWS credentials) or use --provider rules",
        ),
    ],
)
def test_a_missing_key_is_a_sentence_saying_what_to_set(
    name: str, variable: str, sentence: str, vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ProviderNotConfigured) as caught:
        get_provider(name, SETTINGS)
    assert caught.value.message == sentence


def _prompt_sent(kit: VendorKit, body: dict[str, Any]) -> tuple[str, str]:
    if kit.name == "anthropic":
        return body["system"], body["messages"][0]["content"]
    if kit.name == "bedrock":
        return body["system"][0]["text"], body["messages"][0]["content"][0]["text"]
    system, user = body["messages"]
    return system["content"], user["content"]


def _usage(kit: VendorKit, prompt: int, completion: int) -> dict[str, int]:
    names = {
        "anthropic": ("input_tokens", "output_tokens"),
        "bedrock": ("input_tokens", "output_tokens"),
        "openai": ("prompt_tokens", "completion_tokens"),
    }[kit.name]
    return dict(zip(names, (prompt, completion), strict=True))


@pytest.mark.parametrize(
    ("name", "variable", "header", "sent"),
    [
        ("anthropic", "ANTHROPIC_API_KEY", "authorization", "Bearer {key}"),
        ("openai", "OPENAI_API_KEY", "authorization", "Bearer {key}"),
    ],
)
async def test_the_key_comes_from_the_process_settings_and_never_shows(
    name: str, variable: str, header: str, sent: str, vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable)
    key = "sk-from-the-process-settings"
    process = Settings(**{f"{name}_api_key": f"  {key}\n"})
    assert key not in repr(process) and key not in str(process.model_dump())
    llm = get_provider(name, SETTINGS, process)
    try:
        vendor.script(KITS[name].answer(answer()))
        await llm.extract(DOCUMENT, timeout=5)
    finally:
        await llm.aclose()
    assert vendor.requests[0].headers[header] == sent.format(key=key)
