"""Case search across everything: the number in any form, subject, conversation,
customer, addresses, phone, organization and tags; ranked and paged.

The text is folded like the index (:mod:`helpdesk.services.case_search`), cut
into words, and a case matches when **every** word occurs somewhere in its
document (as a substring: "dang" finds "đăng nhập", "example.com" finds
"an@example.com"). Internal notes count only for principals the policy lets
read them (:func:`helpdesk.policy.may_read_notes`); the permission scope of
:func:`helpdesk.policy.case_scope` narrows every query.

A number ("107", "#107", "HD-107", "hd107", "HD-000107") also finds the case of
that number; a bare number is searched as text too (a phone, an order number).

Order: the case of that number first, then cases whose subject has every
word, then the rest; newest first among equals. Paged by offset (a search
is read a page or two deep; keyset paging over a rank is not worth it).

Engines: on SQLite the words of three characters or more go through the FTS5
trigram index ``case_search_fts``; shorter ones (and SQLite builds without
the trigram tokenizer) are checked with ``LIKE`` on the matched rows. On
PostgreSQL every word is a ``LIKE`` that the ``pg_trgm`` GIN indexes serve
(without ``pg_trgm`` the same query scans).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from helpdesk.db import is_postgres
from helpdesk.domain import Status
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal, case_scope, may_read_notes
from helpdesk.rows import CaseRow
from helpdesk.schemas import CaseOut
from helpdesk.services.rows import case_out
from helpdesk.tables import Case
from helpdesk.text import fold

__all__ = [
    "MAX_TERMS",
    "PER_PAGE",
    "SearchPage",
    "SearchText",
    "match_where",
    "parse_search",
    "search_cases",
]

PER_PAGE = 50
MAX_TERMS = 8
MAX_PAGE = 1000
FTS_AVAILABLE = sqlite3.sqlite_version_info >= (3, 34, 0)
"""SQLite has the trigram tokenizer (m0019 creates ``case_search_fts`` on the same condition)."""

_NUMBER = re.compile(r"^(#|hd\s*-?\s*|#\s*hd\s*-?\s*)?0*(\d{1,10})$")


class SearchText(msgspec.Struct, frozen=True):
    """A search as understood: the case number it names, and the folded words."""

    number: int | None
    terms: tuple[str, ...]


class SearchPage(msgspec.Struct):
    """One page of results, best first, and how many there are in all."""

    items: list[CaseOut]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def parse_search(text: str) -> SearchText:
    """What ``text`` asks for. A bare number is both a case number and a word;
    a prefixed one (``#``, ``HD``) is a case number only."""
    raw = text.strip().lower()
    found = _NUMBER.match(raw)
    number = int(found.group(2)) if found and 0 < int(found.group(2)) <= 2**31 - 1 else None
    if found and found.group(1):
        return SearchText(number=number, terms=())
    printable = "".join(ch if ch.isprintable() else " " for ch in text)  # no NUL for the driver
    words = list(dict.fromkeys(w[:100] for w in fold(printable).split()))
    return SearchText(number=number, terms=tuple(words[:MAX_TERMS]))


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _text_match(terms: tuple[str, ...], notes: bool, postgres: bool) -> tuple[str, list[Any]]:
    """SQL selecting the ids of the documents that have every term, and its values."""
    use_fts = not postgres and FTS_AVAILABLE
    indexed = [t for t in terms if len(t) >= 3] if use_fts else []
    checked = [t for t in terms if t not in indexed]
    conditions: list[str] = []
    values: list[Any] = []
    if indexed:
        columns = "{doc notes}" if notes else "{doc}"
        expression = f"{columns} : (" + " AND ".join(map(_fts_phrase, indexed)) + ")"
        conditions.append(
            "s.id IN (SELECT rowid FROM case_search_fts WHERE case_search_fts MATCH {})"
        )
        values.append(expression)
    for term in checked:
        if notes:
            conditions.append("(s.doc LIKE {} ESCAPE '\\' OR s.notes LIKE {} ESCAPE '\\')")
            values += [_like(term), _like(term)]
        else:
            conditions.append("s.doc LIKE {} ESCAPE '\\'")
            values.append(_like(term))
    sql = "SELECT s.id FROM case_search s WHERE " + " AND ".join(conditions)  # noqa: S608
    return sql, values


def match_where(search: SearchText, *, notes: bool, postgres: bool) -> WhereRaw | None:
    """The ``where`` clause of the cases that ``search`` finds (None: nothing to look for)."""
    parts: list[str] = []
    values: list[Any] = []
    if search.number is not None:
        parts.append('"cases"."id" = {}')
        values.append(search.number)
    if search.terms:
        sql, more = _text_match(search.terms, notes, postgres)
        parts.append(f'"cases"."id" IN ({sql})')
        values += more
    if not parts:
        return None
    return WhereRaw("(" + " OR ".join(parts) + ")", *values)


def _ranked(search: SearchText, notes: bool, postgres: bool) -> tuple[str, list[Any]]:
    """SQL of the ``(id, rank)`` of every document found (0: the case of the
    number; 1: every word in the subject; 2: elsewhere), and its values."""
    parts: list[str] = []
    values: list[Any] = []
    if search.number is not None:
        parts.append("SELECT s.id AS id, 0 AS rank FROM case_search s WHERE s.id = {}")
        values.append(search.number)
    if search.terms:
        found, more = _text_match(search.terms, notes, postgres)
        subject = " AND ".join("s.subject LIKE {} ESCAPE '\\'" for _ in search.terms)
        sql = f"SELECT s.id AS id, CASE WHEN {subject} THEN 1 ELSE 2 END AS rank "
        sql += found.removeprefix("SELECT s.id ")
        values += [*(_like(t) for t in search.terms), *more]
        if search.number is not None:
            sql += " AND s.id <> {}"
            values.append(search.number)
        parts.append(sql)
    return " UNION ALL ".join(parts), values


def _page_query(
    search: SearchText, principal: Principal, statuses: list[Status], postgres: bool
) -> tuple[str, list[Any]] | None:
    """The ranked ids of the cases found that the principal may see, with the
    total as a window count (``LIMIT`` and ``OFFSET`` left to add)."""
    if search.number is None and not search.terms:
        return None
    ranked, values = _ranked(search, may_read_notes(principal), postgres)
    conditions: list[Any] = []
    scope = case_scope(principal).where()
    if scope is not None:
        conditions.append(scope.querystring)
    if statuses:
        conditions.append(Case.status.is_in([str(s) for s in statuses]).querystring)
    where = " AND ".join("{}" for _ in conditions) or "1 = 1"
    sql = (
        'SELECT "cases"."id" AS id, count(*) OVER () AS total FROM "cases" '  # noqa: S608
        f'JOIN ({ranked}) AS m ON m.id = "cases"."id" WHERE {where} '
        'ORDER BY m.rank, "cases"."created_at" DESC, "cases"."id" DESC'
    )
    return sql, [*values, *conditions]


async def search_cases(
    principal: Principal,
    text: str,
    *,
    statuses: list[Status] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchPage:
    """The cases ``principal`` may see that ``text`` finds, in ``statuses``
    (every status when empty), page ``page`` of ``per_page``.

    Two queries: the ranked ids of the page with the total (a window count,
    so the matching runs once), then those cases; a page past the end costs
    a third (the total alone). An empty search finds nothing; a page number
    below 1 or beyond :data:`MAX_PAGE` raises :class:`ValidationError`.
    """
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError("page out of range", field="page")
    engine = Case._meta.db
    query = _page_query(parse_search(text), principal, statuses or [], is_postgres(engine))
    if query is None:
        return SearchPage(items=[], total=0, page=page, per_page=per_page)
    sql, values = query
    offset = (page - 1) * per_page
    hits = await engine.run_querystring(
        QueryString(f"{sql} LIMIT {{}} OFFSET {{}}", *values, per_page, offset)
    )
    if hits or page == 1:
        total = int(hits[0]["total"]) if hits else 0
    else:
        counted = await engine.run_querystring(
            QueryString(f"SELECT count(*) AS n FROM ({sql}) AS found", *values)  # noqa: S608
        )
        total = int(counted[0]["n"])
    ids = [int(h["id"]) for h in hits]
    rows = {r["id"]: r for r in await Case.select().where(Case.id.is_in(ids))} if ids else {}
    return SearchPage(
        items=[case_out(CaseRow.from_row(rows[i])) for i in ids if i in rows],
        total=total,
        page=page,
        per_page=per_page,
    )
