"""What a synthetic contract is: its fields, its ground truth, and the compact row the scale seeder copies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

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
    # The contract's loan terms: a lease has no APR; the state is the parties' (no other state governs).
    # A full document states all of them; a compact page states the state, and the term on most templates
    # but no APR (the scale seeder's pages: the accuracy reports read full documents).
    term_months: int | None = None
    governing_state: str | None = None
    apr: Decimal | None = None


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
