"""Finding contracts from one search box.

What a person types is classified, and each kind is answered by the index built for it
(schema/v0001/03_indexes.sql):

- ``GAP-2024-00``, any case (letters, a hyphen, then id characters) -> ``contract_id``: prefix on
  ``contract_id`` (text_pattern_ops index);
- ``4400012``, digits and hyphens -> ``account``: prefix on ``account_number`` (text_pattern_ops);
- ``1HGCM82633A004352`` or ``1HGCM8``, 6 to 17 characters of the VIN alphabet (no I, O, Q) with a letter
  and a digit -> ``vin``: prefix on ``upper(vehicle_info ->> 'vin')`` (the expression index);
- ``make:Honda model:"CR-V"`` -> ``vehicle``: containment on ``vehicle_info`` (GIN jsonb_path_ops);
- ``Customer #12345``, ``#12345`` -> ``customer``: trigram word similarity on ``customer_name``;
- anything else -> ``text``: full text over the document (``websearch_to_tsquery``, which accepts any
  text), ranked by ``ts_rank`` on the stored ``document_tsv``, with snippets.

The vehicle syntax is ``key:value`` terms separated by spaces, all of them ANDed, with ``key`` one of
make, model, year, trim, color and a value in double quotes when it holds spaces. Values match whatever
their case (as typed, Title, UPPER or lower); ``year`` takes a number.

When an id, account, VIN or customer search finds nothing, the same words are searched as full text, so
a number that is not an account still finds the contracts that mention it; each hit says how it matched.

Snippets mark the matched words with :data:`HIGHLIGHT_START` and :data:`HIGHLIGHT_END` (U+E000 and
U+E001, private-use characters that no contract text contains); the screen turns them into highlight
markup after escaping the rest of the text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import authorize
from services.context import ServiceContext
from services.domain import ExtractionStatus
from services.errors import InvalidInput
from services.input_text import typed_text
from services.permissions import Permission

MatchKind = Literal["contract_id", "account", "vin", "vehicle", "customer", "text"]
ContractType = Literal["retail_installment", "lease", "balloon", "refinance"]
CONTRACT_TYPES: tuple[ContractType, ...] = get_args(ContractType)
EXTRACTION_STATUSES: tuple[ExtractionStatus, ...] = get_args(ExtractionStatus)
VEHICLE_KEYS: tuple[str, ...] = ("make", "model", "year", "trim", "color")

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
MAX_QUERY_CHARS = 200
MAX_PAGE_SIZE = 100
# Full-text and customer searches rank at most this many candidates (see search_contracts).
RANKED_CANDIDATES = 500

_HEADLINE_OPTIONS = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, "
    'MaxWords=20, MinWords=8, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)
_CONTRACT_ID = re.compile(r"[A-Za-z]{2,10}-[A-Za-z0-9._-]*")
# contracts_contract_id_format in schema/v0001/01_tables.sql.
_ACCOUNT = re.compile(r"[0-9][0-9-]*")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{6,17}")
_CUSTOMER = re.compile(r"(?:customer\b|#)\s*#?\s*(?P<term>.*)", re.IGNORECASE)
_VEHICLE_TERM = re.compile(r'\s*(?P<key>[A-Za-z]+)\s*:\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))\s*')
_LIKE_SPECIAL = re.compile(r"([\\%_])")
_FALLS_BACK_TO_TEXT: frozenset[MatchKind] = frozenset({"contract_id", "account", "vin", "customer"})
# Control characters (NUL included), lone surrogates and invisible format characters carry no meaning in
# a search and some cannot be sent to PostgreSQL at all: they become spaces.


class SearchCursor(BaseModel):
    """The sort key of the last hit of a page; the next page starts after it."""

    model_config = ConfigDict(frozen=True)

    kind: MatchKind
    contract_id: str
    # The account or VIN of the last hit for those kinds; the rank for ranked kinds.
    key: str | None = None
    rank: float | None = None


class ContractHit(BaseModel):
    contract_id: str
    account_number: str
    customer_name: str
    contract_date: dt.date | None
    contract_type: str
    vin: str | None
    # None when the contract has no extraction yet.
    extraction_status: ExtractionStatus | None
    min_confidence: int | None
    match_kind: MatchKind
    # Full-text hits only: up to two passages, matched words between HIGHLIGHT_START and HIGHLIGHT_END.
    snippet: str | None = None
    # Ranked kinds only (text, customer): higher is better.
    rank: float | None = None


class SearchPage(BaseModel):
    query: str
    kind: MatchKind
    hits: list[ContractHit]
    # None on the last page.
    next_cursor: SearchCursor | None
    # Ranked kinds: how many contracts were ranked; None for prefix kinds, whose count is not computed.
    matches: int | None
    # True when more than RANKED_CANDIDATES contracts match and only that many were ranked.
    more_than_ranked: bool = False


@dataclass(frozen=True)
class _Query:
    """A classified search: its kind and the bound values its SQL needs."""

    kind: MatchKind
    params: dict[str, Any]


# --- input -------------------------------------------------------------------------------------------


def normalize_query(raw: str) -> str:
    """The search text with control and invisible characters removed and spaces collapsed.

    Refuses what cannot be a search with a sentence rather than letting the database choke on it.
    """
    query = typed_text(raw, what="A search", max_chars=MAX_QUERY_CHARS)
    if not query:
        raise InvalidInput("Type something to search for.")
    return query


def _like_prefix(value: str) -> str:
    """A LIKE pattern matching values that start with `value` literally (with ESCAPE '\\')."""
    return _LIKE_SPECIAL.sub(r"\\\1", value) + "%"


def _vehicle_terms(query: str) -> dict[str, list[Any]] | None:
    """`make:Honda model:"CR-V"` as the values each key may take, or None if it is not that syntax."""
    terms: dict[str, list[Any]] = {}
    position = 0
    while position < len(query):
        match = _VEHICLE_TERM.match(query, position)
        if match is None or match.group("key").lower() not in VEHICLE_KEYS:
            return None
        key = match.group("key").lower()
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        value = value.strip()
        if not value or key in terms:
            raise InvalidInput(
                f'Give {key}: one value, e.g. make:Honda model:"CR-V" (quotes around values with spaces).'
            )
        if key == "year":
            if not value.isdigit():
                raise InvalidInput(f"year: takes a number such as 2023, not {value!r}.")
            terms[key] = [int(value)]
        else:
            terms[key] = list(dict.fromkeys([value, value.title(), value.upper(), value.lower()]))
        position = match.end()
    return terms or None


def classify(query: str) -> _Query:
    """What the person most likely typed; see the table in the module docstring."""
    vehicle = _vehicle_terms(query)
    if vehicle is not None:
        return _Query(
            "vehicle",
            {
                f"vehicle_{i}": [{key: value} for value in values]
                for i, (key, values) in enumerate(vehicle.items())
            },
        )
    if _CONTRACT_ID.fullmatch(query):
        return _Query("contract_id", {"pattern": _like_prefix(query.upper())})
    if _ACCOUNT.fullmatch(query):
        return _Query("account", {"pattern": _like_prefix(query)})
    upper = query.upper()
    # All digits went to accounts above; a letter as well keeps words such as "CHARGE" out.
    if _VIN.fullmatch(upper) and any(ch.isdigit() for ch in upper) and any(ch.isalpha() for ch in upper):
        return _Query("vin", {"pattern": _like_prefix(upper)})
    customer = _CUSTOMER.fullmatch(query)
    if customer is not None and customer.group("term").strip():
        return _Query("customer", {"term": customer.group("term").strip()})
    return _Query("text", {"q": query})


# --- SQL ---------------------------------------------------------------------------------------------
# Every statement below is assembled from the constant fragments in this section; what a person typed
# only ever reaches PostgreSQL as a bound value.

_HIT_COLUMNS = """
    c.contract_id, c.account_number, c.customer_name, c.contract_date, c.contract_type,
    c.vehicle_info ->> 'vin' AS vin, e.status AS extraction_status, e.min_confidence"""
_FROM = "contracts c LEFT JOIN extractions e ON e.contract_id = c.contract_id"
_FILTERS: dict[str, str] = {
    "status": "e.status = :status",
    "contract_type": "c.contract_type = :contract_type",
    "date_from": "c.contract_date >= :date_from",
    "date_to": "c.contract_date <= :date_to",
    "confidence_below": "e.min_confidence < :confidence_below",
}
_TSQUERY = "websearch_to_tsquery('english', :q)"

# Prefix kinds walk an index in order. ORDER BY ... USING ~<~ is the order of the text_pattern_ops
# indexes, which serve LIKE 'prefix%' whatever the database collation; the cursor condition uses the
# same operators, so a page starts with an index seek after the last hit instead of a rescan.
_SORT_KEYS: dict[MatchKind, str] = {
    "contract_id": "c.contract_id",
    "account": "c.account_number",
    "vin": "upper(c.vehicle_info ->> 'vin')",
    "vehicle": "c.contract_id",
}
_PREFIX_MATCH: dict[MatchKind, str] = {
    "contract_id": "c.contract_id LIKE :pattern ESCAPE '\\'",
    "account": "c.account_number LIKE :pattern ESCAPE '\\'",
    "vin": "upper(c.vehicle_info ->> 'vin') LIKE :pattern ESCAPE '\\'",
}
_RANKED_MATCH: dict[MatchKind, str] = {
    "text": f"c.document_tsv @@ {_TSQUERY}",
    "customer": ":term <% c.customer_name",
}
_RANK: dict[MatchKind, str] = {
    "text": f"ts_rank(c.document_tsv, {_TSQUERY}, 1)",
    "customer": "word_similarity(:term, c.customer_name)",
}
_SNIPPET: dict[MatchKind, str] = {
    "text": f"ts_headline('english', c.document_text, {_TSQUERY}, :headline_options)",
    "customer": "NULL::text",
}
# Ranked searches take their candidates in the order the table stores them (see search_contracts); a
# parallel scan or a synchronized sequential scan (one that joins another in mid-table) would give a
# different set each time, and the second page would not continue the first.
_STABLE_SCAN = text(
    "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('synchronize_seqscans', 'off', true)"
)


def _where(*conditions: str) -> str:
    return " AND ".join(f"({condition})" for condition in conditions if condition)


def _ordered_statement(kind: MatchKind, match: str, filters: list[str], after: bool) -> str:
    key = _SORT_KEYS[kind]
    if key == "c.contract_id":
        keyset, order = "c.contract_id ~>~ :after_id", "c.contract_id USING ~<~"
    else:
        keyset = f"{key} ~>=~ :after_key AND ({key} ~>~ :after_key OR c.contract_id ~>~ :after_id)"
        order = f"{key} USING ~<~, c.contract_id USING ~<~"
    return f"""
        SELECT {_HIT_COLUMNS}, {key} AS sort_key
          FROM {_FROM}
         WHERE {_where(match, *filters, keyset if after else "")}
         ORDER BY {order}
         LIMIT :fetch"""


def _ranked_statement(kind: MatchKind, filters: list[str], after: bool) -> str:
    keyset = "r.rank < :after_rank OR (r.rank = :after_rank AND r.contract_id > :after_id)"
    return f"""
        WITH candidates AS MATERIALIZED (
            SELECT c.contract_id, {_RANK[kind]} AS rank, row_number() OVER () AS n
              FROM {_FROM}
             WHERE {_where(_RANKED_MATCH[kind], *filters)}
             LIMIT :candidates + 1
        ), page AS (
            SELECT r.contract_id, r.rank, row_number() OVER (ORDER BY r.rank DESC, r.contract_id) AS n
              FROM candidates r
             WHERE {_where("r.n <= :candidates", keyset if after else "")}
             ORDER BY r.rank DESC, r.contract_id
             LIMIT :fetch
        )
        SELECT {_HIT_COLUMNS}, p.rank, (SELECT count(*) FROM candidates) AS matches,
               CASE WHEN p.n <= :limit THEN {_SNIPPET[kind]} END AS snippet
          FROM page p
          JOIN contracts c ON c.contract_id = p.contract_id
          LEFT JOIN extractions e ON e.contract_id = c.contract_id
         ORDER BY p.rank DESC, p.contract_id"""


def _statement(kind: MatchKind, params: dict[str, Any], filters: list[str], after: bool) -> TextClause:
    if kind in _RANKED_MATCH:
        return text(_ranked_statement(kind, filters, after))
    if kind != "vehicle":
        return text(_ordered_statement(kind, _PREFIX_MATCH[kind], filters, after))
    terms = [name for name in params if name.startswith("vehicle_")]
    match = _where(*(f"c.vehicle_info @> ANY(:{name})" for name in terms))
    return text(_ordered_statement(kind, match, filters, after)).bindparams(
        *(bindparam(name, type_=ARRAY(JSONB)) for name in terms)
    )


# --- the service -------------------------------------------------------------------------------------


def _filters(
    status: str | None,
    contract_type: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    confidence_below: int | None,
) -> dict[str, Any]:
    if status is not None and status not in EXTRACTION_STATUSES:
        raise InvalidInput(f"Status must be one of {', '.join(EXTRACTION_STATUSES)}; {status!r} is not.")
    if contract_type is not None and contract_type not in CONTRACT_TYPES:
        raise InvalidInput(
            f"Contract type must be one of {', '.join(CONTRACT_TYPES)}; {contract_type!r} is not."
        )
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInput("The 'from' date is after the 'to' date; swap them or widen the range.")
    if confidence_below is not None and not 0 < confidence_below <= 100:
        raise InvalidInput("'Confidence below' takes a number from 1 to 100.")
    given = {
        "status": status,
        "contract_type": contract_type,
        "date_from": date_from,
        "date_to": date_to,
        "confidence_below": confidence_below,
    }
    return {name: value for name, value in given.items() if value is not None}


def _hit(row: Any, kind: MatchKind) -> ContractHit:
    snippet = getattr(row, "snippet", None)
    return ContractHit(
        contract_id=row.contract_id,
        account_number=row.account_number,
        customer_name=row.customer_name,
        contract_date=row.contract_date,
        contract_type=row.contract_type,
        vin=row.vin,
        extraction_status=row.extraction_status,
        min_confidence=row.min_confidence,
        match_kind=kind,
        # Page breaks and line ends of the document would break a one-line result row.
        snippet=" ".join(snippet.split()) if snippet else None,
        rank=getattr(row, "rank", None),
    )


async def _run(
    session: AsyncSession,
    query: str,
    kind: MatchKind,
    params: dict[str, Any],
    filters: dict[str, Any],
    after: SearchCursor | None,
    limit: int,
) -> SearchPage | None:
    """One page of one kind of search, or None when it finds nothing."""
    ranked = kind in _RANKED_MATCH
    values = {**params, **filters, "fetch": limit + 1}
    if ranked:
        values |= {"limit": limit, "candidates": RANKED_CANDIDATES}
    if kind == "text":
        values["headline_options"] = _HEADLINE_OPTIONS
    if after is not None:
        values["after_id"] = after.contract_id
        values |= {"after_rank": after.rank} if ranked else {"after_key": after.key}
    statement = _statement(kind, params, [_FILTERS[name] for name in filters], after is not None)
    if ranked:
        await session.execute(_STABLE_SCAN)
    rows = (await session.execute(statement, values)).all()
    if not rows:
        return None
    page = rows[:limit]
    last = page[-1]
    cursor = None
    if len(rows) > limit:
        cursor = SearchCursor(
            kind=kind,
            contract_id=last.contract_id,
            key=None if ranked else last.sort_key,
            rank=last.rank if ranked else None,
        )
    matches = int(page[0].matches) if ranked else None
    return SearchPage(
        query=query,
        kind=kind,
        hits=[_hit(row, kind) for row in page],
        next_cursor=cursor,
        matches=None if matches is None else min(matches, RANKED_CANDIDATES),
        more_than_ranked=matches is not None and matches > RANKED_CANDIDATES,
    )


async def search_contracts(
    ctx: ServiceContext,
    text: str,
    *,
    status: str | None = None,
    contract_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    confidence_below: int | None = None,
    after: SearchCursor | None = None,
    limit: int = 25,
) -> SearchPage:
    """One page of contracts matching what was typed, with the filters applied.

    Prefix kinds (id, account, VIN, vehicle) read their index in order and stop after a page, so their
    cost does not depend on how many contracts match; their total is not counted.

    Full text cannot work that way: "refund" is in nearly every contract, and ranking a million matches
    to show 25 takes seconds. So only the first RANKED_CANDIDATES matches are ranked (ts_rank on the
    stored document_tsv), and the page says when more contracts matched, so the person can add a word
    or a filter. "First" is the order the table stores them, roughly the order contracts were loaded,
    because that is the one order PostgreSQL can produce without visiting every match: a rare word is
    found through the GIN index, a common one by a sequential scan that stops after a few pages. Taking
    the newest matches instead (contract_date, read backwards from its index) was measured at 1,000,000
    contracts: 2 ms for a word in every contract, but 360 ms for one in 1% of them, because each contract
    passed over costs a read of its out-of-line tsvector, and the planner cannot know that. Snippets
    (ts_headline re-parses the document) are made only for the hits of the page. Later pages follow
    (rank, contract_id) within the same candidates, which a stable scan order keeps the same.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.SEARCH)
        query = normalize_query(text)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"A page holds 1 to {MAX_PAGE_SIZE} results.")
        filters = _filters(status, contract_type, date_from, date_to, confidence_below)
        classified = classify(query)
        kind, params = classified.kind, classified.params
        if after is not None and after.kind != kind:
            if after.kind != "text":
                raise InvalidInput(
                    "The search has changed since the last page; start again from the first page."
                )
            # The first page fell back to full text.
            kind, params = "text", {"q": query}
        page = await _run(uow.session, query, kind, params, filters, after, limit)
        if page is None and after is None and kind in _FALLS_BACK_TO_TEXT:
            kind = "text"
            page = await _run(uow.session, query, kind, {"q": query}, filters, None, limit)
        if page is None:
            page = SearchPage(
                query=query, kind=kind, hits=[], next_cursor=None, matches=0 if after is None else None
            )
        uow.record(
            ctx.actor.event(
                "search",
                query=query[:MAX_QUERY_CHARS],
                kind=page.kind,
                filters={name: str(value) for name, value in filters.items()},
                # What the reviewer was told: the total matched (None when not counted) and the rows shown.
                matches=page.matches,
                results=len(page.hits),
                next_page=after is not None,
            )
        )
        await uow.commit()
    return page
