"""Cost from llm_pricing: the answered model, else the configured alias, else 0 with a warning."""

from __future__ import annotations

from decimal import Decimal

from services.extraction.pricing import call_cost
from services.system_settings import ModelPrice

PRICING = {
    "claude-sonnet-4-6": ModelPrice(input_per_mtok=Decimal(3), output_per_mtok=Decimal(15)),
    "gpt-4o-mini": ModelPrice(input_per_mtok=Decimal("0.15"), output_per_mtok=Decimal("0.6")),
}


def test_cost_is_tokens_times_price_per_million_to_the_micro_dollar() -> None:
    cost = call_cost(PRICING, ["claude-sonnet-4-6"], 1_234, 567)
    # 1,234 × 3 / 1e6 + 567 × 15 / 1e6 = 0.003702 + 0.008505
    assert cost == (Decimal("0.012207"), None)


def test_a_dated_model_is_priced_by_the_alias_that_was_asked_for() -> None:
    cost = call_cost(PRICING, ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"], 1_000_000, 1_000_000)
    assert cost == (Decimal("0.750000"), None)


def test_an_unknown_model_costs_nothing_and_says_so() -> None:
    usd, warning = call_cost(PRICING, ["mystery-model-1", "mystery"], 10, 10)
    assert usd == 0
    assert (
        warning
        == "no price for model 'mystery-model-1' or 'mystery' in llm_pricing; its cost was recorded as 0"
    )


def test_no_tokens_no_cost_and_no_warning() -> None:
    assert call_cost({}, ["rules-1.0"], 0, 0) == (Decimal("0.000000"), None)
