"""Extraction of the three refund fields from contract text, and the grounding that makes values traceable.

Pure Python (stdlib and pydantic): the offline ``rules`` provider and the grounding step must run without a
database or a network so that they can stand in whenever an LLM provider is unavailable.
"""
