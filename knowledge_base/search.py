"""Full-text search of articles: the same results on SQLite (FTS5) and PostgreSQL.

What a Vietnamese reader expects: case and diacritics do not matter
("khach hang" finds "Khách hàng", "don hang" finds "ĐƠN HÀNG"), every word of
the query must be found, in the title or the body (tags count as body), and
the last word matches as a prefix while it is being typed ("khach h" finds
"khách hàng"). See :func:`knowledge_base._terms.parse_query`.

Matching runs on each engine's full-text index (FTS5 ``MATCH``; ``@@`` on a
GIN-indexed ``tsvector``), over words folded by the service, so both engines
find the same set. Ranking uses no engine score (BM25 and ``ts_rank`` differ),
only numbers both compute alike, best first:

1. how many of the query's words are in the title;
2. among articles with title matches, the shorter title (a closer match);
3. the shorter body (the words weigh more in it);
4. the lower id (the older article), so that the order is total.

Titles and snippets are highlighted in Python (:mod:`knowledge_base._snippets`),
identically for both engines.
"""

# ruff: noqa: S608 - the SQL is fixed text and "{}" placeholders; every value is bound

from __future__ import annotations

from typing import Any

from helpdesk.db import current_engine, is_postgres
from helpdesk.policy import Principal
from knowledge_base._rows import EVERY_STATUS, utc, visible_statuses
from knowledge_base._snippets import highlight, snippet
from knowledge_base._terms import Term, fts5_query, parse_query, tsquery
from knowledge_base.categories import descendant_ids
from knowledge_base.schemas import SearchHit, SearchQuery, SearchResults
from knowledge_base.tables import KbArticle

__all__ = ["search_articles", "search_public"]


class _Statement:
    """SQL text with ``{}`` placeholders and its arguments, built in order."""

    def __init__(self) -> None:
        self.sql = ""
        self.matches = ""  # the subquery of every match, before ranking and paging
        self.args: list[Any] = []

    def param(self, value: Any) -> str:
        self.args.append(value)
        return "{}"

    def params(self, values: list[Any]) -> str:
        return ", ".join(self.param(value) for value in values)


def _match(stmt: _Statement, terms: list[Term], postgres: bool) -> tuple[str, str, str]:
    """The title-hit count expression, the FROM clause and the match condition."""
    if postgres:
        hits = " + ".join(
            f"(a.title_tsv @@ to_tsquery('simple', {stmt.param(tsquery([t]))}))::int" for t in terms
        )
        return (
            hits,
            "kb_articles a",
            f"a.search_tsv @@ to_tsquery('simple', {stmt.param(tsquery(terms))})",
        )
    hits = " + ".join(
        "(a.id IN (SELECT rowid FROM kb_search WHERE kb_search MATCH "
        f"{stmt.param(fts5_query([t], 'search_title'))}))"
        for t in terms
    )
    source = "kb_search JOIN kb_articles a ON a.id = kb_search.rowid"
    return hits, source, f"kb_search MATCH {stmt.param(fts5_query(terms))}"


def _statement(
    terms: list[Term],
    statuses: list[str],
    query: SearchQuery,
    categories: list[int] | None,
    postgres: bool,
) -> _Statement:
    stmt = _Statement()
    hits, source, match = _match(stmt, terms, postgres)
    every = set(statuses) == set(EVERY_STATUS)  # nothing to filter on: skip the condition
    conditions = [match] if every else [match, f"a.status IN ({stmt.params(statuses)})"]
    if query.locale is not None:
        # Placeholders are numbered in order: build the text left to right.
        clause = (
            f"(a.locale = {stmt.param(query.locale)} OR NOT EXISTS (SELECT 1 FROM kb_articles b "
        )
        clause += "WHERE b.translation_group = a.translation_group "
        clause += f"AND b.locale = {stmt.param(query.locale)}"
        clause += "" if every else f" AND b.status IN ({stmt.params(statuses)})"
        conditions.append(clause + "))")
    if categories is not None:
        conditions.append(f"a.category IN ({stmt.params(list(categories))})")
    where = " AND ".join(conditions)
    stmt.matches = (
        f"SELECT a.id AS id, {hits} AS title_hits, a.title_words AS title_words, "
        f"a.body_words AS body_words FROM {source} WHERE {where}"
    )
    limit, offset = stmt.param(query.limit), stmt.param(query.offset)
    # PostgreSQL would inline the subquery and match the title once per use of
    # ``title_hits`` (about 40 % slower); "OFFSET 0" keeps it a subquery.
    fence = " OFFSET 0" if postgres else ""
    stmt.sql = (
        "SELECT a.id, a.translation_group, a.locale, a.title, a.body_text, a.status, "
        "a.category, a.updated_at, r.total FROM ("
        "SELECT m.id, m.title_hits, "
        "CASE WHEN m.title_hits > 0 THEN m.title_words ELSE 0 END AS title_rank, "
        f"m.body_words, COUNT(*) OVER () AS total FROM ({stmt.matches}{fence}"
        ") m ORDER BY title_hits DESC, title_rank, body_words, id "
        f"LIMIT {limit} OFFSET {offset}"
        ") r JOIN kb_articles a ON a.id = r.id "
        "ORDER BY r.title_hits DESC, r.title_rank, r.body_words, r.id"
    )
    return stmt


def _count_statement(stmt: _Statement) -> _Statement:
    """How many articles ``stmt`` matches in all (for a page past the last one)."""
    count = _Statement()
    count.sql = f"SELECT COUNT(*) AS total FROM ({stmt.matches}) m"
    count.args = stmt.args[:-2]
    return count


async def _run(stmt: _Statement, postgres: bool) -> list[dict[str, Any]]:
    """Run ``stmt``; on PostgreSQL through the GIN index whatever the planner thinks.

    For a common word the planner prefers a sequential scan, which reads
    (and decompresses) every row's out-of-line ``search_tsv``: several times
    slower than the bitmap scan of the index, which needs no recheck for
    these queries (no weights, no phrases).
    """
    rows: list[dict[str, Any]]
    if not postgres:
        rows = await KbArticle.raw(stmt.sql, *stmt.args)
    else:
        async with current_engine().transaction():
            await KbArticle.raw("SET LOCAL enable_seqscan = off")
            rows = await KbArticle.raw(stmt.sql, *stmt.args)
    return rows


async def search_articles(principal: Principal | None, query: SearchQuery) -> SearchResults:
    """Articles matching ``query.q`` that the caller may read, best first.

    Staff (and the system) search drafts too, unless ``query.status`` says
    otherwise; customers and anonymous visitors (``principal`` None) only
    ever find published articles. A query without any word finds nothing.
    """
    terms = parse_query(query.q)
    statuses = [s for s in visible_statuses(principal) if query.status in (None, s)]
    if not terms or not statuses:
        return SearchResults(items=[], total=0, terms=[t.word for t in terms])
    categories = await descendant_ids(query.category_id) if query.category_id else None
    postgres = is_postgres(current_engine())
    stmt = _statement(terms, statuses, query, categories, postgres)
    rows = await _run(stmt, postgres)
    if rows:
        total = int(rows[0]["total"])
    elif query.offset:
        count = _count_statement(stmt)
        total = int((await _run(count, postgres))[0]["total"])
    else:
        total = 0
    items = [
        SearchHit(
            id=row["id"],
            group_id=row["translation_group"],
            locale=row["locale"],
            title=row["title"],
            title_html=highlight(row["title"], terms),
            snippet_html=snippet(row["body_text"], terms),
            status=row["status"],
            category_id=row["category"],
            updated_at=utc(row["updated_at"]),
        )
        for row in rows
    ]
    return SearchResults(items=items, total=total, terms=[t.word for t in terms])


async def search_public(query: SearchQuery) -> SearchResults:
    """Search published articles, as an anonymous visitor of the portal."""
    return await search_articles(None, query)
