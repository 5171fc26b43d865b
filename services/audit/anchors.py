"""Anchoring the audit chain outside the database, and checking the chain against its anchors.

The hash chain shows that rows were changed, unless whoever changed them
also recomputed every later hash and the chain head: the hash function is
in the database, and so is everything it hashes. An anchor closes that
gap the way Certificate Transparency's signed tree heads and QLDB's digests
do: the chain head (sequence number and hash) is signed, with the time and
the key's id, by an Ed25519 key the database never holds, and appended to
a store outside the database (services/audit/anchor_store.py). Whoever rewrites
history before an anchor can recompute the hashes but not the signature,
so `audit verify` finds the anchored event with another hash, or missing.

Anchoring writes no audit event. The CHECK list of event types has no
fitting type (`audit_verified` would say something that did not happen),
and the schema is not this change's to widen; the signed anchor in its
append-only store is the record, and a later anchor covers the events of
the time. An event would also always be one event past its own anchor.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import authorize
from services.audit.anchor_signing import (
    AnchorSigner,
    TrustedKeys,
    load_or_create_signer,
    load_public_key,
    parse_public_key,
    public_key_text,
)
from services.audit.anchor_store import AnchorStore, Appended, open_anchor_store
from services.context import ServiceContext
from services.errors import Conflict
from services.permissions import Permission
from services.settings import Settings
from services.system_settings import load_system_settings

ANCHOR_FORMAT = "refund-review audit anchor"
ANCHOR_VERSION = 1
# Signed bytes start with this, so an anchor signature is never valid as anything else.
_CONTEXT = b"refund-review audit anchor v1\n"


class AnchorStatement(BaseModel):
    """What an anchor asserts: event #seq had this hash at this time, said the holder of key_id."""

    seq: int
    hash: str
    anchored_at: dt.datetime
    key_id: str

    def message(self) -> bytes:
        fields = self.model_dump(mode="json")
        return _CONTEXT + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def file_name(self) -> str:
        # Sequence first and zero-padded: name order is chain order.
        return f"anchor-{self.seq:015d}-{self.anchored_at:%Y%m%dT%H%M%S%fZ}-{self.key_id}.json"


class AnchorResult(BaseModel):
    statement: AnchorStatement
    written: bool
    location: str
    locked_until: dt.datetime | None = None
    public_key: str


@dataclass(frozen=True)
class AnchorSource:
    """The anchors a verification reads, and the keys it trusts them from."""

    store: AnchorStore
    trusted: TrustedKeys


def anchor_source(settings: Settings) -> AnchorSource:
    """The configured store, trusting the signing key's public half (when this machine has the key)
    and every public key the settings name."""
    keys = [parse_public_key(text) for text in settings.anchor_public_keys]
    own = load_public_key(settings.anchor_key_path)
    return AnchorSource(
        store=open_anchor_store(settings.anchor_store_location),
        trusted=TrustedKeys([*keys, *([own] if own is not None else [])]),
    )


def signer_from(settings: Settings) -> AnchorSigner:
    return load_or_create_signer(settings.anchor_key_path)


_HEAD = text(
    "SELECT h.last_seq, encode(h.last_hash, 'hex') AS last_hash, "
    "(SELECT encode(e.hash, 'hex') FROM audit_events e WHERE e.seq = h.last_seq LIMIT 1) AS event_hash "
    "FROM audit_chain_head h WHERE h.id = 1"
)


async def anchor_chain(
    ctx: ServiceContext, signer: AnchorSigner, store: AnchorStore, *, now: dt.datetime | None = None
) -> AnchorResult:
    """Sign the chain head and append it to `store`; when the store's newest anchor already says the
    same, nothing is written (so cron can run this hourly on a quiet system)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MAINTAIN)
        head = (await uow.session.execute(_HEAD)).one()
        years = (await load_system_settings(uow.session)).audit_retention_years
        await uow.commit()
    if head.last_seq and head.event_hash != head.last_hash:
        raise Conflict(
            f"The chain head says event #{head.last_seq} has hash {head.last_hash}, but the event "
            f"{'is missing' if head.event_hash is None else 'has another'}: nothing was anchored. "
            "Run `refund-review audit verify`."
        )
    moment = now or dt.datetime.now(dt.UTC)
    statement = AnchorStatement(
        seq=head.last_seq, hash=head.last_hash, anchored_at=moment, key_id=signer.key_id
    )
    public = public_key_text(signer.public)
    latest = await asyncio.to_thread(_latest, store)
    if latest is not None and (latest.seq, latest.hash, latest.key_id) == (
        statement.seq,
        statement.hash,
        statement.key_id,
    ):
        return AnchorResult(statement=latest, written=False, location=store.location, public_key=public)
    body = _document(statement, signer.sign(statement.message()))
    appended: Appended = await asyncio.to_thread(
        store.append, statement.file_name(), body, _years_after(moment, years)
    )
    return AnchorResult(
        statement=statement,
        written=True,
        location=appended.location,
        locked_until=appended.locked_until,
        public_key=public,
    )


def _years_after(moment: dt.datetime, years: int) -> dt.datetime:
    """The end of the retention period: an anchor is kept as long as the events it vouches for."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _document(statement: AnchorStatement, signature: bytes) -> bytes:
    document = {
        "format": ANCHOR_FORMAT,
        "version": ANCHOR_VERSION,
        "statement": statement.model_dump(mode="json"),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _latest(store: AnchorStore) -> AnchorStatement | None:
    """The newest anchor's statement as written (its signature is checked by `audit verify`)."""
    names = store.names()
    if not names:
        return None
    statement, _ = _parse(store.read(names[-1]))
    return statement


def _parse(body: bytes) -> tuple[AnchorStatement | None, bytes | str]:
    """(statement, signature), or (None, what is wrong)."""
    try:
        document = json.loads(body)
        if document.get("format") != ANCHOR_FORMAT or document.get("version") != ANCHOR_VERSION:
            return None, "it is not a refund-review audit anchor (version 1)"
        return AnchorStatement.model_validate(document["statement"]), base64.b64decode(
            document["signature"], validate=True
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, ValidationError):
        return None, "it cannot be read as an anchor"


# --- checking ------------------------------------------------------------------------------


class ReadAnchor(BaseModel):
    """One anchor from the store: its statement when the signature holds, else what is wrong."""

    name: str
    statement: AnchorStatement | None
    problem: str | None


def read_anchors(source: AnchorSource) -> list[ReadAnchor]:
    """Every anchor in the store, each with its signature checked against the trusted keys."""
    found = []
    for name in source.store.names():
        statement, signature = _parse(source.store.read(name))
        problem = signature if isinstance(signature, str) else None
        if statement is not None and isinstance(signature, bytes):
            problem = source.trusted.problem(statement.key_id, statement.message(), signature)
        found.append(ReadAnchor(name=name, statement=statement if problem is None else None, problem=problem))
    return found


class AnchorReport(BaseModel):
    """What the anchors say about the chain."""

    store: str
    anchors_read: int
    anchors_confirmed: int
    last_anchored_seq: int | None
    last_anchored_at: dt.datetime | None
    not_yet_anchored: int
    problems: list[str]
    notes: list[str]


_ANCHORED_ROWS = text(
    "SELECT seq, encode(hash, 'hex') AS hash FROM audit_events WHERE seq IN :seqs"
).bindparams(bindparam("seqs", expanding=True))
_CHAIN_END = text("SELECT coalesce(max(seq), 0) FROM audit_events")
_AFTER = text("SELECT count(*) FROM audit_events WHERE seq > :seq")


async def check_anchors(
    session: AsyncSession, store: str, anchors: list[ReadAnchor], archived_through: int
) -> AnchorReport:
    """Each signed anchor against the database: the anchored event must still exist with that hash.

    Anchors at or below `archived_through` name events that retention has
    dropped; the archives and their manifests answer for those.
    """
    problems = [f"Anchor {a.name}: {a.problem}." for a in anchors if a.problem is not None]
    signed = [a.statement for a in anchors if a.statement is not None]
    live = [s for s in signed if s.seq > archived_through]
    notes = []
    if len(live) < len(signed):
        notes.append(
            f"{len(signed) - len(live)} anchors name archived events (#{archived_through} and before): "
            "check the archives with `refund-review audit verify-export`."
        )
    end = int(await session.scalar(_CHAIN_END) or 0)
    rows: dict[int, set[str]] = {}
    if live:
        for row in (await session.execute(_ANCHORED_ROWS, {"seqs": sorted({s.seq for s in live})})).all():
            rows.setdefault(row.seq, set()).add(row.hash)
    confirmed: list[AnchorStatement] = []
    for statement in live:
        problem = _anchor_problem(statement, end, rows.get(statement.seq, set()))
        if problem is None:
            confirmed.append(statement)
        else:
            problems.append(problem)
    last = max(confirmed, key=lambda s: (s.seq, s.anchored_at), default=None)
    covered = last.seq if last is not None else archived_through
    return AnchorReport(
        store=store,
        anchors_read=len(anchors),
        anchors_confirmed=len(confirmed),
        last_anchored_seq=last.seq if last else None,
        last_anchored_at=last.anchored_at if last else None,
        not_yet_anchored=int(await session.scalar(_AFTER, {"seq": covered}) or 0),
        problems=problems,
        notes=notes,
    )


def _anchor_problem(statement: AnchorStatement, end: int, hashes: set[str]) -> str | None:
    when = f"anchored {statement.anchored_at:%Y-%m-%d %H:%M:%S} UTC"
    if statement.seq > end:
        return (
            f"The anchor of event #{statement.seq} ({when}) lies beyond the chain's end at #{end}: "
            f"events #{end + 1}..#{statement.seq} were cut off."
        )
    if not hashes:
        return f"Event #{statement.seq}, {when}, is missing from the chain: it was deleted."
    if statement.hash not in hashes:
        return (
            f"Event #{statement.seq} no longer has the hash signed when it was {when}: "
            f"the history up to #{statement.seq} was rewritten since."
        )
    return None


def describe_anchors(report: AnchorReport) -> str:
    """One line for people: how far the anchors reach, and what they do not cover yet."""
    if report.last_anchored_seq is None:
        reach = f"no confirmed anchor in {report.store}"
    else:
        reach = (
            f"{report.anchors_confirmed:,} of {report.anchors_read:,} anchors confirmed, the latest at "
            f"#{report.last_anchored_seq} ({report.last_anchored_at:%Y-%m-%d %H:%M} UTC)"
        )
    return f"Anchors: {reach}; not yet anchored: {report.not_yet_anchored:,}."
