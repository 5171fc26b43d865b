"""The rules extractor against the hand-written corpus: accuracy, honest confidence and exact spans."""

import pytest

from services.extraction.amounts import amount_mentioned, states_no_fee
from services.extraction.loan_terms import apr_stated, state_named, term_stated
from services.extraction.methods import method_supported_by
from services.extraction.rules import RulesExtractor

from .corpus_report import (
    REVIEW_THRESHOLD,
    CorpusCase,
    FieldOutcome,
    corpus_report,
    field_outcomes,
    load_corpus,
)

CASES = load_corpus()
EXTRACTOR = RulesExtractor()
OUTCOMES = field_outcomes(CASES, [EXTRACTOR.extract(case.text) for case in CASES])


def test_the_corpus_is_big_and_varied() -> None:
    assert len(CASES) >= 45
    assert {case.difficulty for case in CASES} == {"easy", "medium", "hard"}
    methods = {case.expected["refund_calculation_method"] for case in CASES}
    assert methods == {"Pro-Rata", "Rule of 78s", "Actuarial", "Short-Rate", "Unknown"}
    fees = [case.expected["cancellation_fee"] for case in CASES]
    assert None in fees
    assert "0.00" in fees
    # The loan terms: stated and not, a term in years, a governing-law clause naming another state.
    assert {case.expected["apr"] is None for case in CASES} == {True, False}
    assert None in [case.expected["term_months"] for case in CASES]
    assert any("term of five (5) years" in case.text for case in CASES)
    assert any("construed under the laws of the\nState of Georgia" in case.text for case in CASES)
    single_page = [case.name for case in CASES if "\f" not in case.text]
    assert len(single_page) <= 2, single_page


def test_overall_field_accuracy_is_at_least_90_percent() -> None:
    wrong = [outcome for outcome in OUTCOMES if not outcome.right]
    accuracy = 1 - len(wrong) / len(OUTCOMES)
    assert accuracy >= 0.90, _describe(wrong)


@pytest.mark.parametrize(
    "case", [case for case in CASES if case.difficulty == "easy"], ids=lambda case: case.name
)
def test_every_easy_contract_is_read_right(case: CorpusCase) -> None:
    wrong = [outcome for outcome in OUTCOMES if outcome.case is case and not outcome.right]
    assert not wrong, _describe(wrong)


def test_wrong_values_mostly_go_to_review() -> None:
    wrong = [outcome for outcome in OUTCOMES if not outcome.right]
    confident_and_wrong = [outcome for outcome in wrong if outcome.result.confidence >= REVIEW_THRESHOLD]
    assert len(confident_and_wrong) <= max(1, len(wrong) // 10), _describe(confident_and_wrong)


def test_right_values_mostly_skip_review() -> None:
    right = [outcome for outcome in OUTCOMES if outcome.right]
    doubted = [outcome for outcome in right if outcome.result.confidence < REVIEW_THRESHOLD]
    assert len(doubted) / len(right) <= 0.25


@pytest.mark.parametrize(
    "outcome", OUTCOMES, ids=lambda outcome: f"{outcome.case.name}:{outcome.result.name}"
)
def test_every_value_comes_with_an_exact_span_that_states_it(outcome: FieldOutcome) -> None:
    result, text = outcome.result, outcome.case.text
    if result.value is None or result.value == "Unknown":
        if result.source is not None:
            assert text[result.source.start : result.source.end] == result.source.quote
        return
    source = result.source
    assert source is not None
    assert source.alignment == "exact"
    assert text[source.start : source.end] == source.quote
    assert source.quote == source.quote.strip()
    assert len(source.quote) <= 300
    assert source.page == text.count("\f", 0, source.start) + 1
    if result.name == "refund_calculation_method":
        assert method_supported_by(source.quote, result.value)
    elif result.name == "term_months":
        assert term_stated(source.quote, result.value)
    elif result.name == "governing_state":
        assert state_named(source.quote, result.value)
    elif result.name == "apr":
        assert apr_stated(source.quote, result.value)
    elif result.value == 0 and result.name == "cancellation_fee":
        assert states_no_fee(source.quote) or amount_mentioned(source.quote, result.value)
    else:
        assert amount_mentioned(source.quote, result.value)


def _describe(outcomes: list[FieldOutcome]) -> str:
    return "\n".join(
        f"{outcome.case.name} {outcome.result.name}: got {outcome.got} want {outcome.expected} "
        f"(confidence {outcome.result.confidence})"
        for outcome in outcomes
    )


def test_the_corpus_report_gives_the_figures_the_product_needs() -> None:
    report = corpus_report(repeats=1)
    assert set(report.field_accuracy) == {
        "gap_insurance_premium",
        "refund_calculation_method",
        "cancellation_fee",
        "term_months",
        "governing_state",
        "apr",
    }
    assert report.overall_accuracy >= 0.90
    assert report.right_below_threshold <= 0.25
    assert report.docs_per_second > 0
    assert any("docs/s" in line for line in report.lines())
    # Stated against observed per field: every field's values fall in the buckets, the means agree.
    for name, rows in report.stated_vs_observed.items():
        assert sum(row.count for row in rows) == report.documents
        right = sum(row.count - row.errors for row in rows)
        assert right / report.documents == report.field_accuracy[name]
        assert any(line.startswith(f"stated vs observed {name}: mean stated") for line in report.lines())
