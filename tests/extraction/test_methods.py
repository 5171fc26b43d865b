"""Refund-method wording: what a contract says, what a person types, and what a quote supports."""

import pytest

from services.extraction.methods import canonical_method, find_method_mentions, method_supported_by


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("refunded on a pro rata basis", "Pro-Rata"),
        ("refunded pro-rata", "Pro-Rata"),
        ("the unearned fee will be prorated", "Pro-Rata"),
        ("multiplied by the ratio of days remaining in the term", "Pro-Rata"),
        ("the unearned portion in proportion to the days remaining", "Pro-Rata"),
        ("returned in proportion to the unexpired term", "Pro-Rata"),
        ("days remaining in the term divided by the total days in the term", "Pro-Rata"),
        ("calculated using the Rule of 78s", "Rule of 78s"),
        ("by the Rule of 78", "Rule of 78s"),
        ("by the Rule of Seventy-Eights", "Rule of 78s"),
        ("calculated by the 78ths method", "Rule of 78s"),
        ("computed by the sum of the digits method", "Rule of 78s"),
        ("using the sum-of-the-months-digits method", "Rule of 78s"),
        ("computed by the actuarial method", "Actuarial"),
        ("refunded under the constant yield method", "Actuarial"),
        ("according to the short-rate table", "Short-Rate"),
        ("USING THE SHORT RATE METHOD", "Short-Rate"),
    ],
)
def test_contract_wording_maps_to_the_canonical_method(text: str, method: str) -> None:
    assert [mention.method for mention in find_method_mentions(text)] == [method]


@pytest.mark.parametrize(
    "text",
    [
        "Your loan is a simple interest loan.",
        "The charge was set using actuarial tables of expected losses.",
        "refunded as provided by applicable law",
    ],
)
def test_wording_that_names_no_refund_method(text: str) -> None:
    assert find_method_mentions(text) == []


def test_negated_wording_is_flagged() -> None:
    mentions = find_method_mentions(
        "The refund is not calculated on a pro rata basis. It is calculated using the Rule of 78s."
    )
    assert [(mention.method, mention.negated) for mention in mentions] == [
        ("Pro-Rata", True),
        ("Rule of 78s", False),
    ]


def test_paraphrases_are_flagged() -> None:
    [explicit] = find_method_mentions("pro rata")
    [paraphrase] = find_method_mentions("ratio of days remaining")
    assert not explicit.paraphrase
    assert paraphrase.paraphrase


@pytest.mark.parametrize(
    ("typed", "method"),
    [
        ("pro rata", "Pro-Rata"),
        ("PRO-RATA", "Pro-Rata"),
        ("prorated", "Pro-Rata"),
        ("78", "Rule of 78s"),
        ("rule of 78s", "Rule of 78s"),
        ("Rule of 78's", "Rule of 78s"),
        ("actuarial", "Actuarial"),
        ("short rate", "Short-Rate"),
        ("Short-Rate", "Short-Rate"),
        ("unknown", "Unknown"),
        ("  Sum of the digits ", "Rule of 78s"),
    ],
)
def test_canonical_method_accepts_aliases(typed: str, method: str) -> None:
    assert canonical_method(typed) == method


@pytest.mark.parametrize("typed", ["", "simple interest", "daily", "pro rata or rule of 78s", "banana"])
def test_canonical_method_refuses_what_names_no_single_method(typed: str) -> None:
    assert canonical_method(typed) is None


def test_method_supported_by_reads_the_quote_itself() -> None:
    quote = "the unearned charge will be refunded on a pro-\nrata basis"
    assert method_supported_by(quote, "Pro-Rata")
    assert not method_supported_by(quote, "Rule of 78s")
    assert not method_supported_by("not calculated pro rata", "Pro-Rata")
    assert method_supported_by("refunds as provided by law", "Unknown")
    assert not method_supported_by(quote, "Unknown")
