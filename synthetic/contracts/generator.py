"""The generator's entry points: contract ``seq`` of portfolio ``seed``, full or compact, with its truth.

Three consumers with opposite needs share the generator:

* the demo (``refund-review seed --demo``) needs a few hundred *full* contracts a person will read on
  screen: 3–6 pages, many ways of stating each field, distractor amounts, and OCR-style noise in the hard
  ones, so that the extractor and the reviewers have real work to do (``document``, ``layout``);
* the scale seeder loads a million contracts by COPY, so the *compact* mode is a one-page text built from
  precomputed pieces with no pydantic in the hot path (``compact.generate_compact_rows``);
* the ingestion benchmark writes N text files (either mode).

Both modes share one *identity* per ``(seq, seed)`` (``identity``): ids, date, parties, vehicle and the three
ground-truth values. The full document for a sequence number therefore describes the same contract as its
compact page; only the wording differs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from synthetic.contracts.compact import compact_record
from synthetic.contracts.document import FullDocument
from synthetic.contracts.identity import (
    FEE_DECIMALS,
    GOLDEN,
    M64,
    PREMIUM_DECIMALS,
    Identity,
    SeedKeys,
    apr_of,
    check_difficulty,
    identity_of,
    seed_keys,
    splitmix,
    vehicle_json,
)
from synthetic.contracts.model import ContractTruth, SyntheticContract, VehicleInfo


def _full_text(ident: Identity, difficulty: str, keys: SeedKeys) -> str:
    rng = random.Random(splitmix(keys.text ^ (ident.seq * GOLDEN & M64)))
    return FullDocument(ident, difficulty, rng).build()


def generate_contract(
    seq: int, *, seed: int = 0, compact: bool = False, difficulty: str | None = None
) -> SyntheticContract:
    """The contract number ``seq`` of the synthetic portfolio ``seed``.

    ``difficulty`` overrides the drawn difficulty (the facts and the ground truth stay the same; only the
    way the text states them changes), for tests and demos that need a particular kind of document.
    """
    check_difficulty(difficulty)
    keys = seed_keys(seed)
    ident = identity_of(seq, keys)
    level = difficulty or ident.difficulty
    text = compact_record(ident, level)[6] if compact else _full_text(ident, level, keys)
    return SyntheticContract(
        contract_id=ident.contract_id,
        account_number=ident.account_number,
        customer_name=ident.customer_name,
        contract_type=ident.contract_type,
        contract_date=ident.day.value,
        vehicle_info=VehicleInfo.model_validate_json(vehicle_json(ident)),
        document_text=text,
        truth=ContractTruth(
            gap_insurance_premium=PREMIUM_DECIMALS[ident.premium_cents],
            refund_calculation_method=ident.method,
            cancellation_fee=None if ident.fee_cents is None else FEE_DECIMALS[ident.fee_cents],
            term_months=ident.term,
            governing_state=ident.state.abbr,
            apr=apr_of(ident),
        ),
        difficulty=level,
    )


def generate_contracts(
    count: int, *, start: int = 1, seed: int = 0, compact: bool = False
) -> Iterator[SyntheticContract]:
    """Contracts ``start .. start+count-1``; lazily, so a caller can stream thousands to disk."""
    for seq in range(start, start + count):
        yield generate_contract(seq, seed=seed, compact=compact)
