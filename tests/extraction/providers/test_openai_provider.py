"""OpenAI specifics: strict structured output, refusals, the optional package, streamed chat."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest

from services.config import SystemSettings
from services.extraction.prompt import EXTRACTION_SCHEMA, TOOL_NAME
from services.extraction.providers.base import (
    LLMProvider,
    MalformedAnswer,
    ProviderNotConfigured,
    ProviderUnavailable,
)
from services.extraction.providers.registry import get_provider
from tests.extraction.providers.fakes import KITS, FakeVendor, Reply, answer, openai_answer, openai_completion


@pytest.fixture
async def openai(vendor: FakeVendor) -> AsyncIterator[LLMProvider]:
    llm = get_provider("openai", SystemSettings(openai_model="gpt-4o-mini"))
    yield llm
    await llm.aclose()


async def test_the_answer_is_a_strict_json_schema_response(vendor: FakeVendor, openai: LLMProvider) -> None:
    vendor.script(openai_answer(answer()))
    await openai.extract("GAP Waiver Charge: $1,250.00", timeout=5)
    [request] = vendor.requests
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": TOOL_NAME, "strict": True, "schema": EXTRACTION_SCHEMA},
    }


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (openai_completion(None, refusal="I can't help with that."), "refused to answer: I can't help"),
        (openai_completion('{"gap_insurance_premium": {"val', finish_reason="length"), "incomplete"),
        (openai_completion("not json at all"), "does not match the schema"),
    ],
    ids=["refusal", "cut off", "content not json"],
)
async def test_refusals_and_incomplete_answers_are_refused(
    reply: Reply, why: str, vendor: FakeVendor, openai: LLMProvider
) -> None:
    vendor.script(reply)
    with pytest.raises(MalformedAnswer, match=why) as caught:
        await openai.extract("text", timeout=5)
    assert caught.value.usage is not None and caught.value.usage.prompt_tokens == 1100


async def test_retry_after_ms_is_read(vendor: FakeVendor, openai: LLMProvider) -> None:
    vendor.script(KITS["openai"].rate_limited())
    with pytest.raises(ProviderUnavailable) as caught:
        await openai.extract("text", timeout=5)
    assert caught.value.retry_after == 1.5


def test_without_the_package_the_error_says_what_to_install(
    vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes `import openai` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ProviderNotConfigured) as caught:
        get_provider("openai", SystemSettings())
    assert caught.value.message == (
        "The openai package is not installed; install refund-review[openai] or use --provider rules"
    )
