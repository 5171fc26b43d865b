"""Word lists and clause variants for the synthetic GAP contracts, loaded from the JSON files beside this.

Everything a generated contract says comes from those files, so that the generator only decides *which*
variant to use and the wording can be reviewed (or extended) without reading code. Each file's ``about``
says what its entries mean. Names of dealers, lenders and administrators are fictional on purpose: the
demo must not look like it describes a real company's customers. Phone numbers use the 555-01xx range
reserved for fiction.

Clause variants are ``str.format`` templates. The placeholders they may use are the keys of the context
built by the full document (``noun``, ``label``, ``contract``, ``creditor``, ``buyer``, ``admin`` ...).

Invariants the generator's ground truth relies on (the tests check them on the generated text, so a new
variant that breaks one fails loudly):

* only the method clauses name a refund method ("pro rata", "prorated", "in proportion to", "Rule of 78s",
  "sum of the digits", "78ths", "actuarial", "short-rate"); no other clause may use those words;
* only the fee clauses mention a cancellation / administrative fee, or say that there is no fee; other
  clauses may mention other fees (documentary, lien, late payment, claim processing) as distractors;
* no word list entry contains a double quote or a backslash, because the compact mode writes
  ``vehicle_info`` JSON by string formatting.

The data is read once, at import, into tuples and named tuples: the generator indexes and weights them in
its hot path, and immutable values keep one contract a pure function of its sequence number.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, NamedTuple


class State(NamedTuple):
    """A US state where the contract was sold; the cities name the dealer's location."""

    abbr: str
    name: str
    cities: tuple[str, ...]
    zip_low: int
    zip_high: int
    weight: int


class Model(NamedTuple):
    """A vehicle model with the model years it was really sold in.

    ``wmis`` are the World Manufacturer Identifiers of the plants that built it, so that a VIN's first
    three characters match the make (a reviewer who knows VINs notices a Toyota starting with ``1FT``).
    """

    name: str
    first_year: int
    last_year: int
    trims: tuple[str, ...]
    wmis: tuple[str, ...]
    plant: str
    msrp: int  # typical new price in thousands of dollars: amounts financed follow the vehicle


class Make(NamedTuple):
    """A make with a rough market-share weight (trucks and big brands dominate real portfolios)."""

    name: str
    weight: int
    models: tuple[Model, ...]


def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def _strings(values: list[str]) -> tuple[str, ...]:
    return tuple(values)


def _by_key(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


_places = _load("places")
_vehicles = _load("vehicles")
_parties = _load("parties")
_documents = _load("documents")
_clauses = _load("clauses")
_compact = _load("compact")

STATES: tuple[State, ...] = tuple(
    State(s["abbr"], s["name"], tuple(s["cities"]), s["zip_low"], s["zip_high"], s["weight"])
    for s in _places["states"]
)
STREETS = _strings(_places["streets"])

MAKES: tuple[Make, ...] = tuple(
    Make(
        make["name"],
        make["weight"],
        tuple(
            Model(
                m["name"],
                m["first_year"],
                m["last_year"],
                tuple(m["trims"]),
                tuple(m["wmis"]),
                m["plant"],
                m["msrp"],
            )
            for m in make["models"]
        ),
    )
    for make in _vehicles["makes"]
)
COLORS = _strings(_vehicles["colors"])

DEALER_PREFIXES = _strings(_parties["dealer_prefixes"])
DEALER_PATTERNS = _strings(_parties["dealer_patterns"])
LENDERS = _strings(_parties["lenders"])
ADMINISTRATORS: tuple[tuple[str, str, str], ...] = tuple(
    (a["name"], a["address"], a["phone"]) for a in _parties["administrators"]
)
INSURERS = _strings(_parties["insurers"])
OTHER_PRODUCTS: tuple[tuple[str, int, int], ...] = tuple(
    (p["name"], p["low"], p["high"]) for p in _parties["other_products"]
)
EMPLOYEE_TITLES = _strings(_parties["employee_titles"])

# Per contract type: (contract name, creditor role, buyer role, short name of the contract).
CONTRACT_TERMS: dict[str, tuple[str, str, str, str]] = {
    kind: (t["contract"], t["creditor"], t["buyer"], t["short"])
    for kind, t in _documents["contract_terms"].items()
}
# Document families. Each: (titles, noun, charge labels, administrator role).
FAMILIES: tuple[tuple[tuple[str, ...], str, tuple[str, ...], str], ...] = tuple(
    (tuple(f["titles"]), f["noun"], tuple(f["labels"]), f["admin_role"]) for f in _documents["families"]
)
SECTION_STYLES = _strings(_documents["section_styles"])
SECTION_TITLES = _by_key(_documents["section_titles"])

DEFINITIONS: tuple[tuple[str, str], ...] = tuple((d["term"], d["meaning"]) for d in _clauses["definitions"])
INTRO_CLAUSES = _strings(_clauses["intro_clauses"])
BENEFIT_CLAUSES = _strings(_clauses["benefit_clauses"])
DEDUCTIBLE_CLAUSES = _strings(_clauses["deductible_clauses"])
EXCLUSIONS = _strings(_clauses["exclusions"])
CLAIM_CLAUSES = _strings(_clauses["claim_clauses"])
CLAIM_FEE_CLAUSES = _strings(_clauses["claim_fee_clauses"])
GENERAL_CLAUSES = _strings(_clauses["general_clauses"])
IMPORTANT_NOTICES = _strings(_clauses["important_notices"])
ELIGIBILITY_CLAUSES = _strings(_clauses["eligibility_clauses"])
INSURANCE_CLAUSES = _strings(_clauses["insurance_clauses"])
TRANSFER_CLAUSES = _strings(_clauses["transfer_clauses"])
LIABILITY_CLAUSES = _strings(_clauses["liability_clauses"])
ARBITRATION_CLAUSES = _strings(_clauses["arbitration_clauses"])
STATE_CLAUSES = _by_key(_clauses["state_clauses"])
GENERIC_STATE_CLAUSES = _strings(_clauses["generic_state_clauses"])
PREMIUM_LINE_CLAUSES = _strings(_clauses["premium_line_clauses"])
PREMIUM_SENTENCE_CLAUSES = _strings(_clauses["premium_sentence_clauses"])
PREMIUM_WORDS_AND_DIGITS_CLAUSES = _strings(_clauses["premium_words_and_digits_clauses"])
PREMIUM_WORDS_ONLY_CLAUSES = _strings(_clauses["premium_words_only_clauses"])
PREMIUM_RESTATEMENT_CLAUSES = _strings(_clauses["premium_restatement_clauses"])
METHOD_CLAUSES = _by_key(_clauses["method_clauses"])
FEE_SENTENCE_CLAUSES = _strings(_clauses["fee_sentence_clauses"])
FEE_SUFFIX_CLAUSES = _strings(_clauses["fee_suffix_clauses"])
NO_FEE_SENTENCE_CLAUSES = _strings(_clauses["no_fee_sentence_clauses"])
NO_FEE_SUFFIX_CLAUSES = _strings(_clauses["no_fee_suffix_clauses"])
FEE_IN_RIDER_POINTERS = _strings(_clauses["fee_in_rider_pointers"])
FEE_RIDER_CLAUSES = _strings(_clauses["fee_rider_clauses"])
NO_FEE_RIDER_CLAUSES = _strings(_clauses["no_fee_rider_clauses"])
CANCEL_RIGHT_CLAUSES = _strings(_clauses["cancel_right_clauses"])
FREE_LOOK_CLAUSES = _strings(_clauses["free_look_clauses"])
PAYOFF_CLAUSES = _strings(_clauses["payoff_clauses"])
NO_REFUND_AFTER_CLAIM_CLAUSES = _strings(_clauses["no_refund_after_claim_clauses"])
REFUND_PAYEE_CLAUSES = _strings(_clauses["refund_payee_clauses"])

COMPACT_STATE_NOTES = _strings(_compact["state_notes"])
PARTY_FORMATS: dict[str, str] = {kind: "\n".join(lines) for kind, lines in _compact["party_formats"].items()}
# Each entry: (family index into FAMILIES, label, form code, text).
COMPACT_TEMPLATES: tuple[tuple[int, str, str, str], ...] = tuple(
    (t["family"], t["label"], t["form"], "\n".join(t["lines"])) for t in _compact["templates"]
)
