"""Choosing a provider by name, with the model ``system_config`` names for it.

Vendor SDKs are imported only when their provider is asked for: importing all three costs about a second
of start-up that the offline default never needs.
"""

from __future__ import annotations

from typing import cast

from services.domain import PROVIDER_NAMES, ProviderName
from services.errors import InvalidInput
from services.extraction.providers.base import LLMProvider
from services.extraction.rules import RulesExtractor
from services.settings import Settings, load_settings
from services.system_settings import SystemSettings


def check_provider_name(name: str) -> ProviderName:
    if name not in PROVIDER_NAMES:
        raise InvalidInput(
            f"There is no provider called {name!r}; choose one of {', '.join(PROVIDER_NAMES)}."
        )
    return cast(ProviderName, name)


def model_for(name: ProviderName, settings: SystemSettings) -> str:
    """The model a provider is configured to use (the rules extractor's version for ``rules``)."""
    if name == "anthropic":
        return settings.anthropic_model
    if name == "bedrock":
        return settings.bedrock_model_id
    if name == "openai":
        return settings.openai_model
    return RulesExtractor.model_version


def get_provider(name: str, settings: SystemSettings, process: Settings | None = None) -> LLMProvider:
    """A new LLM provider with its own HTTP client: use it for a batch or a conversation, then ``aclose`` it.

    The model comes from ``system_config`` (``settings``), keys and region from the process settings
    (``process``, read from the environment and ``.env`` when not given). Raises ProviderNotConfigured (with
    the sentence to show) when its key, region or package is missing, and InvalidInput for ``rules`` or an
    unknown name: the rules extractor is not a chat partner.
    """
    provider = check_provider_name(name)
    model = model_for(provider, settings)
    if provider == "rules":
        raise InvalidInput("The rules extractor is not an LLM; choose anthropic, bedrock or openai.")
    keys = process or load_settings()
    if provider == "anthropic":
        from services.extraction.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(model, keys.anthropic_api_key)
    if provider == "bedrock":
        from services.extraction.providers.bedrock_provider import BedrockProvider

        return BedrockProvider(model, keys.aws_region, keys.bedrock_endpoint_url)
    from services.extraction.providers.openai_provider import OpenAIProvider

    return OpenAIProvider(model, keys.openai_api_key)
