"""Tests of the extraction service: amounts, methods, locating, grounding and the rules extractor."""
