"""Deterministic synthetic GAP contracts with their ground truth.

Three consumers with opposite needs share this module:

* the demo (``refund-review seed --demo``) needs a few hundred *full*
  contracts a person will read on screen: 3–6 pages, many ways of stating
  each field, distractor amounts, and OCR-style noise in the hard ones, so
  that the extractor and the reviewers have real work to do;
* the scale seeder loads a million contracts by COPY, so the *compact* mode
  is a one-page text built from precomputed pieces with no pydantic in the
  hot path (:func:`generate_compact_rows`);
* the ingestion benchmark writes N text files (either mode).

Every contract is a pure function of ``(seq, seed, compact)``: randomness comes
from a splitmix64 mix of the seed and the sequence number (never the global
``random`` state, never Python's salted ``hash``), so a seeded database, a
failing test and a benchmark can be reproduced on another machine.

Both modes share one *identity* per ``(seq, seed)``: ids, date, parties,
vehicle and the three ground-truth values. The full document for a sequence
number therefore describes the same contract as its compact page; only the
wording differs.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict

from services.synthetic import vocabulary as vocab
from services.synthetic.vin import (
    CHECK_CHARS,
    SERIAL_HIGH_SUMS,
    SERIAL_LOW_SUMS,
    plant_part,
    vin_prefix,
    year_part,
)

REFUND_METHODS: tuple[str, ...] = ("Pro-Rata", "Rule of 78s", "Actuarial", "Short-Rate", "Unknown")
CONTRACT_TYPES: tuple[str, ...] = ("retail_installment", "lease", "balloon", "refinance")
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
CONTRACT_YEARS: tuple[int, ...] = (2022, 2023, 2024, 2025)

COMPACT_ROW_COLUMNS: tuple[str, ...] = (
    "contract_id",
    "account_number",
    "customer_name",
    "contract_type",
    "contract_date",
    "vehicle_info",
    "document_text",
    "gap_insurance_premium",
    "refund_calculation_method",
    "cancellation_fee",
)
"""Names of the fields of a compact row, in order (the last three are the ground truth)."""

CompactRow = tuple[str, str, str, str, date, str, str, Decimal, str, Decimal | None]
"""A compact contract as plain values, ready for ``COPY`` (``vehicle_info`` is a JSON string)."""


class VehicleInfo(BaseModel):
    """The financed vehicle, as the dealer system records it (stored as ``vehicle_info`` JSONB)."""

    model_config = ConfigDict(frozen=True)

    vin: str
    year: int
    make: str
    model: str
    trim: str | None
    color: str | None
    mileage: int
    new_or_used: Literal["new", "used"]


class ContractTruth(BaseModel):
    """What a perfect extractor returns for the contract; the yardstick for accuracy metrics."""

    model_config = ConfigDict(frozen=True)

    gap_insurance_premium: Decimal | None
    refund_calculation_method: str
    cancellation_fee: Decimal | None


class SyntheticContract(BaseModel):
    """One generated contract: the row the database stores plus the answer key."""

    model_config = ConfigDict(frozen=True)

    contract_id: str
    account_number: str
    customer_name: str
    contract_type: Literal["retail_installment", "lease", "balloon", "refinance"]
    contract_date: date
    vehicle_info: VehicleInfo
    document_text: str
    truth: ContractTruth
    difficulty: Literal["easy", "medium", "hard"]


# ---- amounts ---------------------------------------------------------------------------------------

_ONES = (
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen",
)  # fmt: skip
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "Hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(f"{_TENS[tens]}-{_ONES[ones]}" if ones else _TENS[tens])
    elif rest:
        words.append(_ONES[rest])
    return words


def dollars_in_words(dollars: int) -> str:
    """Whole dollars as a check writer spells them: 1250 -> "One Thousand Two Hundred Fifty"."""
    if not 0 <= dollars < 1_000_000:
        raise ValueError(f"amount out of range for words: {dollars}")
    if dollars == 0:
        return "Zero"
    thousands, rest = divmod(dollars, 1000)
    words = [*_below_thousand(thousands), "Thousand"] if thousands else []
    return " ".join(words + _below_thousand(rest))


def amount_in_words(amount: Decimal) -> str:
    """The legal-form spelling: ``Seven Hundred Fifty and 00/100 Dollars``."""
    cents = int((amount * 100).to_integral_value())
    return f"{dollars_in_words(cents // 100)} and {cents % 100:02d}/100 Dollars"


def _money(amount: Decimal | int | float) -> str:
    return f"${amount:,.2f}"


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


_T = TypeVar("_T")


# ---- weighted tables (indexed with a uniform draw; repetition encodes the weight) ----------------------


def _weighted(pairs: tuple[tuple[_T, int], ...]) -> tuple[_T, ...]:
    return tuple(value for value, weight in pairs for _ in range(weight))


_METHOD_TABLE = _weighted(
    (("Pro-Rata", 52), ("Rule of 78s", 20), ("Actuarial", 12), ("Short-Rate", 11), ("Unknown", 5))
)
_FEE_CENTS_TABLE: tuple[int | None, ...] = _weighted(
    ((None, 25), (0, 25), (2500, 10), (5000, 20), (7500, 12), (10000, 8))
)
_DIFFICULTY_TABLE = _weighted((("easy", 55), ("medium", 30), ("hard", 15)))
_TYPE_TABLE = _weighted((("retail_installment", 58), ("lease", 14), ("balloon", 10), ("refinance", 18)))
_NEW_SHARE = {"retail_installment": 55, "balloon": 50, "lease": 95, "refinance": 0}
_STATE_TABLE = _weighted(tuple((state, state.weight) for state in vocab.STATES))
_TERMS = {
    "lease": (24, 36, 36, 36, 39, 48),
    "balloon": (36, 48, 48, 60, 60, 72),
    "refinance": (36, 48, 60, 60, 72, 72),
    "retail_installment": (36, 48, 60, 60, 66, 72, 72, 72, 75, 84),
}
_MAX_BENEFITS = (25_000, 35_000, 50_000, 50_000, 50_000, 75_000, 100_000)
_DEPRECIATION = tuple(0.86**age for age in range(13))  # share of the new price a used vehicle is worth


def _premium_pool() -> tuple[int, ...]:
    """Premiums in cents: mostly dealer-style prices ($695, $895, $1,195), some odd amounts."""
    pairs: list[tuple[int, int]] = []
    for hundreds in range(3, 20):
        for ending, weight in ((95, 6), (0, 3), (50, 3), (45, 1), (25, 1), (75, 1), (99, 1), (49, 1)):
            dollars = hundreds * 100 + ending
            if 395 <= dollars <= 1995:
                pairs.append((dollars * 100, weight))
    odd = random.Random(7_919)
    pairs += [(odd.randrange(39_500, 199_500), 1) for _ in range(40)]
    return _weighted(tuple(pairs))


_PREMIUM_TABLE = _premium_pool()
_PREMIUM_DECIMALS = {cents: _cents(cents) for cents in set(_PREMIUM_TABLE)}
_PREMIUM_DIGITS = {cents: _money(amount) for cents, amount in _PREMIUM_DECIMALS.items()}
_PREMIUM_WORDS = {cents: amount_in_words(amount) for cents, amount in _PREMIUM_DECIMALS.items()}
_FEE_DECIMALS = {cents: _cents(cents) for cents in _FEE_CENTS_TABLE if cents is not None}


class _Day(NamedTuple):
    value: date
    short: str
    long: str


_DATES: tuple[tuple[_Day, ...], ...] = tuple(
    tuple(
        _Day(d, f"{d:%m/%d/%Y}", f"{d:%B} {d.day}, {d.year}")
        for d in (
            date(year, 1, 1) + timedelta(days=i)
            for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
        )
    )
    for year in CONTRACT_YEARS
)


class _Vehicle(NamedTuple):
    """A (make, model, model year) with everything the VIN needs precomputed."""

    make: str
    model: str
    year: int
    variants: tuple[tuple[str, str, int], ...]  # (trim, first 8 VIN characters, their weighted sum)
    tail: str  # model-year code and plant code (VIN positions 10 and 11)
    tail_sum: int
    msrp_cents: int


def _vehicle_tables() -> tuple[tuple[tuple[_Vehicle, ...], tuple[_Vehicle, ...]], ...]:
    """Per contract year: (used candidates, new candidates), weighted by make share and vehicle age.

    New vehicles are this, next or last model year; used ones mostly 2–6 years old. A model is only
    offered in the years it was really sold, so no 2019 Ford Maverick shows up.
    """
    new_ages = ((0, 7), (-1, 2), (1, 1))
    used_ages = ((0, 1), (1, 4), (2, 6), (3, 7), (4, 6), (5, 5), (6, 4), (7, 3), (8, 2), (9, 1), (10, 1))
    cache: dict[tuple[str, str, int], _Vehicle] = {}

    def vehicle(make: vocab.Make, model: vocab.Model, year: int) -> _Vehicle:
        key = (make.name, model.name, year)
        if key not in cache:
            variants = tuple(
                (trim, *vin_prefix(wmi, make.name, model.name, trim))
                for wmi in model.wmis
                for trim in model.trims
            )
            year_code, year_sum = year_part(year)
            plant_sum = plant_part(model.plant)[1]
            cache[key] = _Vehicle(
                make.name, model.name, year, variants, year_code + model.plant, year_sum + plant_sum,
                model.msrp * 100_000,
            )  # fmt: skip
        return cache[key]

    tables = []
    for contract_year in CONTRACT_YEARS:
        per_condition = []
        for ages in (used_ages, new_ages):
            pairs = []
            for make in vocab.MAKES:
                model_weight = max(1, round(make.weight * 6 / len(make.models)))
                for model in make.models:
                    for age, age_weight in ages:
                        year = contract_year - age
                        if model.first_year <= year <= model.last_year:
                            pairs.append((vehicle(make, model, year), model_weight * age_weight))
            per_condition.append(_weighted(tuple(pairs)))
        tables.append((per_condition[0], per_condition[1]))
    return tuple(tables)


_VEHICLES = _vehicle_tables()


# ---- deterministic randomness ------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_ACCOUNT_MULTIPLIER = 6_364_136_223  # odd and not a multiple of 5: seq -> account is a bijection mod 10**10
_CUSTOMER_MULTIPLIER = 823_543  # 7**7, coprime with 990_000: distinct customers over 990,000 consecutive seqs
_ID_BLOCK = 1_000_000
_ID_YEAR_CYCLES = 4_000_000  # below this, "GAP-<year>-<6 digits>" ids are unique (see _identity)


def _splitmix(x: int) -> int:
    """SplitMix64: a stateless, well-mixed 64-bit hash of an integer (Steele, Lea & Flood 2014)."""
    x = (x + _GOLDEN) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class _SeedKeys(NamedTuple):
    identity: int
    year: int
    text: int
    account_offset: int
    customer_offset: int


@functools.lru_cache(maxsize=64)
def _seed_keys(seed: int) -> _SeedKeys:
    """Independent keys per purpose, so that e.g. the wording of a full document never shifts its ids."""
    base = _splitmix(seed & _M64)
    keys = [_splitmix(base ^ purpose) for purpose in (0x1D, 0x1E, 0x7E, 0xAC, 0xC5)]
    return _SeedKeys(keys[0], keys[1], keys[2], keys[3] % 10**10, keys[4] % 990_000)


# ---- identity: everything both modes agree on -----------------------------------------------------------


class _Identity(NamedTuple):
    seq: int
    contract_id: str
    account_number: str
    customer_name: str
    contract_type: str
    day: _Day
    state: vocab.State
    city: str
    dealer: str
    lender: str
    vehicle: _Vehicle
    trim: str
    color: str
    vin: str
    mileage: int
    is_new: bool
    premium_cents: int
    method: str
    fee_cents: int | None
    difficulty: str
    term: int
    amount_financed_cents: int
    max_benefit: int
    admin_index: int
    spare: int  # 64 more random bits for the compact wording


def _contract_id(seq: int, keys: _SeedKeys) -> tuple[int, str]:
    """(year index, contract id) of a sequence number: the cheap part of an identity."""
    low = seq % _ID_BLOCK
    year_word = _splitmix(keys.year ^ low)
    if seq < _ID_YEAR_CYCLES:
        year_index = (year_word + seq // _ID_BLOCK) % 4
        return year_index, f"GAP-{CONTRACT_YEARS[year_index]}-{low:06d}"
    year_index = year_word % 4
    return year_index, f"GAP-{CONTRACT_YEARS[year_index]}-{seq}"


def contract_ids(count: int, start: int = 1, seed: int = 0) -> list[str]:
    """The ids of contracts ``start .. start+count-1`` without drawing the rest of them.

    The scale seeder's audit log refers to a million contracts loaded by another process; this
    gives it their ids at a fraction of the cost of generating the contracts.
    """
    keys = _seed_keys(seed)
    return [_contract_id(seq, keys)[1] for seq in range(start, start + count)]


def _identity(seq: int, keys: _SeedKeys) -> _Identity:
    """Draw the contract's facts from four SplitMix64 words, by successive ``divmod``.

    Ids: the 6-digit number is ``seq % 1,000,000`` and the year is a keyed shuffle of the block
    ``seq // 1,000,000``, so ids keep the ``GAP-<year>-<6 digits>`` shape and stay unique for the first
    four million sequence numbers (beyond that the number simply grows a seventh digit).
    """
    if seq < 0:
        raise ValueError(f"sequence numbers start at 0, got {seq}")
    year_index, contract_id = _contract_id(seq, keys)

    first = _splitmix(keys.identity ^ (seq * _GOLDEN & _M64))
    w, i = divmod(first, 100)
    contract_type = _TYPE_TABLE[i]
    w, i = divmod(w, 100)
    difficulty = _DIFFICULTY_TABLE[i]
    w, i = divmod(w, 100)
    method = _METHOD_TABLE[i]
    w, i = divmod(w, 100)
    fee_cents = _FEE_CENTS_TABLE[i]
    w, i = divmod(w, len(_PREMIUM_TABLE))
    premium_cents = _PREMIUM_TABLE[i]
    w, i = divmod(w, len(_STATE_TABLE))
    state = _STATE_TABLE[i]
    days = _DATES[year_index]
    w, i = divmod(w, len(days))
    day = days[i]
    is_new = w % 100 < _NEW_SHARE[contract_type]

    second = _splitmix(first)
    w, i = divmod(second, len(state.cities))
    city = state.cities[i]
    w, i = divmod(w, len(vocab.DEALER_PREFIXES))
    prefix = vocab.DEALER_PREFIXES[i]
    w, i = divmod(w, len(vocab.DEALER_PATTERNS))
    pattern = vocab.DEALER_PATTERNS[i]
    w, i = divmod(w, len(vocab.LENDERS))
    lender = vocab.LENDERS[i]
    candidates = _VEHICLES[year_index][is_new]
    w, i = divmod(w, len(candidates))
    vehicle = candidates[i]
    w, i = divmod(w, len(vehicle.variants))
    trim, vin_head, vin_sum = vehicle.variants[i]
    w, i = divmod(w, len(vocab.COLORS))
    color = vocab.COLORS[i]
    high, low_serial = divmod(w % 1_000_000, 1000)
    check = CHECK_CHARS[
        (vin_sum + vehicle.tail_sum + SERIAL_HIGH_SUMS[high] + SERIAL_LOW_SUMS[low_serial]) % 11
    ]
    vin = f"{vin_head}{check}{vehicle.tail}{high:03d}{low_serial:03d}"

    third = _splitmix(second)
    w, spread = divmod(third, 10_000)
    age = day.value.year - vehicle.year
    if is_new:
        mileage = 3 + spread % 240
    elif age >= 1:
        mileage = age * (8_000 + spread % 7_000) + spread // 7 % 4_000
    else:
        mileage = 600 + spread % 14_000
    w, i = divmod(w, 4_000_000)
    ratio, extra_cents = divmod(i, 100_000)  # 80–119 % of the vehicle's value, plus up to $1,000
    value_cents = (
        vehicle.msrp_cents if is_new else int(vehicle.msrp_cents * _DEPRECIATION[min(max(age, 0), 12)])
    )
    amount_financed_cents = max(750_000, value_cents * (80 + ratio) // 100 + extra_cents)
    terms = _TERMS[contract_type]
    w, i = divmod(w, len(terms))
    term = terms[i]
    w, i = divmod(w, len(_MAX_BENEFITS))
    max_benefit = _MAX_BENEFITS[i]
    w, admin_index = divmod(w, len(vocab.ADMINISTRATORS))
    style = w % 100

    n = (seq * _ACCOUNT_MULTIPLIER + keys.account_offset) % 10**10
    if style < 30 and n >= 10**9:
        account = str(n)
    elif style < 70:
        account = f"{style % 9 + 1}{n:010d}"
    else:
        account = f"{10 + (style - 70) * 3}{n:010d}"
    customer = f"Customer #{10_000 + (seq * _CUSTOMER_MULTIPLIER + keys.customer_offset) % 990_000}"
    dealer = pattern % {"p": prefix, "m": vehicle.make, "c": city}

    return _Identity(
        seq, contract_id, account, customer, contract_type, day, state, city, dealer, lender, vehicle,
        trim, color, vin, mileage, is_new, premium_cents, method, fee_cents, difficulty, term,
        amount_financed_cents, max_benefit, admin_index, _splitmix(third),
    )  # fmt: skip


def _check_difficulty(difficulty: str | None) -> None:
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")


def _vehicle_json(ident: _Identity) -> str:
    """JSON by formatting, not ``json.dumps``: 10x faster, and safe because no word list has quotes."""
    vehicle = ident.vehicle
    return (
        f'{{"vin": "{ident.vin}", "year": {vehicle.year}, '
        f'"make": "{vehicle.make}", "model": "{vehicle.model}", '
        f'"trim": "{ident.trim}", "color": "{ident.color}", "mileage": {ident.mileage}, '
        f'"new_or_used": "{"new" if ident.is_new else "used"}"}}'
    )


# ---- compact mode ---------------------------------------------------------------------------------------


def _fee_context(fee_cents: int) -> dict[str, str]:
    fee = _FEE_DECIMALS[fee_cents]
    return {"fee": _money(fee), "fee_short": f"${fee_cents // 100}" if fee_cents % 100 == 0 else _money(fee)}


class _CompactPieces(NamedTuple):
    """Everything in a compact page that depends only on (template, contract type): formatted once."""

    text: str
    parties: str
    contract: str
    contract_upper: str
    premium: dict[str, tuple[str, ...]]  # difficulty -> str.format templates, {0} digits and {1} words
    method: dict[str, tuple[str, ...]]  # method -> sentences with a leading space ("" = no wording)
    fee: dict[int | None, tuple[str, ...]]  # fee cents -> sentences with a leading space
    state_notes: dict[str, tuple[str, ...]]  # state abbreviation -> notes
    forms: dict[str, tuple[str, ...]]  # state abbreviation -> form numbers


def _short(sentences: tuple[str, ...], limit: int = 140) -> tuple[str, ...]:
    """The variants short enough to keep a compact page under 1,200 characters whatever else is drawn."""
    return tuple(s for s in sentences if len(s) <= limit)


def _compact_pieces() -> tuple[dict[str, _CompactPieces], ...]:
    pieces = []
    for family_index, label, form_code, text in vocab.COMPACT_TEMPLATES:
        noun = vocab.FAMILIES[family_index][1]
        admin_role = vocab.FAMILIES[family_index][3]
        by_type: dict[str, _CompactPieces] = {}
        for contract_type in CONTRACT_TYPES:
            contract, creditor, buyer, short = vocab.CONTRACT_TERMS[contract_type]
            ctx = {
                "noun": noun, "NOUN": noun.upper(), "label": label, "contract": short, "creditor": creditor,
                "buyer": buyer, "admin_role": admin_role, "P": "{0}", "PW": "{1}",
            }  # fmt: skip
            premium = {
                "easy": tuple(
                    c.format(**ctx) for c in vocab.PREMIUM_LINE_CLAUSES + vocab.PREMIUM_SENTENCE_CLAUSES
                ),
                "medium": _short(tuple(c.format(**ctx) for c in vocab.PREMIUM_WORDS_AND_DIGITS_CLAUSES), 100),
                "hard": _short(tuple(c.format(**ctx) for c in vocab.PREMIUM_WORDS_ONLY_CLAUSES), 100),
            }
            method = {
                name: _short(tuple(" " + c.format(**ctx) for c in clauses if "below" not in c))
                + (("",) if name == "Unknown" else ())
                for name, clauses in vocab.METHOD_CLAUSES.items()
            }
            fee: dict[int | None, tuple[str, ...]] = {None: ("",)}
            for cents in _FEE_DECIMALS:
                clauses = vocab.NO_FEE_SENTENCE_CLAUSES if cents == 0 else vocab.FEE_SENTENCE_CLAUSES
                fee[cents] = _short(tuple(" " + c.format(**ctx, **_fee_context(cents)) for c in clauses))
            state_notes = {}
            forms = {}
            for state in vocab.STATES:
                state_ctx = {**ctx, "state": state.name, "STATE": state.name.upper()}
                state_notes[state.abbr] = tuple(c.format(**state_ctx) for c in vocab.COMPACT_STATE_NOTES)
                forms[state.abbr] = tuple(
                    f"{form_code}-{state.abbr} (Rev. {month:02d}/{year})"
                    for month, year in ((1, 21), (6, 22), (3, 23))
                )
            by_type[contract_type] = _CompactPieces(
                text, vocab.PARTY_FORMATS[contract_type], contract, contract.upper(),
                premium, method, fee, state_notes, forms,
            )  # fmt: skip
        pieces.append(by_type)
    return tuple(pieces)


_COMPACT = _compact_pieces()


def _compact_record(ident: _Identity, difficulty: str) -> CompactRow:
    """Fill one compact page; only ``%``/``str.format`` and table look-ups, no validation."""
    r, i = divmod(ident.spare, len(_COMPACT))
    pieces = _COMPACT[i][ident.contract_type]
    formats = pieces.premium[difficulty]
    r, i = divmod(r, len(formats))
    cents = ident.premium_cents
    premium = formats[i].format(_PREMIUM_DIGITS[cents], _PREMIUM_WORDS[cents])
    sentences = pieces.method[ident.method]
    r, i = divmod(r, len(sentences))
    method = sentences[i]
    sentences = pieces.fee[ident.fee_cents]
    r, i = divmod(r, len(sentences))
    fee = sentences[i]
    state = ident.state.abbr
    notes = pieces.state_notes[state]
    r, i = divmod(r, len(notes))
    forms = pieces.forms[state]
    r, j = divmod(r, len(forms))
    admin = vocab.ADMINISTRATORS[ident.admin_index]
    vehicle = ident.vehicle
    dollars, cents_part = divmod(ident.amount_financed_cents, 100)
    amount_financed = f"${dollars:,}.{cents_part:02d}"
    if difficulty == "hard":
        amount_financed = "S" + amount_financed[1:]
    fields = {
        "cid": ident.contract_id, "acct": ident.account_number, "date": ident.day.short,
        "date_long": ident.day.long, "customer": ident.customer_name, "dealer": ident.dealer,
        "city": ident.city, "st": state, "lender": ident.lender, "vyear": vehicle.year, "make": vehicle.make,
        "model": vehicle.model, "trim": ident.trim, "color": ident.color, "vin": ident.vin,
        "miles": f"{ident.mileage:,}", "cond": "New" if ident.is_new else "Used", "term": ident.term,
        "af": amount_financed, "maxb": f"${ident.max_benefit:,}.00", "contract": pieces.contract,
        "contract_upper": pieces.contract_upper, "premium": premium, "method": method, "fee": fee,
        "state_note": notes[i], "form": forms[j], "admin": admin[0], "admin_phone": admin[2],
    }  # fmt: skip
    fields["parties"] = pieces.parties % fields
    fee_cents = ident.fee_cents
    return (
        ident.contract_id,
        ident.account_number,
        ident.customer_name,
        ident.contract_type,
        ident.day.value,
        _vehicle_json(ident),
        pieces.text % fields,
        _PREMIUM_DECIMALS[cents],
        ident.method,
        None if fee_cents is None else _FEE_DECIMALS[fee_cents],
    )


def generate_compact_rows(count: int, start: int = 1, seed: int = 0) -> Iterator[CompactRow]:
    """Compact contracts ``start .. start+count-1`` as plain tuples (see :data:`COMPACT_ROW_COLUMNS`).

    This is the scale seeder's path: no pydantic, no per-row ``random.Random``; a row is identical to
    ``generate_contract(seq, seed=seed, compact=True)`` field by field.
    """
    keys = _seed_keys(seed)
    identity = _identity
    record = _compact_record
    for seq in range(start, start + count):
        ident = identity(seq, keys)
        yield record(ident, ident.difficulty)


# ---- full mode ------------------------------------------------------------------------------------------

_ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV")
_EXAMPLE_PREMIUMS = (600, 750, 800, 900, 1000, 1200, 1500)


class _Block(NamedTuple):
    """A unit of layout: a paragraph to wrap, or preformatted lines (tables, signature blocks)."""

    body: str | tuple[str, ...]
    prefix: str = ""  # first-line prefix of a list item, e.g. "(a) "; continuation lines hang under it
    truth: bool = False  # states a ground-truth field: exempt from the noise that could corrupt words
    with_next: bool = False  # a heading: never the last line of a page
    tight: bool = False  # no blank line before (list items)


def _leader(label: str, value: str, width: int) -> str:
    """A dotted-leader table row, as forms print them: ``Amount Financed ....... $32,450.00``."""
    dots = max(3, width - len(label) - len(value) - 2)
    return f"{label} {'.' * dots} {value}"


_VOWELS = frozenset("aeiouyAEIOUY")


def _hyphenation_point(word: str, room: int) -> int:
    """Where a typesetter would break ``word`` (``can-cellation``) within ``room`` letters; 0 for nowhere.

    Between two consonants after a vowel (VC-CV) if possible, else before a consonant-vowel pair (V-CV);
    never in a word with digits or punctuation, so amounts and codes are never split.
    """
    if len(word) < 8 or not word.isalpha():
        return 0
    for rule in (
        lambda k: word[k - 1] not in _VOWELS and word[k] not in _VOWELS and word[k - 2] in _VOWELS,
        lambda k: word[k - 1] in _VOWELS and word[k] not in _VOWELS and word[k + 1] in _VOWELS,
    ):
        cuts = [k for k in range(3, min(room, len(word) - 3) + 1) if rule(k)]
        if cuts:
            return cuts[-1]
    return 0


def _boxed(text: str, width: int) -> list[str]:
    """A notice in a ruled box, as forms print their conspicuous disclosures."""
    inner = width - 4
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > inner:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    rule = "+" + "-" * (width - 2) + "+"
    return [rule, *(f"| {line:<{inner}} |" for line in lines), rule]


def _amortized_payment(principal: float, apr: float, months: int, balloon: float = 0.0) -> Decimal:
    rate = apr / 1200
    if rate == 0:
        payment = (principal - balloon) / months
    else:
        payment = (principal - balloon / (1 + rate) ** months) * rate / (1 - (1 + rate) ** -months)
    return Decimal(f"{payment:.2f}")


class _FullDocument:
    """Builds one multi-page contract: picks the wording, lays it out, then adds the hard-mode noise.

    The ground truth never depends on the wording: the identity fixes the three values first and every
    choice made here only decides how (and how clearly) the text states them.
    """

    def __init__(self, ident: _Identity, difficulty: str, rng: random.Random) -> None:
        self.ident = ident
        self.difficulty = difficulty
        self.rng = rng
        self.hard = difficulty == "hard"
        self.easy = difficulty == "easy"
        self.premium = _PREMIUM_DECIMALS[ident.premium_cents]
        self.fee = None if ident.fee_cents is None else _FEE_DECIMALS[ident.fee_cents]
        self.width = rng.randint(76, 92)
        self.blocks: list[_Block] = []
        self.section_number = 0
        self.family_index = rng.choices((0, 1, 2), weights=(55, 25, 20))[0]
        titles, self.noun, labels, admin_role = vocab.FAMILIES[self.family_index]
        self.title = rng.choice(titles)
        self.section_style = rng.choice(vocab.SECTION_STYLES)
        self.ctx = self._context(rng.choice(labels), admin_role)
        self.doc_fee = self.noisy(rng.choice((85, 150, 199, 299, 399, 499, 699)))
        self.premium_style = rng.choice(
            {
                "easy": ("line", "table", "sentence"),
                "medium": ("words_digits", "itemization", "table", "sentence"),
                "hard": ("words_only", "words_only", "itemization", "itemization", "words_digits"),
            }[difficulty]
        )
        restate_chance = {"easy": 0.0, "medium": 0.5, "hard": 0.4}[difficulty]
        self.restate = self.premium_style != "words_only" and rng.random() < restate_chance
        self.fee_in_rider = self.fee is not None and self.hard and rng.random() < 0.45

    # -- wording ------------------------------------------------------------------------------------------

    def _context(self, label: str, admin_role: str) -> dict[str, str]:
        rng, ident, noun = self.rng, self.ident, self.noun
        contract, creditor, buyer, _short = vocab.CONTRACT_TERMS[ident.contract_type]
        admin, admin_address, admin_phone = vocab.ADMINISTRATORS[ident.admin_index]
        words = _PREMIUM_WORDS[ident.premium_cents]
        if self.hard and rng.random() < 0.3:
            words = words.upper()
        ctx = {
            "noun": noun,
            "NOUN": noun.upper(),
            "label": label,
            "contract": contract,
            "creditor": creditor,
            "buyer": buyer,
            "admin": admin,
            "admin_role": admin_role,
            "admin_address": admin_address,
            "admin_phone": admin_phone,
            "P": _money(self.premium),
            "PW": words,
            "state": ident.state.name,
            "STATE": ident.state.name.upper(),
            "term": str(ident.term),
            "max_benefit": self.noisy(ident.max_benefit),
            "ltv": str(rng.choice((125, 130, 150))),
            "deductible_cap": self.noisy(rng.choice((500, 1000, 1000, 1500, 2500))),
            "neg_equity_cap": self.noisy(rng.choice((3000, 5000, 7500))),
            "claim_days": str(rng.choice((60, 90, 90, 120, 180))),
            "process_days": str(rng.choice((30, 45, 60))),
            "claim_fee": self.noisy(rng.choice((25, 35, 50))),
            "late_fee": self.noisy(rng.choice((15, 25, 35))),
            "late_pct": str(rng.choice((5, 10))),
            "free_days": str(rng.choice((30, 30, 60))),
        }
        if ident.fee_cents:
            ctx.update(_fee_context(ident.fee_cents))
        return ctx

    def fmt(self, clause: str) -> str:
        return clause.format(**self.ctx)

    def pick(self, clauses: tuple[str, ...]) -> str:
        return self.fmt(self.rng.choice(clauses))

    def noisy(self, amount: Decimal | int | float) -> str:
        """A distractor amount; in hard documents OCR may read its ``$`` as ``S`` or a comma as a period.

        Only amounts that are *not* ground truth go through here, so the truth stays recoverable.
        """
        text = _money(amount)
        if self.hard:
            roll = self.rng.random()
            if roll < 0.3:
                text = "S" + text[1:]
            elif roll < 0.38 and "," in text:
                text = text.replace(",", ".", 1)
        return text

    # -- layout primitives --------------------------------------------------------------------------------

    def para(self, text: str, *, truth: bool = False, prefix: str = "", tight: bool = False) -> None:
        self.blocks.append(_Block(text, prefix=prefix, truth=truth, tight=tight))

    def pre(self, lines: list[str], *, truth: bool = False, tight: bool = False) -> None:
        self.blocks.append(_Block(tuple(lines), truth=truth, tight=tight))

    def heading(self, key: str) -> None:
        self.section_number += 1
        n = self.section_number
        title = self.rng.choice(vocab.SECTION_TITLES[key]).format(NOUN=self.noun.upper())
        self.blocks.append(
            _Block((self.section_style.format(n=n, roman=_ROMAN[n], title=title),), with_next=True)
        )

    def centered(self, text: str) -> str:
        return text.center(self.width).rstrip()

    # -- the parts of a contract --------------------------------------------------------------------------

    def build(self) -> str:
        rng = self.rng
        self.header()
        if rng.random() < 0.5:
            self.pre(_boxed(self.pick(vocab.IMPORTANT_NOTICES), self.width - 4))
        self.para(self.pick(vocab.INTRO_CLAUSES))
        self.parties()
        self.vehicle()
        self.finance_terms()
        if self.premium_style == "line":
            self.pre([self.fmt(rng.choice(vocab.PREMIUM_LINE_CLAUSES))], truth=True)
        elif self.premium_style == "itemization":
            self.itemization()
        charge_section = (
            self.premium_style in ("sentence", "words_digits", "words_only") and rng.random() < 0.6
        )

        self.definitions()
        if rng.random() < 0.5:
            self.optional_section("eligibility", vocab.ELIGIBILITY_CLAUSES)
        self.benefit(
            with_premium=self.premium_style in ("sentence", "words_digits", "words_only")
            and not charge_section
        )
        if charge_section:
            self.heading("charge")
            self.premium_paragraph()
            self.para(self.fmt("The {label} is not refundable except as described in this {noun}."))
        if rng.random() < 0.5:
            self.optional_section("insurance", vocab.INSURANCE_CLAUSES)
        self.exclusions()
        if rng.random() < 0.5:
            self.claims()
            self.refunds()
        else:
            self.refunds()
            self.claims()
        if rng.random() < 0.5:
            self.optional_section("transfer", vocab.TRANSFER_CLAUSES)
        if rng.random() < 0.4:
            self.optional_section("liability", vocab.LIABILITY_CLAUSES)
        self.general()
        if rng.random() < 0.5:
            self.heading("arbitration")
            for clause in vocab.ARBITRATION_CLAUSES:
                self.para(self.fmt(clause))
        self.state_disclosures()
        self.signatures()
        return self.render()

    def header(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        subtitle = rng.choice(
            (
                f"Addendum to {ctx['contract']}",
                "THIS IS NOT INSURANCE" if self.family_index != 2 else "Issued under a Group Policy",
                f"Administered by {ctx['admin']}",
            )
        )
        lines = [self.centered(self.title), self.centered(subtitle), ""]
        if rng.random() < 0.5:
            lines += [
                f"Contract No.: {ident.contract_id}".ljust(44) + f"{self.noun} Date: {ident.day.short}",
                f"Account No.: {ident.account_number}".ljust(44) + f"State: {ident.state.abbr}",
            ]
        else:
            lines += [
                _leader("Contract Number", ident.contract_id, 52),
                _leader("Account Number", ident.account_number, 52),
                _leader(f"Date of {self.noun}", ident.day.long, 52),
            ]
        self.pre(lines)

    def parties(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        zip_code = f"{rng.randint(ident.state.zip_low, ident.state.zip_high):03d}{rng.randint(1, 99):02d}"
        street = f"{rng.randint(100, 9899)} {rng.choice(vocab.STREETS)}"
        address = f"{street}, {ident.city}, {ident.state.abbr} {zip_code}"
        lines = [rng.choice(("PARTIES", "BUYER AND CREDITOR INFORMATION", "NAMES AND ADDRESSES"))]
        lines.append(f"{ctx['buyer']}: {ident.customer_name}".ljust(40) + f"Co-{ctx['buyer']}: None")
        if ident.contract_type == "refinance":
            lines.append(f"{ctx['creditor']}: {ident.lender}, {address}")
        else:
            role = "Dealer/Lessor" if ident.contract_type == "lease" else "Dealer/Creditor"
            lines.append(f"{role}: {ident.dealer}, {address}")
            lines.append(f"Assignee: {ident.lender}")
        if self.family_index == 2:
            lines.append(f"Insurer: {rng.choice(vocab.INSURERS)}")
        lines.append(f"{ctx['admin_role']}: {ctx['admin']}, {ctx['admin_address']}, {ctx['admin_phone']}")
        self.pre(lines)

    def vehicle(self) -> None:
        rng, ident = self.rng, self.ident
        v = ident.vehicle
        condition = "New" if ident.is_new else "Used"
        trim = ident.trim if rng.random() < 0.9 else ""
        if rng.random() < 0.5:
            lines = [
                rng.choice(("VEHICLE INFORMATION", "DESCRIPTION OF VEHICLE", "COVERED VEHICLE")),
                f"Year: {v.year}    Make: {v.make}    Model: {v.model}"
                + (f"    Trim: {trim}" if trim else ""),
                f"VIN: {ident.vin}" + (f"    Color: {ident.color}" if rng.random() < 0.8 else ""),
                f"Odometer: {ident.mileage:,} miles    New/Used: {condition}",
            ]
        else:
            model = f"{v.model} {trim}".strip()
            lines = [
                rng.choice(("DESCRIPTION OF VEHICLE", "VEHICLE")),
                f"{'New/Used':<10}{'Year':<6}{'Make':<15}{'Model':<30}VIN",
                f"{condition:<10}{v.year:<6}{v.make:<15}{model:<30}{ident.vin}",
                f"Odometer Reading: {ident.mileage:,}",
            ]
        self.pre(lines)

    def finance_terms(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        principal = ident.amount_financed_cents / 100
        table_width = rng.randint(54, 66)
        if ident.contract_type == "lease":
            money_factor = rng.uniform(0.0009, 0.0032)
            msrp = round(principal * rng.uniform(1.03, 1.15), -1)
            residual = round(msrp * rng.uniform(0.45, 0.62), 2)
            payment = (principal - residual) / ident.term + (principal + residual) * money_factor
            rows = [
                ("Adjusted Capitalized Cost", self.noisy(principal)),
                ("Money Factor", f"{money_factor:.5f}"),
                ("Lease Term", f"{ident.term} months"),
                ("Base Monthly Payment", self.noisy(Decimal(f"{payment:.2f}"))),
                ("Residual Value", self.noisy(residual)),
                ("MSRP", self.noisy(msrp)),
            ]
        else:
            if ident.contract_type == "refinance":
                apr = rng.uniform(3.99, 12.99)
            elif ident.is_new:
                apr = rng.choice((0.0, 1.9, 2.9)) if rng.random() < 0.2 else rng.uniform(3.49, 9.99)
            else:
                apr = rng.uniform(4.99, 21.99)
            balloon = (
                round(principal * rng.uniform(0.25, 0.45), 2) if ident.contract_type == "balloon" else 0.0
            )
            rows = [
                ("Amount Financed", self.noisy(principal)),
                ("Annual Percentage Rate", f"{apr:.2f}%"),
                ("Term", f"{ident.term} months"),
                ("Monthly Payment", self.noisy(_amortized_payment(principal, apr, ident.term, balloon))),
            ]
            if balloon:
                rows.append(("Final (Balloon) Payment", self.noisy(balloon)))
            value = principal * (rng.uniform(1.02, 1.25) if ident.is_new else rng.uniform(0.85, 1.15))
            rows.append(("MSRP" if ident.is_new else "NADA Retail Value", self.noisy(round(value, -1))))
        rows.append(("Maximum GAP Benefit", f"up to {self.ctx['max_benefit']}"))
        rows.append(("Deductible Coverage", f"up to {self.ctx['deductible_cap']}"))
        if not self.easy or rng.random() < 0.3:
            rows.append(("Documentary Fee", self.doc_fee))
        if not self.easy and rng.random() < 0.5:
            lien_label = rng.choice(("Lien Fee", "Title and Lien Fee", "Lienholder Recording Fee"))
            rows.append((lien_label, self.noisy(Decimal(rng.randint(1500, 9500)).scaleb(-2))))
        if ident.contract_type == "refinance" and self.hard:
            rows.append(
                ("Prior GAP Contract Refund Credit", self.noisy(Decimal(rng.randint(9000, 60000)).scaleb(-2)))
            )
        truth = self.premium_style == "table"
        if truth:
            rows.insert(rng.randint(4, len(rows)), (ctx["label"], ctx["P"]))
        title = rng.choice(
            (f"FINANCE TERMS (from your {ctx['contract']})", "CONTRACT INFORMATION", "SUMMARY OF TERMS")
        )
        self.pre([title] + [_leader(label, value, table_width) for label, value in rows], truth=truth)

    def itemization(self) -> None:
        """Optional products priced like the GAP charge: the conflicting-looking amounts of harder docs."""
        rng, ctx = self.rng, self.ctx
        products = rng.sample(vocab.OTHER_PRODUCTS, rng.randint(2, 4))
        rows = []
        for name, low, high in products:
            price = rng.randint(low, high) // 5 * 5 - (0 if rng.random() < 0.5 else 5)
            if self.hard:
                price = int(self.premium) + rng.choice((-300, -200, -100, 100, 200, 300))
            price = max(price, 99)
            if Decimal(price) == self.premium:
                price += 50
            rows.append((name, self.noisy(price)))
        rows.insert(rng.randint(0, len(rows)), (ctx["label"], ctx["P"]))
        rows.append(("Documentary Fee", self.doc_fee))
        width = rng.randint(54, 66)
        title = rng.choice(("ITEMIZATION OF OPTIONAL PRODUCTS AND FEES", "OPTIONAL PRODUCTS PURCHASED"))
        self.pre([title] + [_leader(label, value, width) for label, value in rows], truth=True)

    def premium_paragraph(self) -> None:
        clauses = {
            "sentence": vocab.PREMIUM_SENTENCE_CLAUSES,
            "words_digits": vocab.PREMIUM_WORDS_AND_DIGITS_CLAUSES,
            "words_only": vocab.PREMIUM_WORDS_ONLY_CLAUSES,
        }[self.premium_style]
        self.para(self.pick(clauses), truth=True)

    def optional_section(self, key: str, clauses: tuple[str, ...]) -> None:
        self.heading(key)
        for clause in self.rng.sample(clauses, self.rng.randint(2, len(clauses))):
            self.para(self.fmt(clause))

    def definitions(self) -> None:
        rng = self.rng
        self.heading("definitions")
        chosen = sorted(rng.sample(range(len(vocab.DEFINITIONS)), rng.randint(6, 11)))
        style = rng.randrange(3)
        for index, position in enumerate(chosen):
            term, meaning = vocab.DEFINITIONS[position]
            term = self.fmt(term)
            meaning = self.fmt(meaning)
            if style == 0:
                self.para(f"\u201c{term}\u201d means {meaning}", tight=index > 0)
            elif style == 1:
                self.para(f"{term}: {meaning[0].upper()}{meaning[1:]}", prefix="  ", tight=index > 0)
            else:
                self.para(f"{term.upper()} – {meaning}", tight=index > 0)

    def benefit(self, *, with_premium: bool) -> None:
        self.heading("benefit")
        self.para(self.pick(vocab.BENEFIT_CLAUSES))
        if self.rng.random() < 0.7:
            self.para(self.pick(vocab.DEDUCTIBLE_CLAUSES))
        if with_premium:
            self.premium_paragraph()

    def exclusions(self) -> None:
        rng = self.rng
        self.heading("exclusions")
        self.para(
            self.fmt(rng.choice(("This {noun} does not cover:", "We will not waive any of the following:")))
        )
        items = sorted(rng.sample(range(len(vocab.EXCLUSIONS)), rng.randint(5, 8)))
        for index, position in enumerate(items):
            text = self.fmt(vocab.EXCLUSIONS[position])
            if index == len(items) - 1:
                text = text[:-1] + "."
            self.para(text, prefix=f"({'abcdefghij'[index]}) ", tight=True)

    def claims(self) -> None:
        rng = self.rng
        self.heading("claims")
        for clause in vocab.CLAIM_CLAUSES:
            if rng.random() < 0.85:
                self.para(self.fmt(clause))
        if not self.easy and rng.random() < 0.6:
            self.para(self.pick(vocab.CLAIM_FEE_CLAUSES))

    def refunds(self) -> None:
        rng = self.rng
        self.heading("refund")
        self.para(self.pick(vocab.CANCEL_RIGHT_CLAUSES))
        if rng.random() < 0.5:
            self.para(self.pick(vocab.FREE_LOOK_CLAUSES))
        if rng.random() < 0.7:
            self.para(self.pick(vocab.PAYOFF_CLAUSES))
        if self.restate:
            self.para(self.pick(vocab.PREMIUM_RESTATEMENT_CLAUSES), truth=True)

        method = self.ident.method
        statement = ""
        if method != "Unknown" or rng.random() < 0.65:
            statement = self.pick(vocab.METHOD_CLAUSES[method])
        fee_sentence = ""
        if self.fee is not None and self.fee_in_rider:
            if self.fee:
                fee_sentence = self.pick(vocab.FEE_IN_RIDER_POINTERS)
        elif self.fee is not None:
            suffixes = vocab.FEE_SUFFIX_CLAUSES if self.fee else vocab.NO_FEE_SUFFIX_CLAUSES
            sentences = vocab.FEE_SENTENCE_CLAUSES if self.fee else vocab.NO_FEE_SENTENCE_CLAUSES
            if statement and rng.random() < 0.35:
                statement = statement[:-1] + self.pick(suffixes) + "."
            else:
                fee_sentence = self.pick(sentences)
        text = " ".join(part for part in (statement, fee_sentence) if part)
        if text:
            self.para(text, truth=True)
        if "below" in statement:
            self.short_rate_table()
        example_chance = {"easy": 0.0, "medium": 0.5, "hard": 0.6}[self.difficulty]
        explainable = method in ("Pro-Rata", "Rule of 78s") or (
            method == "Short-Rate" and "below" in statement
        )
        if explainable and rng.random() < example_chance:
            self.worked_example()
        if rng.random() < 0.6:
            self.para(self.pick(vocab.NO_REFUND_AFTER_CLAIM_CLAUSES))
        if rng.random() < 0.6:
            self.para(self.pick(vocab.REFUND_PAYEE_CLAUSES))

    def _short_rate_earned(self) -> list[tuple[int, int, int]]:
        """(first month, last month, % earned) rows: front-loaded, 100% at the end of the term."""
        term = self.ident.term
        step = 6 if term <= 60 else 12
        rows = []
        for first in range(1, term + 1, step):
            last = min(first + step - 1, term)
            earned = 100 if last == term else round(100 * (1 - (1 - last / term) ** 1.7))
            rows.append((first, last, earned))
        return rows

    def short_rate_table(self) -> None:
        rows = self._short_rate_earned()
        half = (len(rows) + 1) // 2
        column = "Months in Force    Earned"
        lines = [
            f"SHORT-RATE TABLE – PERCENTAGE OF THE {self.ctx['label'].upper()} EARNED",
            f"{column}        {column}",
        ]
        for left, right in zip(rows[:half], [*rows[half:], None], strict=False):
            cell = f"  {left[0]:>3} – {left[1]:<3}          {left[2]:>3}%"
            if right:
                cell += f"          {right[0]:>3} – {right[1]:<3}          {right[2]:>3}%"
            lines.append(cell)
        self.pre(lines)

    def worked_example(self) -> None:
        """A refund computed on a different, hypothetical charge: a consistent but tempting distractor."""
        rng, ident = self.rng, self.ident
        amount = Decimal(rng.choice([a for a in _EXAMPLE_PREMIUMS if a != self.premium]))
        term = ident.term
        elapsed = rng.randrange(6, term - 5, 6) if term > 12 else 6
        remaining = term - elapsed
        if ident.method == "Pro-Rata":
            refund = amount * remaining / term
            how = f"{self.noisy(amount)} x {remaining}/{term}"
        elif ident.method == "Rule of 78s":
            refund = amount * remaining * (remaining + 1) / (term * (term + 1))
            how = f"{self.noisy(amount)} x ({remaining} x {remaining + 1}) / ({term} x {term + 1})"
        else:
            earned = next(row[2] for row in self._short_rate_earned() if row[0] <= elapsed <= row[1])
            refund = amount * (100 - earned) / 100
            how = f"{100 - earned}% of {self.noisy(amount)}"
        refund = refund.quantize(Decimal("0.01"))
        tail = ""
        if self.fee and not self.fee_in_rider:
            tail = f", before the cancellation fee of {self.ctx['fee']} is deducted"
        label = self.ctx["label"]
        self.para(
            f"For example, if the {label} were {self.noisy(amount)} and you cancelled after {elapsed} of "
            f"{term} months, your refund would be {how} = {self.noisy(refund)}{tail}. This example is for "
            "illustration only; your refund will be based on the actual charge and cancellation date."
        )

    def general(self) -> None:
        rng = self.rng
        self.heading("general")
        for clause in rng.sample(vocab.GENERAL_CLAUSES, rng.randint(2, len(vocab.GENERAL_CLAUSES))):
            self.para(self.fmt(clause))

    def state_disclosures(self) -> None:
        rng, ident = self.rng, self.ident
        self.heading("state")
        clauses = vocab.STATE_CLAUSES.get(ident.state.abbr, ()) or (rng.choice(vocab.GENERIC_STATE_CLAUSES),)
        for clause in clauses:
            self.para(self.fmt(clause))
        if self.fee_in_rider:
            self.para(
                self.pick(vocab.FEE_RIDER_CLAUSES if self.fee else vocab.NO_FEE_RIDER_CLAUSES), truth=True
            )
        if rng.random() < 0.4:
            self.para(self.pick(vocab.GENERIC_STATE_CLAUSES))

    def signatures(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        party = ident.lender if ident.contract_type == "refinance" else ident.dealer
        line = "_" * 30
        self.pre(
            [
                f"BY SIGNING BELOW, THE {ctx['buyer'].upper()} ACKNOWLEDGES RECEIVING A COMPLETED COPY OF "
                f"THIS {ctx['NOUN']}.",
                "",
                f"{ctx['buyer']}: {ident.customer_name}".ljust(46) + f"Date: {ident.day.short}",
                f"Signature: {line}",
                "",
                f"{ctx['creditor']}: {party}",
                f"By: {line}   Title: {rng.choice(vocab.EMPLOYEE_TITLES)}",
            ]
        )

    # -- rendering ----------------------------------------------------------------------------------------

    def wrap(self, text: str, prefix: str, truth: bool) -> list[str]:
        """Greedy wrap; hard documents break some long words with a hyphen, as OCR of justified text does."""
        rng = self.rng
        hyphenate = 0.45 if self.hard else 0.0
        indent = " " * len(prefix)
        lines: list[str] = []
        current = prefix
        for word in text.split(" "):
            if current == (indent if lines else prefix):
                current += word
                continue
            if len(current) + 1 + len(word) <= self.width:
                current += " " + word
                continue
            room = self.width - len(current) - 2
            cut = _hyphenation_point(word, room) if hyphenate and rng.random() < hyphenate else 0
            if cut:
                lines.append(f"{current} {word[:cut]}-")
                current = indent + word[cut:]
                continue
            lines.append(current)
            current = indent + word
        lines.append(current)
        if self.hard:
            lines = [self.ocr_noise(line, truth) for line in lines]
        return lines

    def ocr_noise(self, line: str, truth: bool) -> str:
        """Doubled spaces anywhere; dropped spaces and misread letters only outside truth statements."""
        rng = self.rng
        spaces = [i for i, c in enumerate(line) if c == " " and 0 < i < len(line) - 1 and line[i - 1] != " "]
        if spaces and rng.random() < 0.15:
            i = rng.choice(spaces)
            line = line[:i] + " " + line[i:]
        elif spaces and not truth and rng.random() < 0.08:
            i = rng.choice(spaces)
            if line[i - 1].isalpha() and line[i + 1].isalpha():
                line = line[:i] + line[i + 1 :]
        if not truth and rng.random() < 0.06:
            for wrong, misread in (("m", "rn"), ("e", "c"), ("l", "1")):
                position = line.find(wrong, rng.randrange(max(1, len(line))))
                if position > 0 and line[position - 1].isalpha():
                    line = line[:position] + misread + line[position + 1 :]
                    break
        return line

    def render(self) -> str:
        chunks: list[tuple[list[str], bool]] = []
        pending: list[str] = []
        pending_tight = False
        for block in self.blocks:
            if not pending:
                pending_tight = block.tight
            if isinstance(block.body, str):
                pending += self.wrap(block.body, block.prefix, block.truth)
            else:
                pending += block.body
            if not block.with_next:
                chunks.append((pending, pending_tight))
                pending = []
        pages = self.paginate(chunks)
        return self.decorate(pages)

    def paginate(self, chunks: list[tuple[list[str], bool]]) -> list[list[str]]:
        """Fill pages chunk by chunk, choosing the page length so that the contract has 3 to 6 pages."""
        lines_per_page = self.rng.randint(34, 64)
        pages: list[list[str]] = []
        for _ in range(40):
            pages = [[]]
            for lines, tight in chunks:
                page = pages[-1]
                gap = 0 if tight or not page else 1
                if page and len(page) + gap + len(lines) > lines_per_page:
                    pages.append(list(lines))
                    continue
                page += [""] * gap + lines
            if len(pages) > 6:
                lines_per_page += 4
            elif len(pages) < 3:
                lines_per_page -= 4
            else:
                break
        return pages

    def decorate(self, pages: list[list[str]]) -> str:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        code = ("GW", "DCA", "GIC")[self.family_index]
        revision = ident.day.value - timedelta(days=rng.randint(120, 900))
        form = f"Form {code}-{rng.randint(100, 999)}-{ident.state.abbr} (Rev. {revision:%m/%y})"
        footer_style = rng.randrange(3)
        running_header = rng.random() < 0.5
        total = len(pages)
        rendered = []
        for number, body in enumerate(pages, start=1):
            page_label = f"Page {number} of {total}"
            if footer_style == 0:
                footer = form + page_label.rjust(self.width - len(form))
            elif footer_style == 1:
                footer = f"{page_label}    {form}"
            else:
                footer = f"{form}    {ctx['buyer']}'s Initials: ______    {page_label}"
            header = []
            if running_header and number > 1:
                header = [f"{self.title} – Contract No. {ident.contract_id}", ""]
            rendered.append("\n".join([*header, *body, "", footer]))
        return "\f".join(rendered)


# ---- public API -----------------------------------------------------------------------------------------


def _full_text(ident: _Identity, difficulty: str, keys: _SeedKeys) -> str:
    rng = random.Random(_splitmix(keys.text ^ (ident.seq * _GOLDEN & _M64)))
    return _FullDocument(ident, difficulty, rng).build()


def generate_contract(
    seq: int, *, seed: int = 0, compact: bool = False, difficulty: str | None = None
) -> SyntheticContract:
    """The contract number ``seq`` of the synthetic portfolio ``seed``.

    ``difficulty`` overrides the drawn difficulty (the facts and the ground truth stay the same; only the
    way the text states them changes), for tests and demos that need a particular kind of document.
    """
    _check_difficulty(difficulty)
    keys = _seed_keys(seed)
    ident = _identity(seq, keys)
    level = difficulty or ident.difficulty
    text = _compact_record(ident, level)[6] if compact else _full_text(ident, level, keys)
    return SyntheticContract(
        contract_id=ident.contract_id,
        account_number=ident.account_number,
        customer_name=ident.customer_name,
        contract_type=ident.contract_type,
        contract_date=ident.day.value,
        vehicle_info=VehicleInfo.model_validate_json(_vehicle_json(ident)),
        document_text=text,
        truth=ContractTruth(
            gap_insurance_premium=_PREMIUM_DECIMALS[ident.premium_cents],
            refund_calculation_method=ident.method,
            cancellation_fee=None if ident.fee_cents is None else _FEE_DECIMALS[ident.fee_cents],
        ),
        difficulty=level,
    )


def generate_contracts(
    count: int, *, start: int = 1, seed: int = 0, compact: bool = False
) -> Iterator[SyntheticContract]:
    """Contracts ``start .. start+count-1``; lazily, so a caller can stream thousands to disk."""
    for seq in range(start, start + count):
        yield generate_contract(seq, seed=seed, compact=compact)
