"""Compact mode: a one-page contract built from precomputed pieces, fast enough to COPY a million rows.

No pydantic in the hot path: :func:`generate_compact_rows` yields plain tuples (:data:`COMPACT_ROW_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from synthetic.contracts import vocabulary as vocab
from synthetic.contracts.amounts import money
from synthetic.contracts.identity import (
    FEE_DECIMALS,
    PREMIUM_DECIMALS,
    PREMIUM_DIGITS,
    PREMIUM_WORDS,
    Identity,
    identity_of,
    seed_keys,
    vehicle_json,
)
from synthetic.contracts.model import CONTRACT_TYPES, CompactRow


def fee_context(fee_cents: int) -> dict[str, str]:
    fee = FEE_DECIMALS[fee_cents]
    return {"fee": money(fee), "fee_short": f"${fee_cents // 100}" if fee_cents % 100 == 0 else money(fee)}


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
            for cents in FEE_DECIMALS:
                clauses = vocab.NO_FEE_SENTENCE_CLAUSES if cents == 0 else vocab.FEE_SENTENCE_CLAUSES
                fee[cents] = _short(tuple(" " + c.format(**ctx, **fee_context(cents)) for c in clauses))
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


def compact_record(ident: Identity, difficulty: str) -> CompactRow:
    """Fill one compact page; only ``%``/``str.format`` and table look-ups, no validation."""
    r, i = divmod(ident.spare, len(_COMPACT))
    pieces = _COMPACT[i][ident.contract_type]
    formats = pieces.premium[difficulty]
    r, i = divmod(r, len(formats))
    cents = ident.premium_cents
    premium = formats[i].format(PREMIUM_DIGITS[cents], PREMIUM_WORDS[cents])
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
        vehicle_json(ident),
        pieces.text % fields,
        PREMIUM_DECIMALS[cents],
        ident.method,
        None if fee_cents is None else FEE_DECIMALS[fee_cents],
    )


def generate_compact_rows(count: int, start: int = 1, seed: int = 0) -> Iterator[CompactRow]:
    """Compact contracts ``start .. start+count-1`` as plain tuples (see :data:`COMPACT_ROW_COLUMNS`).

    This is the scale seeder's path: no pydantic, no per-row ``random.Random``; a row is identical to
    ``generate_contract(seq, seed=seed, compact=True)`` field by field.
    """
    keys = seed_keys(seed)
    identity = identity_of
    record = compact_record
    for seq in range(start, start + count):
        ident = identity(seq, keys)
        yield record(ident, ident.difficulty)


# ---- full mode ------------------------------------------------------------------------------------------
