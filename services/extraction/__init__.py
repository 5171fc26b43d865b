"""Extraction of the three refund fields from contract text, and the grounding that makes values traceable.

The offline ``rules`` provider and the grounding step are plain Python with no database or network, so
they can stand in whenever an LLM provider is unavailable. The engine adds the LLM providers (their SDKs
are imported only when used) and reads its limits and prices from ``system_config``.
"""
