"""Articles for a reader who has not searched: by category (the portal's
index) and suggested from a case's subject and first message (the console).

Search requires every word of a query (:mod:`knowledge_base.search`), which a
customer's message never satisfies; :func:`suggest_for_case` searches its
significant words one by one and ranks articles by how many they contain.
"""

from __future__ import annotations

from collections import Counter

import msgspec

from helpdesk.policy import Principal
from helpdesk.services import cases, messages
from knowledge_base import categories, search, services
from knowledge_base._terms import parse_query
from knowledge_base.schemas import (
    ArticleFilter,
    ArticleSummary,
    CategoryOut,
    SearchHit,
    SearchQuery,
)

__all__ = ["CategoryArticles", "browse_published", "suggest_for_case", "suggest_for_text"]

MAX_WORDS = 10
MIN_WORD = 2
STOP_WORDS = frozenset(
    [
        "toi",
        "ban",
        "cua",
        "la",
        "va",
        "thi",
        "cac",
        "nhung",
        "mot",
        "cho",
        "voi",
        "em",
        "anh",
        "chi",
        "xin",
        "chao",
        "cam",
        "on",
        "minh",
        "nay",
        "do",
        "roi",
        "nhe",
        "a",
        "o",
        "u",
        "the",
        "and",
        "or",
        "to",
        "of",
        "in",
        "is",
        "my",
        "i",
        "an",
        "for",
        "on",
        "it",
        "please",
        "hi",
        "hello",
        "thanks",
    ]
)


class CategoryArticles(msgspec.Struct, kw_only=True):
    """A category (None: articles without one) and its published articles."""

    category: CategoryOut | None
    articles: list[ArticleSummary]


async def browse_published(locale: str, *, limit: int = 500) -> list[CategoryArticles]:
    """Published articles by category, each in ``locale`` when translated
    (else in the language it was written in); categories without articles
    are left out, the tree order kept."""
    rows = await services.list_articles(None, ArticleFilter(), limit=limit)
    chosen: dict[int, ArticleSummary] = {}
    for row in rows:
        current = chosen.get(row.group_id)
        if current is None or (row.locale == locale and current.locale != locale):
            chosen[row.group_id] = row
    by_category: dict[int | None, list[ArticleSummary]] = {}
    for article in sorted(chosen.values(), key=lambda a: a.title.casefold()):
        by_category.setdefault(article.category_id, []).append(article)
    tree = await categories.list_categories(None)
    result = [
        CategoryArticles(category=c, articles=by_category[c.id])
        for c in tree
        if c.id in by_category
    ]
    if None in by_category:
        result.append(CategoryArticles(category=None, articles=by_category[None]))
    return result


async def suggest_for_text(
    principal: Principal | None, text: str, *, locale: str | None = None, limit: int = 5
) -> list[SearchHit]:
    """Articles sharing the most significant words with ``text``, best first.

    At most :data:`MAX_WORDS` words are looked up; an article needs two of
    them (or the only one) to be suggested. Drafts only for staff.
    """
    words = [
        t.word
        for t in parse_query(text + " ")
        if len(t.word) >= MIN_WORD and t.word not in STOP_WORDS
    ][:MAX_WORDS]
    if not words:
        return []
    score: Counter[int] = Counter()
    hits: dict[int, SearchHit] = {}
    for word in words:
        found = await search.search_articles(
            principal, SearchQuery(q=word + " ", locale=locale, limit=20)
        )
        for hit in found.items:
            score[hit.id] += 2 if "<mark>" in hit.title_html else 1
            hits.setdefault(hit.id, hit)
    needed = min(2, len(words))
    ranked = sorted((a for a in score if score[a] >= needed), key=lambda a: (-score[a], a))
    return [hits[a] for a in ranked[:limit]]


async def suggest_for_case(
    principal: Principal, case_id: int, *, locale: str | None = None, limit: int = 5
) -> list[SearchHit]:
    """Articles for an open case, from its subject and first message; a case
    the caller may not see is not found (as everywhere)."""
    case = await cases.get_case(principal, case_id)
    conversation = await messages.list_messages(principal, case_id)
    first = conversation[0].body_text[:500] if conversation else ""
    return await suggest_for_text(principal, f"{case.subject} {first}", locale=locale, limit=limit)
