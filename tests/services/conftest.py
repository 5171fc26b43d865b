"""Fixtures for service tests: people with live sessions, contracts and extractions.

People are created straight in the database (cheap bcrypt rounds) so that a
test of, say, the review queue does not depend on the login service; the
auth tests exercise login itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import bcrypt
import pytest

from db.database import Database
from db.models import Contract, Extraction, Session, User
from services.context import Actor, ServiceContext, system_actor

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)

MakeContext = Callable[..., Awaitable[ServiceContext]]


@pytest.fixture(scope="session")
def password_hash() -> str:
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture
def system(database: Database) -> ServiceContext:
    """The command-line operator."""
    return ServiceContext(db=database, actor=system_actor("tests"))


async def create_person(
    database: Database,
    password_hash: str,
    role: str = "reviewer",
    username: str | None = None,
    **user_fields: Any,
) -> ServiceContext:
    """A user of that role with a live session, straight in the database."""
    n = next(_counter)
    username = username or f"{role}{n}"
    async with database.unit_of_work() as uow:
        user = User(
            username=username,
            email=f"{username}@example.com",
            full_name=f"{role.title()} {n}",
            password_hash=password_hash,
            role=role,
            **user_fields,
        )
        uow.session.add(user)
        await uow.session.flush()
        session = Session(
            user_id=user.id,
            user_agent="refund-review/tests",
            ip_address="192.0.2.10",
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=4),
        )
        uow.session.add(session)
        await uow.session.flush()
        actor = Actor(
            user_id=user.id,
            username=username,
            role=role,  # type: ignore[arg-type]
            session_id=session.id,
            ip_address="192.0.2.10",
            user_agent="refund-review/tests",
        )
        await uow.commit()
    return ServiceContext(db=database, actor=actor)


@pytest.fixture
def make_context(database: Database, password_hash: str) -> MakeContext:
    """`await make_context("reviewer")`: a new user of that role with a live session."""

    async def make(role: str = "reviewer", username: str | None = None, **user_fields: Any) -> ServiceContext:
        return await create_person(database, password_hash, role, username, **user_fields)

    return make


DOCUMENT = (
    "GUARANTEED ASSET PROTECTION WAIVER ADDENDUM\n"
    "Buyer: Customer #{n}\n"
    "VIN: 1HGCM82633A{n:06d}\n"
    "\f"
    "3. CHARGES\n"
    "GAP Waiver Charge: $1,250.00\n"
    "\f"
    "4. CANCELLATION AND REFUNDS\n"
    "If you cancel, the unearned charge is refunded on a pro rata basis.\n"
    "A $50 cancellation fee will be retained.\n"
)


def _source(document: str, quote: str) -> dict[str, Any]:
    start = document.index(quote)
    page = document.count("\f", 0, start) + 1
    page_start = document.rfind("\f", 0, start) + 1
    line = document.count("\n", page_start, start) + 1
    return {
        "page": page,
        "line": line,
        "section": None,
        "start": start,
        "end": start + len(quote),
        "quote": quote,
        "alignment": "exact",
    }


async def create_contract(
    database: Database,
    *,
    number: int | None = None,
    contract_id: str | None = None,
    premium: Decimal | None = Decimal("1250.00"),
    method: str | None = "Pro-Rata",
    fee: Decimal | None = Decimal("50.00"),
    premium_confidence: int = 90,
    method_confidence: int = 90,
    fee_confidence: int = 90,
    extracted_at: dt.datetime | None = None,
    provider: str = "rules",
    **extraction_fields: Any,
) -> Extraction:
    """A contract with a pending extraction; `number` fixes every derived value (for snapshots)."""
    n = next(_counter) if number is None else number
    contract_id = contract_id or f"GAP-2024-{n:06d}"
    document = DOCUMENT.format(n=n)
    async with database.unit_of_work() as uow:
        uow.session.add(
            Contract(
                contract_id=contract_id,
                account_number=f"{4_400_000_000 + n}",
                customer_name=f"Customer #{n}",
                vehicle_info={"vin": f"1HGCM82633A{n:06d}", "year": 2023, "make": "Honda", "model": "Accord"},
                contract_type="retail_installment",
                contract_date=dt.date(2024, 1, 1) + dt.timedelta(days=n % 365),
                s3_bucket="file",
                s3_key=f"/contracts/{contract_id}.txt",
                document_text=document,
                page_count=3,
                text_extraction_status="extracted",
            )
        )
        extraction = Extraction(
            id=uuid.uuid4(),
            contract_id=contract_id,
            gap_insurance_premium=premium,
            gap_insurance_premium_confidence=premium_confidence,
            gap_insurance_premium_source=_source(document, "GAP Waiver Charge: $1,250.00"),
            refund_calculation_method=method,
            refund_calculation_method_confidence=method_confidence,
            refund_calculation_method_source=_source(document, "refunded on a pro rata basis"),
            cancellation_fee=fee,
            cancellation_fee_confidence=fee_confidence,
            cancellation_fee_source=_source(document, "A $50 cancellation fee will be retained."),
            llm_provider=provider,
            model_version=f"{provider}-1",
            prompt_version="v1",
            extracted_at=extracted_at or dt.datetime.now(dt.UTC),
            **extraction_fields,
        )
        uow.session.add(extraction)
        await uow.session.flush()
        await uow.commit()
    return extraction


@pytest.fixture
def add_contract(database: Database) -> Callable[..., Awaitable[Extraction]]:
    """`await add_contract(premium_confidence=40, ...)`: a contract with a pending extraction."""

    async def add(**fields: Any) -> Extraction:
        return await create_contract(database, **fields)

    return add
