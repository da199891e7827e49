"""Articles of the knowledge base: write, read in a locale, list, version, delete.

Who may do what (see :mod:`helpdesk.policy`):

* every member of staff (:attr:`~helpdesk.policy.Action.WRITE_ARTICLES`) reads
  drafts, creates drafts and edits drafts;
* publishing, unpublishing, editing a published article and deleting need
  :attr:`~helpdesk.policy.Action.PUBLISH_ARTICLES` (managers and admins);
* customers and anonymous visitors (``principal`` None) read published
  articles only; a draft is "not found" to them, never "forbidden".

Every save keeps the previous title and body as a version row, and is
refused with 409 when the caller's ``version`` is stale.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import msgspec
from msgspec import UNSET

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError, VersionConflictError
from helpdesk.policy import Action, Principal, require
from helpdesk.rows import json_list
from helpdesk.services import audit
from knowledge_base import _rows
from knowledge_base._rows import ArticleRow
from knowledge_base._terms import index_text
from knowledge_base.categories import descendant_ids
from knowledge_base.markdown import Rendered, render
from knowledge_base.schemas import (
    ArticleFilter,
    ArticleIn,
    ArticleOut,
    ArticleStatus,
    ArticleSummary,
    ArticleUpdate,
    ArticleVersionOut,
    PublicArticleOut,
    TranslationRef,
)
from knowledge_base.tables import (
    KbArticle,
    KbArticleTag,
    KbArticleVersion,
    KbCategory,
    KbTranslationGroup,
)

__all__ = [
    "create_article",
    "delete_article",
    "get_article",
    "list_articles",
    "list_versions",
    "read_public_article",
    "restore_version",
    "searchable_values",
    "translations_of",
    "update_article",
]

_UNIQUE_VIOLATIONS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.UniqueViolationError,
    sqlite3.IntegrityError,
)
_SUMMARY_COLUMNS = (
    KbArticle.id,
    KbArticle.translation_group,
    KbArticle.locale,
    KbArticle.title,
    KbArticle.status,
    KbArticle.category,
    KbArticle.tags,
    KbArticle.author,
    KbArticle.version,
    KbArticle.updated_at,
    KbArticle.published_at,
)


def _clean_tags(tags: list[str]) -> list[str]:
    return sorted(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


def searchable_values(title: str, text: str, tags: list[str]) -> dict[str, Any]:
    """The search columns of an article: its folded words (tags count as body
    words) and how many there are, for ranking."""
    search_title = index_text(title)
    search_body = index_text(" ".join([text, *tags]))
    return {
        "search_title": search_title,
        "search_body": search_body,
        "title_words": search_title.count(" ") + 1 if search_title else 0,
        "body_words": search_body.count(" ") + 1 if search_body else 0,
    }


async def _row(principal: Principal | None, article_id: int) -> ArticleRow:
    row = (
        await KbArticle.select()
        .where(
            KbArticle.id == article_id,
            KbArticle.status.is_in(list(_rows.visible_statuses(principal))),
        )
        .first()
    )
    if row is None:
        raise NotFoundError(f"article {article_id} not found")
    return ArticleRow.from_row(row)


async def _check_category(category_id: int | None) -> None:
    if category_id is not None and not await KbCategory.exists().where(
        KbCategory.id == category_id
    ):
        raise ValidationError(f"category {category_id} does not exist")


async def _set_tags(article_id: int, tags: list[str]) -> None:
    await KbArticleTag.delete().where(KbArticleTag.article == article_id)
    if tags:
        await KbArticleTag.insert(*(KbArticleTag(article=article_id, tag=t) for t in tags))


async def _translation_group(data: ArticleIn) -> tuple[int, int | None, list[str]]:
    """The group a new article joins, and its default category and tags."""
    if data.translation_of is None:
        rows = await KbTranslationGroup.insert(KbTranslationGroup(created_at=utcnow()))
        return int(rows[0]["id"]), data.category_id, data.tags or []
    source = (
        await KbArticle.select(KbArticle.translation_group, KbArticle.category, KbArticle.tags)
        .where(KbArticle.id == data.translation_of)
        .first()
    )
    if source is None:
        raise ValidationError(f"article {data.translation_of} does not exist")
    group = int(source["translation_group"])
    if await KbArticle.exists().where(
        KbArticle.translation_group == group, KbArticle.locale == data.locale
    ):
        raise ConflictError(f"article {data.translation_of} already has a '{data.locale}' version")
    category = data.category_id if data.category_id is not None else source["category"]
    tags = data.tags if data.tags is not None else json_list(source["tags"])
    return group, category, tags


async def create_article(principal: Principal, data: ArticleIn) -> ArticleOut:
    """Write a new article (a draft, unless the caller may publish).

    With ``translation_of`` it becomes that article's translation into
    ``data.locale``; a second translation into the same locale is refused (409).
    """
    require(principal, Action.WRITE_ARTICLES)
    if data.status == ArticleStatus.PUBLISHED:
        require(principal, Action.PUBLISH_ARTICLES)
    rendered = render(data.body)
    data = msgspec.structs.replace(data, title=unicodedata.normalize("NFC", data.title))
    try:
        article_id = await _insert_article(principal, data, rendered)
    except _UNIQUE_VIOLATIONS as exc:  # a concurrent translation into the same locale
        raise ConflictError(
            f"article {data.translation_of} already has a '{data.locale}' version"
        ) from exc
    return await get_article(principal, article_id)


async def _insert_article(principal: Principal, data: ArticleIn, rendered: Rendered) -> int:
    async with transaction():
        group, category, tags = await _translation_group(data)
        await _check_category(category)
        tags = _clean_tags(tags)
        now = utcnow()
        rows = await KbArticle.insert(
            KbArticle(
                translation_group=group,
                locale=data.locale,
                category=category,
                title=data.title,
                body_md=data.body,
                body_html=rendered.html,
                body_text=rendered.text,
                status=data.status.value,
                tags=tags,
                author=principal.id,
                updated_by=principal.id,
                version=1,
                created_at=now,
                updated_at=now,
                published_at=now if data.status == ArticleStatus.PUBLISHED else None,
                **searchable_values(data.title, rendered.text, tags),
            )
        )
        article_id = int(rows[0]["id"])
        await _set_tags(article_id, tags)
        await audit.record(
            principal,
            "kb_article.created",
            entity="kb_article",
            entity_id=article_id,
            changes={"title": data.title, "locale": data.locale, "status": data.status.value},
        )
    return article_id


async def get_article(
    principal: Principal | None, article_id: int, locale: str | None = None
) -> ArticleOut:
    """One article the caller may read, with its readable translations.

    With ``locale``, the translation into that language is returned instead
    when the caller may read it; otherwise the article itself, with
    ``fallback`` set.
    """
    article = await _row(principal, article_id)
    statuses = list(_rows.visible_statuses(principal))
    rows = await KbArticle.select().where(
        KbArticle.translation_group == article.group_id,
        KbArticle.id != article.id,
        KbArticle.status.is_in(statuses),
    )
    siblings = [ArticleRow.from_row(r) for r in rows]
    fallback = False
    if locale is not None and article.locale != locale:
        wanted = [a for a in siblings if a.locale == locale]
        if wanted:
            siblings = [a for a in siblings if a.id != wanted[0].id] + [article]
            article = wanted[0]
        else:
            fallback = True
    return _rows.article_out(article, siblings, fallback=fallback)


async def read_public_article(article_id: int, locale: str | None = None) -> PublicArticleOut:
    """A published article as anyone may read it, in ``locale`` when translated."""
    return _rows.public_article_out(await get_article(None, article_id, locale))


async def list_articles(
    principal: Principal | None,
    filters: ArticleFilter | None = None,
    *,
    after_id: int = 0,
    limit: int = 50,
) -> list[ArticleSummary]:
    """Articles the caller may read, by id; pass the last id seen as ``after_id``
    for the next page. A ``category_id`` filter includes its subcategories."""
    filters = filters or ArticleFilter()
    statuses = set(_rows.visible_statuses(principal))
    if filters.status is not None:
        statuses &= {filters.status.value}
    query = KbArticle.select(*_SUMMARY_COLUMNS).where(
        KbArticle.id > after_id, KbArticle.status.is_in(sorted(statuses) or ["-"])
    )
    if filters.locale is not None:
        query = query.where(KbArticle.locale == filters.locale)
    if filters.category_id is not None:
        query = query.where(KbArticle.category.is_in(await descendant_ids(filters.category_id)))
    if filters.tag is not None:
        tag = filters.tag.strip().lower()
        query = query.where(
            KbArticle.id.is_in(
                KbArticleTag.select(KbArticleTag.article).where(KbArticleTag.tag == tag)
            )
        )
    rows = await query.order_by(KbArticle.id).limit(limit)
    return [_rows.summary_out(row) for row in rows]


async def _changes(
    principal: Principal, article: ArticleRow, data: ArticleUpdate
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The new column values of a save and the audit changes."""
    values: dict[str, Any] = {}
    title = data.title if data.title is UNSET else unicodedata.normalize("NFC", data.title)
    if title is not UNSET and title != article.title:
        values["title"] = title
    if data.body is not UNSET and data.body != article.body_md:
        rendered = render(data.body)
        values.update(body_md=data.body, body_html=rendered.html, body_text=rendered.text)
    if data.category_id is not UNSET and data.category_id != article.category_id:
        await _check_category(data.category_id)
        values["category"] = data.category_id
    if data.tags is not UNSET and _clean_tags(data.tags) != article.tags:
        values["tags"] = _clean_tags(data.tags)
    if data.status is not UNSET and data.status.value != article.status:
        require(principal, Action.PUBLISH_ARTICLES)
        values["status"] = data.status.value
        published = data.status == ArticleStatus.PUBLISHED
        values["published_at"] = utcnow() if published else None
    changes = {k: v for k, v in values.items() if k in ("title", "category", "tags", "status")}
    if "body_md" in values:
        changes["body"] = "changed"
    return values, changes


async def update_article(principal: Principal, article_id: int, data: ArticleUpdate) -> ArticleOut:
    """Save a change to an article, if ``data.version`` is still current.

    Staff may change drafts; changing a published article or the status
    needs :attr:`~helpdesk.policy.Action.PUBLISH_ARTICLES`. The previous title
    and body are kept as version ``data.version``. A save that changes nothing
    keeps the version as it is.
    """
    return await _save(principal, article_id, data, {})


async def _save(
    principal: Principal, article_id: int, data: ArticleUpdate, audit_extra: dict[str, Any]
) -> ArticleOut:
    """:func:`update_article`, with ``audit_extra`` added to the audit changes."""
    require(principal, Action.WRITE_ARTICLES)
    async with transaction():
        article = await _row(principal, article_id)
        if article.status == ArticleStatus.PUBLISHED:
            require(principal, Action.PUBLISH_ARTICLES)
        if article.version != data.version:
            raise VersionConflictError(
                f"article {article_id} is at version {article.version}, not {data.version}",
                current_version=article.version,
            )
        values, changes = await _changes(principal, article, data)
        if values:
            title = values.get("title", article.title)
            tags = values.get("tags", article.tags)
            text = values.get("body_text", article.body_text)
            values.update(searchable_values(title, text, tags))
            values.update(updated_by=principal.id, updated_at=utcnow(), version=data.version + 1)
            # The conditional update first: on PostgreSQL a concurrent save waits
            # for its row lock here, then finds the version changed.
            updated = (
                await KbArticle.update({getattr(KbArticle, k): v for k, v in values.items()})
                .where(KbArticle.id == article_id, KbArticle.version == data.version)
                .returning(KbArticle.id)
            )
            if not updated:
                raise VersionConflictError(
                    f"article {article_id} was changed meanwhile", current_version=None
                )
            await KbArticleVersion.insert(
                KbArticleVersion(
                    article=article_id,
                    version=article.version,
                    title=article.title,
                    body_md=article.body_md,
                    editor=article.updated_by_id,
                    created_at=article.updated_at,
                )
            )
            if "tags" in values:
                await _set_tags(article_id, values["tags"])
            await audit.record(
                principal,
                "kb_article.updated",
                entity="kb_article",
                entity_id=article_id,
                changes={"version": data.version + 1, **changes, **audit_extra},
            )
    return await get_article(principal, article_id)


async def delete_article(principal: Principal, article_id: int) -> None:
    """Delete an article with its versions (managers and admins). Its
    translations stay; the last one deleted takes the translation group along."""
    require(principal, Action.PUBLISH_ARTICLES)
    async with transaction():
        article = await _row(principal, article_id)
        await KbArticle.delete().where(KbArticle.id == article_id)
        group = article.group_id
        if not await KbArticle.exists().where(KbArticle.translation_group == group):
            await KbTranslationGroup.delete().where(KbTranslationGroup.id == group)
        await audit.record(
            principal,
            "kb_article.deleted",
            entity="kb_article",
            entity_id=article_id,
            changes={"title": article.title, "locale": article.locale},
        )


async def list_versions(principal: Principal, article_id: int) -> list[ArticleVersionOut]:
    """The previous states of an article, newest first (staff)."""
    require(principal, Action.WRITE_ARTICLES)
    await _row(principal, article_id)
    rows = (
        await KbArticleVersion.select()
        .where(KbArticleVersion.article == article_id)
        .order_by(KbArticleVersion.version, ascending=False)
    )
    return [_rows.version_out(row) for row in rows]


async def restore_version(
    principal: Principal, article_id: int, version: int, current_version: int
) -> ArticleOut:
    """Make the title and body of an earlier ``version`` the article's again.

    The restore is a save like any other: it needs ``current_version`` to be
    still current (409 otherwise), the same permissions as
    :func:`update_article`, and keeps the replaced title and body as a version;
    the audit trail says which version was restored. Restoring a version equal
    to the current text changes nothing. An unknown version is "not found".
    """
    require(principal, Action.WRITE_ARTICLES)
    await _row(principal, article_id)
    row = (
        await KbArticleVersion.select(KbArticleVersion.title, KbArticleVersion.body_md)
        .where(KbArticleVersion.article == article_id, KbArticleVersion.version == version)
        .first()
    )
    if row is None:
        raise NotFoundError(f"article {article_id} has no version {version}")
    data = ArticleUpdate(version=current_version, title=row["title"], body=row["body_md"])
    return await _save(principal, article_id, data, {"restored_from": version})


async def translations_of(
    principal: Principal | None, group_ids: list[int]
) -> dict[int, list[TranslationRef]]:
    """The articles the caller may read in each translation group, by locale
    (one query, whatever the number of groups)."""
    if not group_ids:
        return {}
    rows = await KbArticle.select(
        KbArticle.id,
        KbArticle.translation_group,
        KbArticle.locale,
        KbArticle.title,
        KbArticle.status,
    ).where(
        KbArticle.translation_group.is_in(sorted(set(group_ids))),
        KbArticle.status.is_in(list(_rows.visible_statuses(principal))),
    )
    found: dict[int, list[TranslationRef]] = {}
    for row in sorted(rows, key=lambda r: r["locale"]):
        ref = TranslationRef(
            id=row["id"], locale=row["locale"], title=row["title"], status=row["status"]
        )
        found.setdefault(int(row["translation_group"]), []).append(ref)
    return found
