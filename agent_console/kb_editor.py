"""The knowledge-base editor: the list of articles, writing, editing and
translating one, with a preview as readers will see it.

``/console/kb/articles`` lists every article the policy lets the agent read
(drafts too), filtered by status, category and language, or searched with the
knowledge base's own search. The editor posts the whole form; "Preview"
posts it too (``intent=preview``) and shows the body rendered by the
portal's renderer without saving. A save with a stale version is refused by
the service (409): the editor keeps what was typed and shows what the other
editor saved beside it. Publishing, unpublishing and deleting are in
:mod:`agent_console.kb_publish`; history in :mod:`agent_console.kb_history`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Template

from agent_console._forms import text
from agent_console._kb_forms import (
    ARTICLE_FIELDS,
    LOCALES,
    STATUSES,
    article_in,
    article_update,
    errors_of,
    typed,
)
from agent_console._kb_pages import (
    article_form,
    article_url,
    editor_page,
    kb_page,
)
from agent_console._labels import N_
from agent_console._pages import PathId, done
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError
from helpdesk.policy import Principal
from knowledge_base import search, services
from knowledge_base.schemas import (
    ArticleFilter,
    ArticleOut,
    ArticleStatus,
    ArticleSummary,
    SearchHit,
    SearchQuery,
)

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50
PREVIEW = "preview"
SAVED = N_("Article saved.")
FilterText = Annotated[str, Parameter(max_length=200)]
AfterId = Annotated[int, Parameter(ge=0, le=2**31 - 1)]


class ListRow(msgspec.Struct, kw_only=True):
    """An article in the list: a summary or a search hit."""

    id: int
    group_id: int
    title: str
    title_html: str | None
    locale: str
    status: str
    category_id: int | None
    updated_at: datetime


def _choice(value: str, allowed: Any) -> str | None:
    return value if value in allowed else None


def _category_id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else None


async def _rows(principal: Principal, flt: ArticleFilter, q: str, after: int) -> list[ListRow]:
    if q.strip():
        query = SearchQuery(
            q=q,
            locale=flt.locale,
            category_id=flt.category_id,
            status=flt.status,
            limit=PAGE_SIZE,
        )
        hits = (await search.search_articles(principal, query)).items
        # the search falls back to the other language where a text is not
        # translated: the list keeps to the language asked for
        return [_row(h, h.title_html) for h in hits if flt.locale in (None, h.locale)]
    found = await services.list_articles(principal, flt, after_id=after, limit=PAGE_SIZE)
    return [_row(s, None) for s in found]


def _row(item: ArticleSummary | SearchHit, title_html: str | None) -> ListRow:
    return ListRow(
        id=item.id,
        group_id=item.group_id,
        title=item.title,
        title_html=title_html,
        locale=item.locale,
        status=str(item.status),
        category_id=item.category_id,
        updated_at=item.updated_at,
    )


@get("/kb/articles", include_in_schema=False)
async def articles_page(
    request: AnyRequest,
    principal: NamedDependency[Principal],
    status: FilterText = "",
    category: FilterText = "",
    locale: FilterText = "",
    q: FilterText = "",
    after: AfterId = 0,
) -> Template:
    """Every article, drafts too, filtered or searched; a value that means
    nothing is ignored, so an old bookmark still opens the list."""
    flt = ArticleFilter(
        status=ArticleStatus(status) if _choice(status, STATUSES) else None,
        locale=_choice(locale, LOCALES),
        category_id=_category_id(category),
    )
    rows = await _rows(principal, flt, q.replace("\x00", ""), after)
    translations = await services.translations_of(principal, [r.group_id for r in rows])
    more = not q.strip() and len(rows) == PAGE_SIZE
    return await kb_page(
        request,
        principal,
        "console/kb/articles.html",
        rows=rows,
        translations=translations,
        filters={"status": status, "category": category, "locale": locale, "q": q},
        next_after=rows[-1].id if more else None,
    )


def _other_locale(locale: str) -> str:
    return "en" if locale == "vi" else "vi"


def _translation_of(request: AnyRequest) -> int | None:
    return _category_id(request.query_params.get("translation_of", ""))


@get("/kb/articles/new", include_in_schema=False)
async def new_article_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """The editor of a new article; with ``?translation_of=ID``, of that
    article's translation into the other language, pre-filled with the
    original, which is shown beside it."""
    source_id = _translation_of(request)
    if source_id is None:
        return await editor_page(request, principal, form={"locale": "vi", "status": "draft"})
    source = await services.get_article(principal, source_id)
    form = {**article_form(source), "locale": _other_locale(source.locale), "status": "draft"}
    return await editor_page(request, principal, form=form, source=source)


async def _source(principal: Principal, form: FormMultiDict) -> ArticleOut | None:
    source_id = _category_id(text(form, "translation_of"))
    return await services.get_article(principal, source_id) if source_id else None


@post("/kb/articles", include_in_schema=False)
async def create_article(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Write a new article (or translation), or preview it (``intent=preview``)."""
    form = await request.form()
    source = await _source(principal, form)
    shown = typed(form, ARTICLE_FIELDS)
    if text(form, "intent") == PREVIEW:
        return await editor_page(request, principal, form=shown, source=source, preview=True)
    try:
        made = await services.create_article(
            principal, article_in(form, source.id if source else None)
        )
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        return await editor_page(
            request,
            principal,
            form=shown,
            source=source,
            status_code=exc.status,
            errors=errors_of(exc),
        )
    return done(request, article_url(made.id), SAVED)


@get("/kb/articles/{article_id:int}", include_in_schema=False)
async def article_page(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Template:
    """The editor of an article, with its translations and actions."""
    article = await services.get_article(principal, article_id)
    return await editor_page(request, principal, form=article_form(article), article=article)


@post("/kb/articles/{article_id:int}", include_in_schema=False)
async def save_article(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Response[Any]:
    """Save the editor's form if the article was not changed meanwhile, or
    preview it (``intent=preview``)."""
    form = await request.form()
    stored = await services.get_article(principal, article_id)
    article = msgspec.structs.replace(stored, version=_version(form, stored.version))
    shown = {**typed(form, ARTICLE_FIELDS), "locale": article.locale}
    shown["status"] = str(article.status)
    if text(form, "intent") == PREVIEW:
        return await editor_page(request, principal, form=shown, article=article, preview=True)
    try:
        await services.update_article(principal, article_id, article_update(form))
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        current = await services.get_article(principal, article_id)
        return await editor_page(
            request,
            principal,
            form=shown,
            article=article,
            theirs=current if current.version != article.version else None,
            status_code=exc.status,
            errors=errors_of(exc),
        )
    return done(request, article_url(article_id), SAVED)


def _version(form: FormMultiDict, default: int) -> int:
    value = text(form, "version")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else default
