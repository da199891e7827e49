"""Builders shared by the knowledge-base tests."""

from __future__ import annotations

from helpdesk.domain import Role
from helpdesk.policy import Principal
from knowledge_base import services
from knowledge_base.schemas import ArticleIn, ArticleOut, ArticleStatus
from tests.factories import make_agent


async def staff() -> tuple[Principal, Principal]:
    """An agent and a manager."""
    return await make_agent(Role.AGENT), await make_agent(Role.MANAGER)


async def article(
    author: Principal,
    title: str,
    body: str = "",
    *,
    locale: str = "vi",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    translation_of: int | None = None,
    category_id: int | None = None,
    tags: list[str] | None = None,
) -> ArticleOut:
    """An article written by ``author`` (published by default: ``author`` must be allowed)."""
    return await services.create_article(
        author,
        ArticleIn(
            title=title,
            body=body,
            locale=locale,
            status=status,
            translation_of=translation_of,
            category_id=category_id,
            tags=tags,
        ),
    )
