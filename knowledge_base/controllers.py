"""REST API of the knowledge base: thin handlers over the services.

Two routers, mounted by the composition root (:mod:`helpdesk.app`):

* :data:`kb_router`, ``/api/v1/kb/…``: categories, articles and search for
  staff, behind the same bearer-token guard as the rest of ``/api/v1``;
* :data:`public_kb_router`, ``/api/v1/public/kb/…``: search and reading of
  published articles for the portal, without a token; search is rate-limited
  per client address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter
from litestar.types import ControllerRouterHandler

from helpdesk import ratelimit
from helpdesk.api.auth import SECURITY, authenticate, provide_principal
from helpdesk.api.params import MAX_ID, AfterId, Limit, ObjectId, reject_nul_characters
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from knowledge_base import categories, feedback, search, services
from knowledge_base.schemas import (
    ArticleFilter,
    ArticleIn,
    ArticleOut,
    ArticleStatus,
    ArticleSummary,
    ArticleUpdate,
    ArticleVersionOut,
    CategoryIn,
    CategoryOut,
    CategoryUpdate,
    DeflectionReport,
    PublicArticleOut,
    SearchQuery,
    SearchResults,
)

PUBLIC_SEARCHES_PER_MINUTE = 300  # per client address: a fast typist behind a shared NAT

Locale = Annotated[
    Literal["vi", "en"] | None,
    Parameter(description="Prefer this language; another one is a fallback."),
]
Query = Annotated[
    str,
    Parameter(
        max_length=200,
        description="Words to find, case- and diacritics-insensitive; the last one "
        "is a prefix unless the text ends with a space.",
    ),
]
CategoryFilter = Annotated[
    int | None, Parameter(ge=1, le=MAX_ID, description="Only this category and those below it.")
]
SearchLimit = Annotated[int, Parameter(ge=1, le=50, description="At most this many results.")]
SearchOffset = Annotated[int, Parameter(ge=0, le=1000, description="Skip this many results.")]


class CategoryController(Controller):
    """``/kb/categories``: the category tree of the knowledge base."""

    path = "/categories"
    tags = ["knowledge base"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(422))
    async def create_category(
        self, principal: NamedDependency[Principal], data: JSONBody[CategoryIn]
    ) -> CategoryOut:
        """Add a category (managers and admins), below ``parent_id`` if given."""
        return await categories.create_category(principal, data)

    @get("/", responses=responses())
    async def list_categories(self, principal: NamedDependency[Principal]) -> list[CategoryOut]:
        """Every category, depth-first: each parent before its children."""
        return await categories.list_categories(principal)

    @get("/{category_id:int}", responses=responses(404))
    async def get_category(
        self, principal: NamedDependency[Principal], category_id: ObjectId
    ) -> CategoryOut:
        """One category."""
        return await categories.get_category(principal, category_id)

    @patch("/{category_id:int}", responses=responses(404, 422))
    async def update_category(
        self,
        principal: NamedDependency[Principal],
        category_id: ObjectId,
        data: JSONBody[CategoryUpdate],
    ) -> CategoryOut:
        """Rename, move or reorder a category (managers and admins); it cannot
        move below itself."""
        return await categories.update_category(principal, category_id, data)

    @delete("/{category_id:int}", responses=responses(404, 409))
    async def delete_category(
        self, principal: NamedDependency[Principal], category_id: ObjectId
    ) -> None:
        """Remove an empty category (managers and admins); 409 while it has
        subcategories or articles."""
        await categories.delete_category(principal, category_id)


class ArticleController(Controller):
    """``/kb/articles``: articles, their translations and versions."""

    path = "/articles"
    tags = ["knowledge base"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(409, 422))
    async def create_article(
        self, principal: NamedDependency[Principal], data: JSONBody[ArticleIn]
    ) -> ArticleOut:
        """Write an article in Markdown. Every member of staff may write drafts;
        publishing needs a manager or admin. With ``translation_of`` it becomes
        that article's translation (409 if that language exists already)."""
        return await services.create_article(principal, data)

    @get("/", responses=responses())
    async def list_articles(
        self,
        principal: NamedDependency[Principal],
        status: ArticleStatus | None = None,
        locale: Annotated[
            Literal["vi", "en"] | None, Parameter(description="Only this language.")
        ] = None,
        category_id: CategoryFilter = None,
        tag: Annotated[str | None, Parameter(min_length=1, max_length=64)] = None,
        after_id: AfterId = 0,
        limit: Limit = 50,
    ) -> list[ArticleSummary]:
        """Articles by id, drafts included, without their bodies. For the next
        page pass the last id seen as ``after_id``."""
        filters = ArticleFilter(status=status, locale=locale, category_id=category_id, tag=tag)
        return await services.list_articles(principal, filters, after_id=after_id, limit=limit)

    @get("/{article_id:int}", responses=responses(404))
    async def get_article(
        self, principal: NamedDependency[Principal], article_id: ObjectId, locale: Locale = None
    ) -> ArticleOut:
        """One article with its Markdown, its sanitised HTML and its translations.
        With ``locale`` its translation into that language is returned when
        there is one (``fallback`` tells when there is not)."""
        return await services.get_article(principal, article_id, locale)

    @patch("/{article_id:int}", responses=responses(404, 409, 422))
    async def update_article(
        self,
        principal: NamedDependency[Principal],
        article_id: ObjectId,
        data: JSONBody[ArticleUpdate],
    ) -> ArticleOut:
        """Save a change, if ``version`` is current (409 otherwise). Staff edit
        drafts; published articles and status changes need a manager or admin.
        The previous title and body are kept as a version."""
        return await services.update_article(principal, article_id, data)

    @delete("/{article_id:int}", responses=responses(404))
    async def delete_article(
        self, principal: NamedDependency[Principal], article_id: ObjectId
    ) -> None:
        """Delete an article and its versions (managers and admins); its
        translations stay."""
        await services.delete_article(principal, article_id)

    @get("/{article_id:int}/versions", responses=responses(404))
    async def list_versions(
        self, principal: NamedDependency[Principal], article_id: ObjectId
    ) -> list[ArticleVersionOut]:
        """The previous titles and bodies of an article, newest first."""
        return await services.list_versions(principal, article_id)


@get("/search", responses=responses(), tags=["knowledge base"])
async def search_articles(
    principal: NamedDependency[Principal],
    q: Query,
    locale: Locale = None,
    category_id: CategoryFilter = None,
    status: ArticleStatus | None = None,
    limit: SearchLimit = 10,
    offset: SearchOffset = 0,
) -> SearchResults:
    """Search articles, drafts included, best matches first (title matches
    before body matches), with highlighted titles and snippets."""
    query = SearchQuery(
        q=q, locale=locale, category_id=category_id, status=status, limit=limit, offset=offset
    )
    return await search.search_articles(principal, query)


@get("/search", responses=responses(429), tags=["public"])
async def search_published(
    request: Request[Any, Any, Any],
    q: Query,
    locale: Locale = None,
    category_id: CategoryFilter = None,
    limit: SearchLimit = 10,
    offset: SearchOffset = 0,
) -> SearchResults:
    """Search published articles, for the portal; no token needed.
    Rate-limited per client address."""
    host = request.client.host if request.client else "unknown"
    await ratelimit.check(f"kb-search:ip:{host}", PUBLIC_SEARCHES_PER_MINUTE, 60)
    query = SearchQuery(q=q, locale=locale, category_id=category_id, limit=limit, offset=offset)
    return await search.search_public(query)


@get("/articles/{article_id:int}", responses=responses(404), tags=["public"])
async def read_published(article_id: ObjectId, locale: Locale = None) -> PublicArticleOut:
    """A published article as sanitised HTML, in ``locale`` when translated;
    drafts are not found."""
    return await services.read_public_article(article_id, locale)


controllers: list[ControllerRouterHandler] = [
    CategoryController,
    ArticleController,
    search_articles,
]

kb_router = Router(
    path="/api/v1/kb",
    route_handlers=controllers,
    guards=[authenticate],
    before_request=reject_nul_characters,
    dependencies={"principal": Provide(provide_principal)},
    security=SECURITY,
)

public_kb_router = Router(
    path="/api/v1/public/kb",
    route_handlers=[search_published, read_published],
    before_request=reject_nul_characters,
    security=[],
)

Start = Annotated[datetime, Parameter(description="Events from this instant (ISO 8601).")]
End = Annotated[datetime, Parameter(description="… until before this instant (ISO 8601).")]


@get("/deflection", responses=responses(422), tags=["reports"])
async def deflection_report(
    principal: NamedDependency[Principal], start: Start, end: End
) -> DeflectionReport:
    """How often articles suggested on the request form answered the question
    (managers and admins): suggestions shown and read, requests sent after
    reading, forms deflected, "Was this helpful?" answers, the top articles."""
    return await feedback.deflection_report(principal, start, end)


reports_router = Router(
    path="/api/v1/reports",
    route_handlers=[deflection_report],
    guards=[authenticate],
    before_request=reject_nul_characters,
    dependencies={"principal": Provide(provide_principal)},
    security=SECURITY,
)

routers = [kb_router, public_kb_router, reports_router]

__all__ = ["controllers", "kb_router", "public_kb_router", "reports_router", "routers"]
