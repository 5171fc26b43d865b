"""The answer schema and its strict reader: exactly the schema's shape, or a MalformedAnswer."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.extraction.prompt import EXTRACTION_SCHEMA, parse_answer
from services.extraction.providers.base import MAX_ANSWER_BYTES, MalformedAnswer, Usage
from services.extraction.types import FIELD_NAMES, REFUND_METHODS
from tests.extraction.providers.fakes import answer

USAGE = Usage(model_version="m", prompt_tokens=1, completion_tokens=1)


def test_the_schema_is_closed_and_names_every_field() -> None:
    assert EXTRACTION_SCHEMA["required"] == list(FIELD_NAMES)
    assert EXTRACTION_SCHEMA["additionalProperties"] is False
    for name in FIELD_NAMES:
        field = EXTRACTION_SCHEMA["properties"][name]
        assert field["required"] == ["value", "quote", "confidence"]
        assert field["additionalProperties"] is False
    assert EXTRACTION_SCHEMA["properties"]["refund_calculation_method"]["properties"]["value"][
        "enum"
    ] == list(REFUND_METHODS)


def test_json_text_and_decoded_objects_read_alike() -> None:
    from_text, size = parse_answer("openai", json.dumps(answer()), USAGE)
    from_object, _ = parse_answer("anthropic", answer(), USAGE)
    assert from_text == from_object
    assert size == len(json.dumps(answer()))
    assert [candidate.name for candidate in from_text] == list(FIELD_NAMES)


def test_nulls_are_allowed_where_the_contract_says_nothing() -> None:
    (premium, _, fee, _, _, apr), _ = parse_answer("openai", answer(fee=(None, None, 70)), USAGE)
    assert (fee.value, fee.quote, fee.confidence) == (None, None, 70)
    assert (apr.value, apr.quote) == (None, None)
    assert premium.value == "1250.00"


def test_an_answer_over_the_cap_is_refused_before_parsing() -> None:
    huge = b"[" + b"1," * (MAX_ANSWER_BYTES // 2) + b"1]"
    try:
        parse_answer("openai", huge, USAGE)
    except MalformedAnswer as error:
        assert "more than the 262,144" in error.message
        assert error.usage == USAGE
    else:
        raise AssertionError("an oversized answer was accepted")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=30), inner, max_size=4),
    max_leaves=20,
)


@given(st.one_of(_json, st.text(max_size=200), st.binary(max_size=200)))
def test_arbitrary_input_is_read_or_refused_never_crashes(payload: Any) -> None:
    with contextlib.suppress(MalformedAnswer):
        parse_answer("anthropic", payload, USAGE)


@given(st.data())
def test_every_accepted_answer_has_well_typed_fields(data: st.DataObject) -> None:
    broken = answer()
    field = data.draw(st.sampled_from(FIELD_NAMES))
    key = data.draw(st.sampled_from(["value", "quote", "confidence"]))
    broken[field][key] = data.draw(_json)
    try:
        candidates, _ = parse_answer("openai", json.dumps(broken), USAGE)
    except MalformedAnswer:
        return
    for candidate in candidates:
        assert candidate.value is None or isinstance(candidate.value, str)
        assert candidate.quote is None or isinstance(candidate.quote, str)
        assert 0 <= candidate.confidence <= 100
