"""What an LLM call cost, from the prices in ``system_config.llm_pricing`` (USD per million tokens).

Vendors answer with a dated model name ("claude-sonnet-4-5-20250929") while the configuration names the
alias that was asked for ("claude-sonnet-4-5"), so both are looked up, the answered one first. A model
without a price costs 0 and says so: a missing price must be visible, not silently guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from services.system_settings import ModelPrice

# cost_usd is numeric(12,6): one millionth of a dollar.
MICRO_USD = Decimal("0.000001")
_PER_MILLION = Decimal(1_000_000)


class Cost(NamedTuple):
    usd: Decimal
    warning: str | None


def call_cost(
    pricing: Mapping[str, ModelPrice], models: Sequence[str], prompt_tokens: int, completion_tokens: int
) -> Cost:
    """The cost of a call billed for these tokens under the first of ``models`` that has a price."""
    if prompt_tokens == 0 and completion_tokens == 0:
        return Cost(Decimal("0.000000"), None)
    price = next((pricing[model] for model in models if model in pricing), None)
    if price is None:
        named = " or ".join(repr(model) for model in dict.fromkeys(models))
        return Cost(
            Decimal("0.000000"),
            f"no price for model {named} in llm_pricing; its cost was recorded as 0",
        )
    usd = (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / _PER_MILLION
    return Cost(usd.quantize(MICRO_USD, rounding=ROUND_HALF_UP), None)
