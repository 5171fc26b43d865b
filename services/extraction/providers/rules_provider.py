"""The offline ``rules`` provider: the default, and the stand-in whenever an LLM provider fails.

Its results are grounded by construction (every span is cut from the document it read), so the engine
stores them as they are instead of grounding them again: re-aligning a quote would find its *first*
occurrence, which may be the worked example the extractor deliberately skipped.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Literal

from services.extraction.rules import RulesExtractor
from services.extraction.types import ExtractionResult

# Below this a document takes a few milliseconds and a thread hop would cost more than it saves; above it
# the reading runs in a thread so that a workstation's screen keeps responding.
_INLINE_MAX_CHARS = 200_000


class RulesProvider:
    name: ClassVar[Literal["rules"]] = "rules"

    def __init__(self) -> None:
        self._extractor = RulesExtractor()

    @property
    def model(self) -> str:
        return self._extractor.model_version

    async def extract(self, document_text: str) -> ExtractionResult:
        if len(document_text) <= _INLINE_MAX_CHARS:
            return self._extractor.extract(document_text)
        return await asyncio.to_thread(self._extractor.extract, document_text)
