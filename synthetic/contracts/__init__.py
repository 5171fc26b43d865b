"""Synthetic GAP contracts with ground truth, for the demo, the scale seeder and the benchmarks.

Real contracts cannot leave the client's systems, yet the product has to be
shown, load-tested and measured: this package writes contracts that read like
real GAP waivers, debt cancellation agreements and insurance certificates,
and knows the three values a perfect extractor would find in each one.

* :func:`generate_contract` / :func:`generate_contracts` — pydantic models; full
  (3–6 pages, for people and for the extractor) or compact (one page).
* :func:`generate_compact_rows` — plain tuples for ``COPY``, fast enough for a
  million rows (see :data:`COMPACT_ROW_COLUMNS`).

Everything is a pure function of ``(seq, seed, compact)``. The package depends
on nothing but the standard library and pydantic, and in particular not on the
extractor it is used to evaluate.

Modules: ``model`` (the types), ``identity`` (the facts of each contract, shared
by both modes), ``compact`` (the one-page mode), ``document`` and ``layout`` (the
full mode's wording and page layout), ``amounts``, ``vin``, ``vocabulary`` (the
words, as JSON data), ``generator`` (the entry points).
"""

from synthetic.contracts.amounts import amount_in_words, dollars_in_words
from synthetic.contracts.compact import generate_compact_rows
from synthetic.contracts.generator import generate_contract, generate_contracts
from synthetic.contracts.identity import contract_ids
from synthetic.contracts.model import (
    COMPACT_ROW_COLUMNS,
    CONTRACT_TYPES,
    DIFFICULTIES,
    REFUND_METHODS,
    CompactRow,
    ContractTruth,
    SyntheticContract,
    VehicleInfo,
)
from synthetic.contracts.vin import check_digit, is_valid_vin

__all__ = [
    "COMPACT_ROW_COLUMNS",
    "CONTRACT_TYPES",
    "DIFFICULTIES",
    "REFUND_METHODS",
    "CompactRow",
    "ContractTruth",
    "SyntheticContract",
    "VehicleInfo",
    "amount_in_words",
    "check_digit",
    "contract_ids",
    "dollars_in_words",
    "generate_compact_rows",
    "generate_contract",
    "generate_contracts",
    "is_valid_vin",
]
