"""The demo: people, realistic contracts and a morning's work, made through the real services.

Nothing here writes a table directly. Users are created by the user service,
contracts arrive through ingestion (text files and a manifest, as an operator
would load them), the rules extractor reads them, and demo reviewers log in,
open items, correct what the extractor got wrong (the synthetic contracts
carry their true values), approve, reject and ask questions. So the audit
log, the metrics and the queue a new user meets are exactly what the product
produces on real work, and `refund-review audit verify` passes.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, select, text

from db.models import Contract, User
from services import auth, chat, metrics, review, users
from services.context import ServiceContext
from services.documents.ingest import ingest_documents
from services.extraction.types import FIELD_NAMES
from services.extractions import extract_contracts
from services.permissions import Permission, require
from synthetic.contracts import SyntheticContract, generate_contracts

DEMO_CONTRACTS = 180
# (username, role, full name); the password is "<username>-demo-pass".
DEMO_PEOPLE = (
    ("admin", "admin", "Ada Adams"),
    ("supervisor", "supervisor", "Sam Ortiz"),
    ("alice", "reviewer", "Alice Nguyen"),
    ("bob", "reviewer", "Bob Marsh"),
    ("carol", "reviewer", "Carol Diaz"),
)
REVIEWED_SHARE = 0.35
# How long a demo reviewer reads a contract before deciding it, in seconds (lowest, highest).
READING_SECONDS = (25, 140)
_EARLIER_CLAIM = text(
    "UPDATE extractions SET claimed_at = claimed_at - make_interval(secs => :seconds) WHERE id = :id"
)
REJECTION_REASONS = (
    "Scanned copy is missing the cancellation page",
    "Wrong contract attached to this account",
)
DEMO_QUESTIONS = (
    "What is the cancellation fee?",
    "How is the refund calculated?",
    "Is there a free look period?",
)


def demo_password(username: str) -> str:
    return f"{username}-demo-pass"


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of every demo person, for the login screen and the terminal."""
    return [(name, demo_password(name), role) for name, role, _ in DEMO_PEOPLE]


class DemoReport(BaseModel):
    already_loaded: bool
    contracts: int
    pending: int
    approved: int
    rejected: int
    corrections: int
    chat_questions: int
    seconds: float


async def demo_loaded(ctx: ServiceContext) -> bool:
    async with ctx.unit_of_work() as uow:
        return bool(
            await uow.session.scalar(select(func.count()).select_from(User).where(User.username == "alice"))
        )


SMUDGED_EVERY = 9  # one contract in nine came from a poor scan


def _smudged(contract: SyntheticContract) -> str:
    """The text as a poor scan gives it: a digit of the premium lost wherever it is written in figures.

    The extractor cannot read what the scan lost, so these go to review and the
    reviewer, who has the paper, corrects them: the demo's corrections are real
    work, not invented mistakes.
    """
    premium = contract.truth.gap_insurance_premium
    if premium is None:
        return contract.document_text
    figures = f"{premium:,.2f}"
    return contract.document_text.replace(figures, figures[:1] + "?" + figures[2:])


def _write_documents(folder: Path, contracts: list[SyntheticContract]) -> Path:
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "contract_id", "account_number", "customer_name", "contract_date",
                         "contract_type", "vin", "year", "make", "model", "trim", "color", "mileage"])  # fmt: skip
        for c in contracts:
            name = f"{c.contract_id}.txt"
            text = _smudged(c) if int(c.contract_id[-6:]) % SMUDGED_EVERY == 0 else c.document_text
            (folder / name).write_text(text, encoding="utf-8")
            v = c.vehicle_info
            writer.writerow([name, c.contract_id, c.account_number, c.customer_name, c.contract_date.isoformat(),
                             c.contract_type, v.vin, v.year, v.make, v.model, v.trim or "", v.color or "",
                             v.mileage])  # fmt: skip
    return manifest


def _truth_text(contract: SyntheticContract, field: str) -> str:
    value = getattr(contract.truth, field)
    if value is None:
        return review.NOT_STATED
    return format(value, "f") if isinstance(value, Decimal) else str(value)


async def seed_demo(
    ctx: ServiceContext, *, bcrypt_rounds: int, contracts: int = DEMO_CONTRACTS
) -> DemoReport:
    """Load the demo once; a second call reports what is there and changes nothing."""
    require(ctx.actor, Permission.MAINTAIN)
    started = time.perf_counter()
    if await demo_loaded(ctx):
        return DemoReport(already_loaded=True, contracts=0, pending=0, approved=0, rejected=0, corrections=0,
                          chat_questions=0, seconds=0.0)  # fmt: skip
    for username, role, full_name in DEMO_PEOPLE:
        await users.create_user(ctx, username, f"{username}@demo.example.com", full_name, role,
                                demo_password(username), bcrypt_rounds=bcrypt_rounds,
                                temporary=False)  # fmt: skip  # the demo's logins are published
    synthetic = list(generate_contracts(contracts, start=1, seed=0))
    with tempfile.TemporaryDirectory(prefix="refund-review-demo-") as folder:
        manifest = _write_documents(Path(folder), synthetic)
        await ingest_documents(ctx, folder, manifest=manifest, pdf_workers=0)
    await extract_contracts(ctx, all=True, provider="rules")
    counts = await _morning_of_reviews(ctx, synthetic, bcrypt_rounds)
    await metrics.refresh_extraction_metrics(ctx, full=True)
    async with ctx.unit_of_work() as uow:
        loaded = int(await uow.session.scalar(select(func.count()).select_from(Contract)) or 0)
    return DemoReport(already_loaded=False, contracts=loaded, seconds=round(time.perf_counter() - started, 1),
                      **counts)  # fmt: skip


def _reason(detail: review.ExtractionDetail, name: str) -> str:
    if detail.field(name).value is None:
        return "document_quality"
    return "method_misclassified" if name == "refund_calculation_method" else "misread_value"


async def _read_for_a_while(ctx: ServiceContext, extraction_id: uuid.UUID, seconds: int) -> None:
    """Start the claim `seconds` earlier: the loader decides at once, a person reads the contract first,
    and the dashboard's median seconds per item (claim to decision) should look like a real morning."""
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(_EARLIER_CLAIM, {"id": extraction_id, "seconds": seconds})
        await uow.commit()


async def _session(ctx: ServiceContext, username: str, bcrypt_rounds: int) -> ServiceContext:
    result = await auth.login(ctx.db, bcrypt_rounds, username, demo_password(username), ip_address="192.0.2.15",
                              user_agent="refund-review demo loader")  # fmt: skip
    return ctx.as_actor(result.actor)


async def _morning_of_reviews(
    ctx: ServiceContext, synthetic: list[SyntheticContract], bcrypt_rounds: int
) -> dict[str, int]:
    """Reviewers work through part of the queue, mostly the confident items, leaving the hard ones pending."""
    rng = random.Random(7)
    truth = {c.contract_id: c for c in synthetic}
    reviewers = [
        await _session(ctx, name, bcrypt_rounds) for name, role, _ in DEMO_PEOPLE if role == "reviewer"
    ]
    page = await review.queue_page(reviewers[0], limit=200)
    items = sorted(page.items, key=lambda item: -item.min_confidence)
    # Mostly the confident items, and every fourth of the rest, where the extractor's mistakes are.
    confident = int(len(items) * REVIEWED_SHARE)
    chosen = items[:confident] + items[confident:-2:4]
    approved = rejected = corrections = 0
    for n, item in enumerate(chosen):
        reviewer = reviewers[n % len(reviewers)]
        detail = await review.claim_extraction(reviewer, item.extraction_id)
        await _read_for_a_while(ctx, detail.extraction_id, rng.randint(*READING_SECONDS))
        if n % 23 == 11:
            await review.reject(reviewer, detail.extraction_id, detail.version, rng.choice(REJECTION_REASONS))
            rejected += 1
            continue
        contract = truth[detail.contract_id]
        for name in FIELD_NAMES:
            right = _truth_text(contract, name)
            if review.display_value(detail.field(name).value) != right:
                detail = await review.correct_field(
                    reviewer, detail.extraction_id, detail.version, name, right, _reason(detail, name),
                    "Checked against the paper contract.",
                )  # fmt: skip
                corrections += 1
        await review.approve(reviewer, detail.extraction_id, detail.version)
        approved += 1
    asker = reviewers[0]
    questions = 0
    for item in items[-2:]:
        for question in DEMO_QUESTIONS:
            async for _ in chat.ask(asker, item.contract_id, question):
                pass
            questions += 1
    for reviewer in reviewers:
        await auth.logout(reviewer)
    pending = (await review.queue_counts(reviewers[0].as_actor(ctx.actor))).total_pending
    return {"pending": pending, "approved": approved, "rejected": rejected, "corrections": corrections,
            "chat_questions": questions}  # fmt: skip
