"""Hostile text through every service that takes text: only the project's typed errors, nothing refused stored.

Each test drives one service with hypothesis-generated markup, terminal escapes, NUL, lone surrogates,
bidi overrides, zero-width characters, SQL fragments and 1 MB strings (tests/hostile.py), over one
database per test. After every call: either the call succeeded and what it stored holds no control,
format or surrogate character, or it raised a ServiceError with a sentence and the database is as it
was. About 10,000 calls to database-backed services (10,067 in a measured run: some examples make two
calls) and 1,500 document and manifest parses. Marked slow: about a minute alone, more on a busy machine.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL

from db.database import Database, connect_database
from db.logins import login_url
from db.url import asyncpg_connect_args
from services import auth, chat, config, contracts, review, users
from services.audit import audit_page
from services.context import ServiceContext
from services.documents.manifest import MetadataError, contract_metadata, parse_manifest
from services.documents.readers import parse_document
from services.errors import InvalidInput, ServiceError
from services.input_text import PLACEHOLDER, document_text, typed_text
from services.review import claim_extraction
from tests.conftest import WORKSTATION_PASSWORD, _unique, admin_execute
from tests.hostile import HOSTILE_PIECES, hidden_characters, hostile_text
from tests.services.conftest import PASSWORD, create_contract, create_person

T = TypeVar("T")
pytestmark = pytest.mark.slow
ROUNDS = 4
PREMIUM = "gap_insurance_premium"


def examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# What must not move when a call is refused: every table a text-taking service writes.
_FINGERPRINT = """
SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM corrections),
       (SELECT count(*) FROM chat_messages), (SELECT count(*) FROM users),
       (SELECT sum(version) FROM extractions), (SELECT string_agg(value, '|' ORDER BY key) FROM system_config),
       (SELECT string_agg(coalesce(rejection_reason, '-'), '|' ORDER BY id) FROM extractions),
       (SELECT string_agg(username || is_active::text || role, '|' ORDER BY username) FROM users)
"""
# Every stored text a person or a file can have written.
_STORED_TEXTS = """
SELECT reason_note AS text FROM corrections WHERE reason_note IS NOT NULL
UNION ALL SELECT rejection_reason FROM extractions WHERE rejection_reason IS NOT NULL
UNION ALL SELECT content FROM chat_messages
UNION ALL SELECT value FROM system_config
UNION ALL SELECT full_name FROM users UNION ALL SELECT email FROM users
"""


@dataclass
class World:
    """One database for a whole hypothesis run, with its own event loop (hypothesis runs sync examples)."""

    runner: asyncio.Runner
    db: Database
    superuser: asyncpg.Connection
    reviewer: ServiceContext
    supervisor: ServiceContext
    admin: ServiceContext
    extraction_id: uuid.UUID
    contract_id: str
    calls: int = 0
    before: tuple[Any, ...] | None = None

    def run(self, call: Awaitable[T]) -> T:
        return self.runner.run(call)

    async def fingerprint(self) -> tuple[Any, ...]:
        return tuple(await self.superuser.fetchrow(_FINGERPRINT))

    async def attempt(self, call: Callable[[], Awaitable[T]], *, refusal_writes: bool = False) -> T | None:
        """Run one call; a refusal must be a typed error with a sentence and must leave no trace.

        The fingerprint is taken again after every success (which may write), so a refusal is compared
        with the state just before it.
        """
        self.calls += 1
        if self.before is None:
            self.before = await self.fingerprint()
        try:
            result = await call()
        except ServiceError as exc:
            assert exc.message.strip().endswith((".", ")", "?")), exc.message
            after = await self.fingerprint()
            if not refusal_writes:
                assert after == self.before, f"{type(exc).__name__} left a trace: {exc.message}"
            self.before = after
            return None
        self.before = None
        return result

    async def assert_stored_clean(self) -> None:
        for row in await self.superuser.fetch(_STORED_TEXTS):
            assert not hidden_characters(row["text"]), repr(row["text"][:200])


@pytest.fixture
def world(
    pg_server: URL, template_database: str, workstation_login: str, password_hash: str
) -> Iterator[World]:
    runner = asyncio.Runner()
    name = _unique("rr_hostile")
    runner.run(admin_execute(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    url = pg_server.set(database=name)

    async def build() -> World:
        db = connect_database(login_url(url, workstation_login, WORKSTATION_PASSWORD), owner_url=url)
        superuser = await asyncpg.connect(**asyncpg_connect_args(url))
        await superuser.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        reviewer = await create_person(db, password_hash, "reviewer", "rita")
        supervisor = await create_person(db, password_hash, "supervisor", "sam")
        admin = await create_person(db, password_hash, "admin", "ada")
        extraction = await create_contract(db, premium_confidence=40)
        await claim_extraction(reviewer, extraction.id)
        return World(
            runner, db, superuser, reviewer, supervisor, admin, extraction.id, extraction.contract_id
        )

    built = runner.run(build())
    yield built
    runner.run(built.superuser.close())
    runner.run(built.db.dispose())
    runner.run(admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    runner.close()


amounts = st.decimals(min_value=1, max_value=99_999, places=2).map(str)


def test_corrections(world: World) -> None:
    version = {"now": 1}

    @examples(1500)
    @given(
        value=st.one_of(amounts, hostile_text),
        note=hostile_text,
        reason=st.sampled_from(["misread_value", "other"]),
    )
    def correct(value: str, note: str, reason: str) -> None:
        async def call() -> None:
            detail = await world.attempt(
                lambda: review.correct_field(
                    world.reviewer, world.extraction_id, version["now"], PREMIUM, value, reason, note
                )
            )
            if detail is not None:
                version["now"] = detail.version

        world.run(call())

    correct()
    world.run(world.assert_stored_clean())
    assert world.calls >= 1500
    assert world.run(world.superuser.fetchval("SELECT count(*) FROM corrections")) > 0


def test_reject_reopen_and_undo(world: World) -> None:
    @examples(1200)
    @given(reason=hostile_text, supervisor=st.booleans())
    def decide(reason: str, supervisor: bool) -> None:
        async def call() -> None:
            version = await world.superuser.fetchval(
                "SELECT version FROM extractions WHERE id = $1", world.extraction_id
            )
            if supervisor:
                # A pending item: the reason is checked first, then the conflict says there is nothing to reopen.
                await world.attempt(
                    lambda: review.reopen(world.supervisor, world.extraction_id, version, reason)
                )
                return
            decision = await world.attempt(
                lambda: review.reject(world.reviewer, world.extraction_id, version, reason)
            )
            if decision is not None:
                await review.undo_last_decision(world.reviewer, world.extraction_id, decision.version)

        world.run(call())

    decide()
    world.run(world.assert_stored_clean())
    rejected = world.run(
        world.superuser.fetch("SELECT event_data FROM audit_events WHERE event_type = 'reject'")
    )
    assert rejected, "no hostile reason was ever accepted"
    for event in rejected:
        assert not hidden_characters(event["event_data"]["reason"])


def test_chat_questions(world: World) -> None:
    @examples(700)
    @given(question=hostile_text)
    def ask(question: str) -> None:
        async def call() -> None:
            async def drain() -> None:
                async for _ in chat.ask(world.reviewer, world.contract_id, question):
                    pass

            await world.attempt(drain)

        world.run(call())

    ask()
    world.run(world.assert_stored_clean())
    assert world.run(world.superuser.fetchval("SELECT count(*) FROM chat_messages")) > 0


def test_searches_and_contract_ids(world: World) -> None:
    @examples(1800)
    @given(text=hostile_text, by_id=st.booleans())
    def search(text: str, by_id: bool) -> None:
        async def call() -> None:
            if by_id:
                await world.attempt(lambda: review.get_detail_by_contract(world.reviewer, text))
            else:
                await world.attempt(lambda: contracts.search_contracts(world.reviewer, text))

        world.run(call())

    search()
    assert world.calls >= 1800


def test_settings(world: World) -> None:
    @examples(1000)
    @given(
        key=st.one_of(st.sampled_from(["anthropic_model", "openai_model", "llm_pricing"]), hostile_text),
        value=hostile_text,
    )
    def update(key: str, value: str) -> None:
        world.run(world.attempt(lambda: config.update_config(world.admin, key, value)))

    update()
    world.run(world.assert_stored_clean())


def test_users_and_logins(world: World) -> None:
    names = st.one_of(st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True), hostile_text)

    @examples(1500)
    @given(
        username=names,
        email=st.one_of(st.emails().map(str.lower), hostile_text),
        full_name=st.one_of(st.just("Carol King"), hostile_text),
        password=st.one_of(st.just(PASSWORD), hostile_text),
        action=st.sampled_from(["create", "change", "login"]),
    )
    def act(username: str, email: str, full_name: str, password: str, action: str) -> None:
        async def call() -> None:
            if action == "create":
                await world.attempt(
                    lambda: users.create_user(
                        world.admin, username, email, full_name, "reviewer", PASSWORD, bcrypt_rounds=ROUNDS
                    )
                )
            elif action == "change":
                await world.attempt(lambda: users.deactivate(world.admin, username))
                await world.attempt(lambda: users.change_role(world.admin, username, full_name))
            else:
                # A failed login writes its event on purpose: only the typed error is checked.
                await world.attempt(
                    lambda: auth.login(
                        world.db, ROUNDS, username, password, ip_address=None, user_agent="tests"
                    ),
                    refusal_writes=True,
                )

        world.run(call())

    act()
    world.run(world.assert_stored_clean())


def test_audit_filters(world: World) -> None:
    @examples(600)
    @given(
        user=st.one_of(st.none(), hostile_text),
        contract_id=st.one_of(st.none(), hostile_text),
        kind=hostile_text,
    )
    def page(user: str | None, contract_id: str | None, kind: str) -> None:
        world.run(
            world.attempt(
                lambda: audit_page(world.supervisor, user=user, contract_id=contract_id, event_types=[kind])
            )
        )
        world.run(world.attempt(lambda: audit_page(world.supervisor, user=user, contract_id=contract_id)))

    page()


@examples(1500)
@given(
    text=st.lists(
        st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=30), st.just("\n"), st.just("\f")),
        max_size=30,
    ).map("".join),
    manifest_cell=hostile_text,
)
def test_documents_and_manifests(text: str, manifest_cell: str) -> None:
    """Document text keeps its length (offsets stay right) and holds no hidden character; manifests refuse."""
    data = text.encode("utf-8", "surrogatepass")
    parsed = parse_document(data, "contract.txt")
    if parsed.status == "extracted":
        assert parsed.text is not None
        assert not hidden_characters(parsed.text, allowed="\n\t\f")
    cell = manifest_cell[:5000].replace('"', "'")
    try:
        manifest = parse_manifest(f'contract_id,customer_name\nGAP-1,"{cell}"\n', "m.csv")
        row = manifest.by_contract_id.get("GAP-1")
        if row is not None:
            metadata = contract_metadata("GAP-1.txt", row)
            assert not hidden_characters(metadata.customer_name, allowed="")
    except (InvalidInput, MetadataError) as exc:
        assert str(exc)


def test_the_cleaning_rules() -> None:
    """What each class of character becomes, in one place (the README says the same)."""
    assert (
        document_text("a\x1b[2Jb\u202ec\x00d\x85e\u200bf")
        == f"a{PLACEHOLDER}[2Jb{PLACEHOLDER}c{PLACEHOLDER}d{PLACEHOLDER}e{PLACEHOLDER}f"
    )
    assert len(document_text("x\ud800y")) == 3
    assert document_text("page\n\tone\fpage two") == "page\n\tone\fpage two"
    assert typed_text(" Per page 2 [/] see\x1b]0;t\x07 scan\u202e ", what="The note", max_chars=100) == (
        "Per page 2 [/] see]0;t scan"
    )
    assert (
        typed_text("line one\r\nline\ttwo", what="The note", max_chars=100, multiline=True)
        == "line one\nline\ttwo"
    )
    with pytest.raises(InvalidInput, match="broken character"):
        typed_text("ok\ud800", what="The reason", max_chars=100)
    with pytest.raises(InvalidInput, match="at most 100 characters"):
        typed_text("x" * 2**20, what="The reason", max_chars=100)


async def test_a_hostile_document_is_ingested_cleaned_with_its_bytes_left_as_they_were(
    system: ServiceContext, superuser: asyncpg.Connection, tmp_path
) -> None:
    from services.documents.ingest import ingest_documents

    raw = "GAP WAIVER\x1b]0;pwned\x07\nBuyer: Smith [/] Jones\u202e\n\x1b[2JPremium: $1,250.00\n".encode()
    (tmp_path / "GAP-2024-777777.txt").write_bytes(raw)
    report = await ingest_documents(system, str(tmp_path))
    assert report.failed == 0
    stored = await superuser.fetchval(
        "SELECT document_text FROM contracts WHERE contract_id = 'GAP-2024-777777'"
    )
    assert stored == raw.decode().translate({0x1B: PLACEHOLDER, 0x07: PLACEHOLDER, 0x202E: PLACEHOLDER})
    assert len(stored) == len(raw.decode())
    assert (tmp_path / "GAP-2024-777777.txt").read_bytes() == raw
    assert stored[stored.index("Premium") :].startswith("Premium: $1,250.00")
