"""The demo's knowledge base: categories and articles, through the knowledge-base services.

Categories are found by their Vietnamese name, articles by locale and title,
so a second run creates nothing. Articles are written by the demo manager
(who may publish) and dated back over the last months, as if the help centre
had grown with the cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.db import transaction
from helpdesk.demo._kb_en import ARTICLES_EN
from helpdesk.demo._kb_vi import ARTICLES_VI, ArticleSpec
from helpdesk.policy import Principal
from knowledge_base import categories, services
from knowledge_base.schemas import ArticleIn, ArticleStatus, CategoryIn
from knowledge_base.tables import KbArticle, KbCategory


@dataclass(frozen=True, kw_only=True)
class CategorySpec:
    """A demo category, in both languages."""

    key: str
    name_vi: str
    name_en: str
    position: int


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(key="account", name_vi="Tài khoản và đăng nhập", name_en="Account and sign-in",
                 position=1),
    CategorySpec(key="billing", name_vi="Hoá đơn và thanh toán", name_en="Invoices and payments",
                 position=2),
    CategorySpec(key="orders", name_vi="Đơn hàng và giao hàng", name_en="Orders and delivery",
                 position=3),
    CategorySpec(key="api", name_vi="Tích hợp và API", name_en="Integrations and API",
                 position=4),
    CategorySpec(key="reports", name_vi="Báo cáo", name_en="Reports", position=5),
)  # fmt: skip


@dataclass(frozen=True)
class KbResult:
    """What :func:`ensure_knowledge_base` created (0 and 0 on a second run)."""

    categories_created: int
    articles_created: int


async def _ensure_categories(author: Principal) -> tuple[dict[str, int], int]:
    ids: dict[str, int] = {}
    created = 0
    for spec in CATEGORIES:
        row = (
            await KbCategory.select(KbCategory.id)
            .where((KbCategory.name_vi == spec.name_vi) & KbCategory.parent.is_null())
            .first()
        )
        if row is not None:
            ids[spec.key] = int(row["id"])
            continue
        out = await categories.create_category(
            author, CategoryIn(name_vi=spec.name_vi, name_en=spec.name_en, position=spec.position)
        )
        ids[spec.key] = out.id
        created += 1
    return ids, created


async def _find(locale: str, title: str) -> int | None:
    row = (
        await KbArticle.select(KbArticle.id)
        .where((KbArticle.locale == locale) & (KbArticle.title == title))
        .first()
    )
    return int(row["id"]) if row else None


async def _translated(article_id: int, locale: str) -> bool:
    """True when the article's translation group has an article in ``locale``."""
    group = KbArticle.select(KbArticle.translation_group).where(KbArticle.id == article_id)
    row = await group.first()
    return row is not None and bool(
        await KbArticle.exists().where(
            (KbArticle.translation_group == row["translation_group"]) & (KbArticle.locale == locale)
        )
    )


async def _backdate(article_id: int, at: datetime, published: bool) -> None:
    await KbArticle.update(
        {
            KbArticle.created_at: at,
            KbArticle.updated_at: at,
            KbArticle.published_at: at if published else None,
        }
    ).where(KbArticle.id == article_id)


async def _ensure_article(
    author: Principal, spec: ArticleSpec, category_id: int, at: datetime
) -> int:
    """Create the article and its English translation where missing; how many were made."""
    status = ArticleStatus.PUBLISHED if spec.published else ArticleStatus.DRAFT
    created = 0
    article_id = await _find("vi", spec.title)
    if article_id is None:
        out = await services.create_article(
            author,
            ArticleIn(title=spec.title, body=spec.body, locale="vi", category_id=category_id,
                      tags=list(spec.tags), status=status),
        )  # fmt: skip
        article_id = out.id
        await _backdate(article_id, at, spec.published)
        created += 1
    translation = ARTICLES_EN.get(spec.key)
    if translation is not None and not await _translated(article_id, "en"):
        title, body = translation
        out = await services.create_article(
            author,
            ArticleIn(title=title, body=body, locale="en", status=status,
                      translation_of=article_id),
        )  # fmt: skip
        await _backdate(out.id, at + timedelta(days=2), spec.published)
        created += 1
    return created


async def ensure_knowledge_base(author: Principal, now: datetime) -> KbResult:
    """Create the demo categories and articles that do not exist yet.

    ``author`` must be allowed to publish (the demo manager). Each article
    with its translation is made in one transaction.
    """
    category_ids, categories_created = await _ensure_categories(author)
    articles_created = 0
    for index, spec in enumerate(ARTICLES_VI):
        at = now - timedelta(days=120 - 7 * index, hours=index)
        async with transaction():
            articles_created += await _ensure_article(author, spec, category_ids[spec.category], at)
    return KbResult(categories_created=categories_created, articles_created=articles_created)
