"""The typed article row, row-to-Struct conversions and the visibility rule of
the knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.policy import Action, Principal, may
from helpdesk.rows import as_utc, json_list
from knowledge_base.schemas import (
    ArticleOut,
    ArticleStatus,
    ArticleSummary,
    ArticleVersionOut,
    PublicArticleOut,
    PublicTranslationRef,
    TranslationRef,
)

PUBLISHED_ONLY: tuple[str, ...] = (ArticleStatus.PUBLISHED.value,)
EVERY_STATUS: tuple[str, ...] = tuple(status.value for status in ArticleStatus)


def visible_statuses(principal: Principal | None) -> tuple[str, ...]:
    """The statuses of the articles ``principal`` may read: drafts are for staff
    (and the system) only; customers and anonymous visitors read published ones."""
    if principal is not None and may(principal, Action.WRITE_ARTICLES):
        return EVERY_STATUS
    return PUBLISHED_ONLY


def utc(value: Any) -> datetime:
    """A non-null timestamp column as aware UTC."""
    stamp = as_utc(value)
    assert stamp is not None
    return stamp


class ArticleRow(msgspec.Struct, frozen=True, kw_only=True):
    """A ``kb_articles`` row, without the search columns (``search_title``,
    ``search_body`` and their word counts), which only the search reads."""

    id: int
    group_id: int
    """The translation group (the ``translation_group`` column)."""
    locale: str
    category_id: int | None
    status: str
    version: int
    author_id: int | None
    updated_by_id: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    tags: list[str]
    title: str
    body_text: str
    body_md: str
    body_html: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArticleRow:
        """The article of a row from ``KbArticle.select()``."""
        return cls(
            id=row["id"],
            group_id=row["translation_group"],
            locale=row["locale"],
            category_id=row["category"],
            status=row["status"],
            version=row["version"],
            author_id=row["author"],
            updated_by_id=row["updated_by"],
            created_at=utc(row["created_at"]),
            updated_at=utc(row["updated_at"]),
            published_at=as_utc(row["published_at"]),
            tags=json_list(row["tags"]),
            title=row["title"],
            body_text=row["body_text"],
            body_md=row["body_md"],
            body_html=row["body_html"],
        )


def translation_refs(articles: list[ArticleRow]) -> list[TranslationRef]:
    """The other languages of an article, by locale."""
    return [
        TranslationRef(
            id=a.id,
            locale=a.locale,
            title=a.title,
            status=a.status,  # type: ignore[arg-type]  # an ArticleStatus value
        )
        for a in sorted(articles, key=lambda a: a.locale)
    ]


def article_out(
    article: ArticleRow, siblings: list[ArticleRow], *, fallback: bool = False
) -> ArticleOut:
    """The :class:`ArticleOut` of an article and its visible translations."""
    return ArticleOut(
        id=article.id,
        group_id=article.group_id,
        locale=article.locale,
        title=article.title,
        body=article.body_md,
        body_html=article.body_html,
        status=article.status,  # type: ignore[arg-type]  # an ArticleStatus value
        category_id=article.category_id,
        tags=article.tags,
        author_id=article.author_id,
        updated_by_id=article.updated_by_id,
        version=article.version,
        created_at=article.created_at,
        updated_at=article.updated_at,
        published_at=article.published_at,
        translations=translation_refs(siblings),
        fallback=fallback,
    )


def public_article_out(article: ArticleOut) -> PublicArticleOut:
    """What anyone may read of a published article (no Markdown source, author or version)."""
    return PublicArticleOut(
        id=article.id,
        group_id=article.group_id,
        locale=article.locale,
        title=article.title,
        body_html=article.body_html,
        category_id=article.category_id,
        tags=article.tags,
        updated_at=article.updated_at,
        published_at=article.published_at,
        translations=[
            PublicTranslationRef(id=t.id, locale=t.locale, title=t.title)
            for t in article.translations
        ],
        fallback=article.fallback,
    )


def summary_out(row: dict[str, Any]) -> ArticleSummary:
    """An :class:`ArticleSummary` from a ``kb_articles`` row (body columns not needed)."""
    return ArticleSummary(
        id=row["id"],
        group_id=row["translation_group"],
        locale=row["locale"],
        title=row["title"],
        status=row["status"],
        category_id=row["category"],
        tags=json_list(row["tags"]),
        author_id=row["author"],
        version=row["version"],
        updated_at=utc(row["updated_at"]),
        published_at=as_utc(row["published_at"]),
    )


def version_out(row: dict[str, Any]) -> ArticleVersionOut:
    """An :class:`ArticleVersionOut` from a ``kb_article_versions`` row."""
    return ArticleVersionOut(
        version=row["version"],
        title=row["title"],
        body=row["body_md"],
        editor_id=row["editor"],
        created_at=utc(row["created_at"]),
    )
