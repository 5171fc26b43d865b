"""The synthetic contracts are reproducible, unique, plausible, and say what their ground truth says.

The checks on the text use their own patterns (not the generator's clause lists), so a new clause
variant that names a second refund method, or hints at a fee in a contract whose truth says "no
statement", fails here instead of silently poisoning accuracy metrics.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from synthetic.contracts import (
    COMPACT_ROW_COLUMNS,
    REFUND_METHODS,
    SyntheticContract,
    VehicleInfo,
    amount_in_words,
    check_digit,
    generate_compact_rows,
    generate_contract,
    generate_contracts,
    is_valid_vin,
)
from synthetic.contracts.vin import make_vin, vin_prefix

ROOT = Path(__file__).resolve().parents[2]

# -- an independent reading of the texts ---------------------------------------------------------------

_TRANSLIT = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

METHOD_PATTERNS = {
    "Pro-Rata": re.compile(r"pro[ -]?rata|prorated|in proportion to"),
    "Rule of 78s": re.compile(r"rule of 78|sum[- ]of[- ]the[- ]digits|78ths"),
    "Actuarial": re.compile(r"actuarial"),
    "Short-Rate": re.compile(r"short[- ]rate"),
}
# The premium's own name ("Debt Cancellation Fee") and the claims fee are not cancellation fees.
NOT_A_CANCELLATION_FEE = re.compile(r"debt ?cancellation (?:fee|charge)|claims? processing fee")
CANCELLATION_FEE = re.compile(r"(?:cancel\w*|administrative|refund processing) (?:fee|charge)")
NO_FEE = re.compile(
    r"no (?:cancellation |administrative )?(?:or (?:cancellation|administrative) )?fee"
    r"|without any fee|will not charge (?:a|any) (?:cancellation|administrative)"
)


def independent_check_digit(vin: str) -> str:
    total = sum((int(c) if c.isdigit() else _TRANSLIT[c]) * w for c, w in zip(vin, _WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def normalize(text: str) -> str:
    """What a fuzzy aligner sees: OCR hyphenation undone, whitespace collapsed, case folded."""
    return re.sub(r"\s+", " ", text.replace("-\n", "")).lower()


def assert_states_truth(text: str, premium: Decimal, method: str, fee: Decimal | None) -> None:
    plain = normalize(text)
    digits = f"${premium:,.2f}"
    words = amount_in_words(premium).lower()
    assert digits in plain or words in plain, f"premium {premium} not stated"

    named = {name for name, pattern in METHOD_PATTERNS.items() if pattern.search(plain)}
    assert named == (set() if method == "Unknown" else {method}), f"truth {method}, text names {named}"

    fee_text = NOT_A_CANCELLATION_FEE.sub("", plain)
    says_fee = [m.start() for m in CANCELLATION_FEE.finditer(fee_text)]
    says_no_fee = NO_FEE.search(fee_text) is not None
    if fee is None:
        assert not says_fee, "a fee is mentioned but the truth says the contract is silent"
        assert not says_no_fee, "'no fee' is stated but the truth says the contract is silent"
    elif fee == 0:
        assert says_no_fee, "the truth says no fee but the text never says so"
    else:
        assert not says_no_fee
        amount = re.compile(rf"\${int(fee)}(?:\.00)?\b")
        assert any(amount.search(fee_text, max(0, at - 150), at + 150) for at in says_fee), (
            f"the {fee} fee is not stated next to a fee"
        )


@cache
def demo(count: int = 400, seed: int = 0) -> tuple[SyntheticContract, ...]:
    return tuple(generate_contracts(count, seed=seed))


@cache
def compact_rows(count: int = 10_000) -> tuple[tuple, ...]:
    return tuple(generate_compact_rows(count))


# -- reproducibility -------------------------------------------------------------------------------------


@pytest.mark.parametrize("compact", [False, True])
def test_same_inputs_give_the_same_contract(compact: bool) -> None:
    for seq in (1, 2, 977, 123_456):
        assert generate_contract(seq, seed=7, compact=compact) == generate_contract(
            seq, seed=7, compact=compact
        )
    assert generate_contract(5, seed=1, compact=compact) != generate_contract(5, seed=2, compact=compact)


def test_the_result_does_not_depend_on_the_global_random_state() -> None:
    import random

    random.seed(1)
    first = generate_contract(42)
    random.seed(2)
    assert generate_contract(42) == first


def test_a_contract_does_not_depend_on_where_the_batch_starts() -> None:
    assert list(generate_contracts(4, start=10, seed=3)) == [
        generate_contract(s, seed=3) for s in range(10, 14)
    ]
    rows = list(generate_compact_rows(5, start=20, seed=3))
    assert rows[2:] == list(generate_compact_rows(3, start=22, seed=3))


def test_compact_rows_are_the_compact_contracts() -> None:
    for seq, row in enumerate(generate_compact_rows(30, start=500, seed=9), start=500):
        contract = generate_contract(seq, seed=9, compact=True)
        values = dict(zip(COMPACT_ROW_COLUMNS, row, strict=True))
        assert values["contract_id"] == contract.contract_id
        assert values["account_number"] == contract.account_number
        assert values["customer_name"] == contract.customer_name
        assert values["contract_type"] == contract.contract_type
        assert values["contract_date"] == contract.contract_date
        assert VehicleInfo.model_validate(json.loads(values["vehicle_info"])) == contract.vehicle_info
        assert values["document_text"] == contract.document_text
        assert values["gap_insurance_premium"] == contract.truth.gap_insurance_premium
        assert values["refund_calculation_method"] == contract.truth.refund_calculation_method
        assert values["cancellation_fee"] == contract.truth.cancellation_fee


def test_both_modes_describe_the_same_contract() -> None:
    for seq in range(1, 40):
        full, compact = generate_contract(seq), generate_contract(seq, compact=True)
        assert full.model_dump(exclude={"document_text"}) == compact.model_dump(exclude={"document_text"})


# -- identity ---------------------------------------------------------------------------------------------


def test_ids_and_account_numbers_are_unique_and_well_formed() -> None:
    rows = compact_rows()
    ids = [row[0] for row in rows]
    accounts = [row[1] for row in rows]
    assert len(set(ids)) == len(ids) == 10_000
    assert len(set(accounts)) == len(accounts)
    assert all(re.fullmatch(r"GAP-20(22|23|24|25)-\d{6}", i) for i in ids)
    assert all(re.fullmatch(r"[1-9]\d{9,11}", a) for a in accounts)
    assert {len(a) for a in accounts} == {10, 11, 12}
    assert all(re.fullmatch(r"Customer #\d{5,6}", row[2]) for row in rows)
    assert len({row[2] for row in rows}) == len(rows)


def test_contract_ids_stay_unique_across_million_blocks() -> None:
    seqs = [low + block * 1_000_000 for low in (0, 1, 4242, 999_999) for block in range(4)]
    ids = [next(generate_compact_rows(1, start=seq))[0] for seq in seqs]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"GAP-\d{4}-\d{6}", i) for i in ids)
    assert re.fullmatch(r"GAP-\d{4}-4000000", next(generate_compact_rows(1, start=4_000_000))[0])


def test_contract_id_year_is_the_contract_year_and_dates_are_plausible() -> None:
    for row in compact_rows()[:3000]:
        contract_id, contract_date, vehicle = row[0], row[4], json.loads(row[5])
        assert contract_id[4:8] == str(contract_date.year)
        assert 2022 <= contract_date.year <= 2025
        assert vehicle["year"] <= contract_date.year + 1
        if vehicle["new_or_used"] == "new":
            assert contract_date.year - 1 <= vehicle["year"]
            assert vehicle["mileage"] < 500
        else:
            assert contract_date.year - vehicle["year"] <= 10


# -- VINs -------------------------------------------------------------------------------------------------


def test_check_digit_matches_the_standard() -> None:
    assert is_valid_vin("1M8GDM9AXKP042788")  # the worked example of 49 CFR 565
    assert is_valid_vin("11111111111111111")
    assert not is_valid_vin("1M8GDM9A1KP042788")
    assert not is_valid_vin("1M8GDM9AXKP04278")
    assert not is_valid_vin("1O8GDM9AXKP042788")
    assert check_digit("1M8GDM9A_KP042788".replace("_", "0")) == "X"


def test_generated_vins_are_valid_and_match_the_vehicle() -> None:
    year_codes = "ABCDEFGHJKLMNPRSTVWXY123456789"
    wmis_by_make: dict[str, set[str]] = {}
    for row in compact_rows():
        vehicle = json.loads(row[5])
        vin = vehicle["vin"]
        assert len(vin) == 17
        assert not set(vin) & set("IOQ")
        assert vin[8] == independent_check_digit(vin), vin
        assert is_valid_vin(vin)
        assert vin[9] == year_codes[vehicle["year"] - 2010]
        wmis_by_make.setdefault(vehicle["make"], set()).add(vin[:3])
    assert wmis_by_make["Toyota"].isdisjoint(wmis_by_make["Ford"])
    assert all(wmi.startswith(("1F", "2F", "3F")) for wmi in wmis_by_make["Ford"])


def test_fast_vins_equal_the_reference_assembly() -> None:
    """The compact path adds precomputed partial sums; the readable ``make_vin`` must agree with it."""
    for row in compact_rows()[:2000]:
        v = json.loads(row[5])
        prefix = vin_prefix(v["vin"][:3], v["make"], v["model"], v["trim"])
        assert make_vin(prefix, v["year"], v["vin"][10], int(v["vin"][11:])) == v["vin"]


# -- ground truth -----------------------------------------------------------------------------------------


def test_truth_values_are_plausible() -> None:
    methods: Counter[str] = Counter()
    fees: Counter[Decimal | None] = Counter()
    for row in compact_rows():
        premium, method, fee = row[7], row[8], row[9]
        assert Decimal("395.00") <= premium <= Decimal("1995.00")
        assert premium.as_tuple().exponent == -2
        assert fee is None or (
            fee in {Decimal(v) for v in (0, 25, 50, 75, 100)} and fee.as_tuple().exponent == -2
        )
        methods[method] += 1
        fees[fee] += 1
    assert set(methods) == set(REFUND_METHODS)
    assert methods.most_common(1)[0][0] == "Pro-Rata"
    assert 0.03 < methods["Unknown"] / 10_000 < 0.08
    assert fees[None] > 1000
    assert fees[Decimal("0.00")] > 1000


def test_amounts_in_words() -> None:
    assert amount_in_words(Decimal("750.00")) == "Seven Hundred Fifty and 00/100 Dollars"
    assert amount_in_words(Decimal("1250.00")) == "One Thousand Two Hundred Fifty and 00/100 Dollars"
    assert amount_in_words(Decimal("1995.00")) == "One Thousand Nine Hundred Ninety-Five and 00/100 Dollars"
    assert amount_in_words(Decimal("1087.50")) == "One Thousand Eighty-Seven and 50/100 Dollars"
    assert amount_in_words(Decimal("413.09")) == "Four Hundred Thirteen and 09/100 Dollars"


def test_full_documents_state_their_truth() -> None:
    for contract in demo():
        truth = contract.truth
        assert truth.gap_insurance_premium is not None
        assert_states_truth(
            contract.document_text,
            truth.gap_insurance_premium,
            truth.refund_calculation_method,
            truth.cancellation_fee,
        )


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_every_difficulty_states_the_same_truth(difficulty: str) -> None:
    for seq in range(1000, 1120):
        contract = generate_contract(seq, seed=5, difficulty=difficulty)
        assert contract.difficulty == difficulty
        assert contract.truth == generate_contract(seq, seed=5).truth
        truth = contract.truth
        assert truth.gap_insurance_premium is not None
        assert_states_truth(
            contract.document_text,
            truth.gap_insurance_premium,
            truth.refund_calculation_method,
            truth.cancellation_fee,
        )


def test_compact_documents_state_their_truth() -> None:
    for row in compact_rows()[:4000]:
        assert_states_truth(row[6], row[7], row[8], row[9])
    for seq in range(1, 200):
        contract = generate_contract(seq, compact=True, difficulty="hard")
        truth = contract.truth
        assert truth.gap_insurance_premium is not None
        assert_states_truth(
            contract.document_text,
            truth.gap_insurance_premium,
            truth.refund_calculation_method,
            truth.cancellation_fee,
        )


# -- shape of the documents -------------------------------------------------------------------------------


def test_full_documents_have_three_to_six_numbered_pages() -> None:
    page_counts: Counter[int] = Counter()
    for contract in demo():
        text = contract.document_text
        pages = text.split("\f")
        page_counts[len(pages)] += 1
        assert 3 <= len(pages) <= 6
        assert 5_000 <= len(text) <= 16_000
        for number, page in enumerate(pages, start=1):
            assert f"Page {number} of {len(pages)}" in page.splitlines()[-1]
        assert contract.vehicle_info.vin in text
        assert contract.contract_id in text
        assert contract.customer_name in text
    assert len(page_counts) >= 3


def test_compact_documents_are_one_short_page() -> None:
    lengths = [len(row[6]) for row in compact_rows()]
    assert all("\f" not in row[6] for row in compact_rows())
    assert min(lengths) >= 650
    assert max(lengths) <= 1200
    for row in compact_rows()[:500]:
        vehicle = json.loads(row[5])
        assert vehicle["vin"] in row[6] and vehicle["make"] in row[6] and vehicle["model"] in row[6]


def test_compact_documents_vary_enough_for_full_text_search() -> None:
    first_lines = Counter(row[6].split("\n", 1)[0] for row in compact_rows())
    assert len(first_lines) >= 5
    makes = Counter(json.loads(row[5])["make"] for row in compact_rows())
    assert len(makes) >= 15 and max(makes.values()) < 0.25 * 10_000


def test_difficulty_mix_of_a_demo_portfolio() -> None:
    mix = Counter(c.difficulty for c in generate_contracts(1000, seed=11))
    assert 0.50 <= mix["easy"] / 1000 <= 0.60
    assert 0.25 <= mix["medium"] / 1000 <= 0.35
    assert 0.11 <= mix["hard"] / 1000 <= 0.19


def test_hard_documents_are_noisy_and_easy_ones_are_clean() -> None:
    hard = [c.document_text for c in demo() if c.difficulty == "hard"]
    easy = [c.document_text for c in demo() if c.difficulty == "easy"]
    assert sum(bool(re.search(r"[a-z]-\n[a-z]", t)) for t in hard) > len(hard) / 2
    assert sum(bool(re.search(r"\bS\d", t)) for t in hard) > len(hard) / 2
    assert sum("  " in re.sub(r"^.*(\.{3}|_{3}|\|).*$", "", t, flags=re.M) for t in hard) > len(hard) / 2
    assert not any(re.search(r"[a-z]-\n[a-z]", t) or re.search(r"\bS\d", t) for t in easy)


# -- contract of the API ----------------------------------------------------------------------------------


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="difficulty"):
        generate_contract(1, difficulty="impossible")
    with pytest.raises(ValueError, match="sequence"):
        generate_contract(-1)


def test_the_generator_depends_on_nothing_but_stdlib_and_pydantic() -> None:
    code = (
        "import sys, synthetic.contracts\n"
        "banned = ('textual', 'sqlalchemy', 'db', 'app', 'widgets', 'services', 'synthetic.seeding')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned or m.startswith(banned[-1])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
