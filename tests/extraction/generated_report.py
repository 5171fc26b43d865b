"""How good the rules extractor is on contracts it was not written against: the synthetic generator's.

The hand-written corpus was written alongside the rules, so a perfect score there says little about a contract
worded differently. ``synthetic.contracts`` was written by someone else, for other purposes: its contracts are
a second, independent yardstick. Develop against one seed and judge on another that was never looked at, or
the rules learn the generator instead of contracts.

The figures are the corpus report's (accuracy, wrong and right fields below the review threshold, CPU-time
throughput), plus each miss with the sentence around the true value, grouped by difficulty.

Run it from the repository root: ``python -m tests.extraction.generated_report [count] [seed] [--misses]``.
"""

import re
import sys
import time
from collections import Counter
from dataclasses import dataclass

from services.extraction.amounts import find_amounts
from services.extraction.rules import RulesExtractor
from services.extraction.types import FIELD_NAMES, FieldName
from synthetic.contracts import SyntheticContract, generate_contracts

from .corpus_report import REVIEW_THRESHOLD, CorpusCase, FieldOutcome, field_outcomes, mean_kb, share

_CONTEXT_CHARS = 120
_METHOD_WORDS = re.compile(r"pro[\s-]?rata|rule\s+of\s+78|actuarial|short[\s-]?rate", re.IGNORECASE)


@dataclass(frozen=True)
class GeneratedReport:
    seed: int
    documents: int
    mean_document_kb: float
    field_accuracy: dict[FieldName, float]
    wrong_fields: int
    wrong_below_threshold: float | None
    right_below_threshold: float
    docs_per_second: float
    misses: list[FieldOutcome]

    def lines(self, *, show_misses: bool = True) -> list[str]:
        wrong_share = (
            "n/a (no wrong field)"
            if self.wrong_below_threshold is None
            else f"{self.wrong_below_threshold:.3f}"
        )
        lines = [
            f"seed {self.seed}: {self.documents} generated contracts (mean {self.mean_document_kb:.1f} KB)",
            *(f"accuracy {name}: {accuracy:.3f}" for name, accuracy in self.field_accuracy.items()),
            f"wrong fields: {self.wrong_fields}",
            f"wrong fields with confidence < {REVIEW_THRESHOLD}: {wrong_share}",
            f"right fields with confidence < {REVIEW_THRESHOLD}: {self.right_below_threshold:.3f}",
            f"throughput: {self.docs_per_second:.0f} docs/s (CPU time, one core)",
        ]
        counts = Counter((miss.case.difficulty, miss.result.name) for miss in self.misses)
        lines += [
            f"misses {difficulty} {name}: {count}" for (difficulty, name), count in sorted(counts.items())
        ]
        if show_misses:
            for difficulty in ("easy", "medium", "hard"):
                for miss in (miss for miss in self.misses if miss.case.difficulty == difficulty):
                    lines += ["", *describe_miss(miss)]
        return lines


def as_case(contract: SyntheticContract) -> CorpusCase:
    """A generated contract in the corpus' terms, so that both reports score fields the same way."""
    truth = contract.truth
    expected: dict[FieldName, str | None] = {
        "gap_insurance_premium": _text(truth.gap_insurance_premium),
        "refund_calculation_method": truth.refund_calculation_method,
        "cancellation_fee": _text(truth.cancellation_fee),
        "term_months": None if truth.term_months is None else str(truth.term_months),
        "governing_state": truth.governing_state,
        "apr": _text(truth.apr),
    }
    return CorpusCase(contract.contract_id, contract.document_text, expected, contract.difficulty)


def generated_report(count: int = 1000, seed: int = 42) -> GeneratedReport:
    cases = [as_case(contract) for contract in generate_contracts(count, seed=seed)]
    extractor = RulesExtractor()
    started = time.process_time()
    results = [extractor.extract(case.text) for case in cases]
    elapsed = max(time.process_time() - started, 1e-9)
    outcomes = field_outcomes(cases, results)
    wrong = [outcome for outcome in outcomes if not outcome.right]
    right = [outcome for outcome in outcomes if outcome.right]
    return GeneratedReport(
        seed=seed,
        documents=len(cases),
        mean_document_kb=mean_kb([case.text for case in cases]),
        field_accuracy={
            name: share([outcome.right for outcome in outcomes if outcome.result.name == name])
            for name in FIELD_NAMES
        },
        wrong_fields=len(wrong),
        wrong_below_threshold=(
            share([outcome.result.confidence < REVIEW_THRESHOLD for outcome in wrong]) if wrong else None
        ),
        right_below_threshold=share([outcome.result.confidence < REVIEW_THRESHOLD for outcome in right]),
        docs_per_second=len(cases) / elapsed,
        misses=wrong,
    )


def describe_miss(miss: FieldOutcome) -> list[str]:
    """The miss, what the extractor quoted, and where the contract states the true value."""
    result = miss.result
    quote = "-" if result.source is None else _one_line(result.source.quote)
    lines = [
        f"[{miss.case.difficulty}] {miss.case.name} {result.name}: expected {miss.expected}, "
        f"got {miss.got} (confidence {result.confidence})",
        f"    quoted: {quote}",
    ]
    lines += [f"    truth:  {_one_line(context)}" for context in _contexts_of_truth(miss)]
    return lines


def _contexts_of_truth(miss: FieldOutcome) -> list[str]:
    text, expected = miss.case.text, miss.expected
    if expected is None:
        return []
    if miss.result.name == "refund_calculation_method":
        spans = [match.span() for match in _METHOD_WORDS.finditer(text)]
    else:
        spans = [(found.start, found.end) for found in find_amounts(text) if str(found.value) == expected]
    return [text[max(0, start - _CONTEXT_CHARS) : end + _CONTEXT_CHARS] for start, end in spans[:3]]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    report = generated_report(*(int(argument) for argument in arguments))
    print("\n".join(report.lines(show_misses="--misses" in sys.argv)))
