"""The facts of contract ``seq`` of portfolio ``seed``: ids, date, parties, vehicle and the three true values.

Both modes (full and compact) share one identity per ``(seq, seed)``, drawn from weighted tables with a
splitmix64 mix of the seed and the sequence number (never the global ``random`` state, never Python's salted
``hash``), so a seeded database, a failing test and a benchmark can be reproduced on another machine.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple, TypeVar

from synthetic.contracts import vocabulary as vocab
from synthetic.contracts.amounts import amount_in_words, decimal_of_cents, money
from synthetic.contracts.model import CONTRACT_YEARS, DIFFICULTIES
from synthetic.contracts.vin import (
    CHECK_CHARS,
    SERIAL_HIGH_SUMS,
    SERIAL_LOW_SUMS,
    plant_part,
    vin_prefix,
    year_part,
)

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
PREMIUM_DECIMALS = {cents: decimal_of_cents(cents) for cents in set(_PREMIUM_TABLE)}
PREMIUM_DIGITS = {cents: money(amount) for cents, amount in PREMIUM_DECIMALS.items()}
PREMIUM_WORDS = {cents: amount_in_words(amount) for cents, amount in PREMIUM_DECIMALS.items()}
FEE_DECIMALS = {cents: decimal_of_cents(cents) for cents in _FEE_CENTS_TABLE if cents is not None}


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

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_ACCOUNT_MULTIPLIER = 6_364_136_223  # odd and not a multiple of 5: seq -> account is a bijection mod 10**10
_CUSTOMER_MULTIPLIER = 823_543  # 7**7, coprime with 990_000: distinct customers over 990,000 consecutive seqs
_ID_BLOCK = 1_000_000
_ID_YEAR_CYCLES = 4_000_000  # below this, "GAP-<year>-<6 digits>" ids are unique (see identity_of)


def splitmix(x: int) -> int:
    """SplitMix64: a stateless, well-mixed 64-bit hash of an integer (Steele, Lea & Flood 2014)."""
    x = (x + GOLDEN) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class SeedKeys(NamedTuple):
    identity: int
    year: int
    text: int
    account_offset: int
    customer_offset: int


@functools.lru_cache(maxsize=64)
def seed_keys(seed: int) -> SeedKeys:
    """Independent keys per purpose, so that e.g. the wording of a full document never shifts its ids."""
    base = splitmix(seed & M64)
    keys = [splitmix(base ^ purpose) for purpose in (0x1D, 0x1E, 0x7E, 0xAC, 0xC5)]
    return SeedKeys(keys[0], keys[1], keys[2], keys[3] % 10**10, keys[4] % 990_000)


# ---- identity: everything both modes agree on -----------------------------------------------------------


class Identity(NamedTuple):
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


def _contract_id(seq: int, keys: SeedKeys) -> tuple[int, str]:
    """(year index, contract id) of a sequence number: the cheap part of an identity."""
    low = seq % _ID_BLOCK
    year_word = splitmix(keys.year ^ low)
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
    keys = seed_keys(seed)
    return [_contract_id(seq, keys)[1] for seq in range(start, start + count)]


def identity_of(seq: int, keys: SeedKeys) -> Identity:
    """Draw the contract's facts from four SplitMix64 words, by successive ``divmod``.

    Ids: the 6-digit number is ``seq % 1,000,000`` and the year is a keyed shuffle of the block
    ``seq // 1,000,000``, so ids keep the ``GAP-<year>-<6 digits>`` shape and stay unique for the first
    four million sequence numbers (beyond that the number simply grows a seventh digit).
    """
    if seq < 0:
        raise ValueError(f"sequence numbers start at 0, got {seq}")
    year_index, contract_id = _contract_id(seq, keys)

    first = splitmix(keys.identity ^ (seq * GOLDEN & M64))
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

    second = splitmix(first)
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

    third = splitmix(second)
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

    return Identity(
        seq, contract_id, account, customer, contract_type, day, state, city, dealer, lender, vehicle,
        trim, color, vin, mileage, is_new, premium_cents, method, fee_cents, difficulty, term,
        amount_financed_cents, max_benefit, admin_index, splitmix(third),
    )  # fmt: skip


def check_difficulty(difficulty: str | None) -> None:
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")


def vehicle_json(ident: Identity) -> str:
    """JSON by formatting, not ``json.dumps``: 10x faster, and safe because no word list has quotes."""
    vehicle = ident.vehicle
    return (
        f'{{"vin": "{ident.vin}", "year": {vehicle.year}, '
        f'"make": "{vehicle.make}", "model": "{vehicle.model}", '
        f'"trim": "{ident.trim}", "color": "{ident.color}", "mileage": {ident.mileage}, '
        f'"new_or_used": "{"new" if ident.is_new else "used"}"}}'
    )


_APR_SALT = 0xA9A1_0F_5EED_0011


def apr_of(ident: Identity) -> Decimal | None:
    """The contract's APR (a lease has none): drawn from the identity, so every wording states the same one.

    Rates as lenders give them: refinances 3.99-12.99%, new cars often promotional (0, 1.9, 2.9%) or
    3.49-9.99%, used cars 4.99-21.99%.
    """
    if ident.contract_type == "lease":
        return None
    rng = random.Random(splitmix(ident.spare ^ _APR_SALT))
    if ident.contract_type == "refinance":
        apr = rng.uniform(3.99, 12.99)
    elif ident.is_new:
        apr = rng.choice((0.0, 1.9, 2.9)) if rng.random() < 0.2 else rng.uniform(3.49, 9.99)
    else:
        apr = rng.uniform(4.99, 21.99)
    return Decimal(f"{apr:.2f}")


# ---- compact mode ---------------------------------------------------------------------------------------
