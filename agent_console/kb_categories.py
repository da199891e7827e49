"""The categories of the knowledge base: create, rename (in Vietnamese and
English), place in the tree, reorder and delete.

Writers read the page; its forms are for those the policy lets publish
(managers and admins), and the services check again. A category is only
deleted when empty: the delete's confirmation page lists what is still in it
and explains that those articles and subcategories must be moved first.
Categories have names in both languages and no descriptions (the table has
none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._form_errors import Message
from agent_console._forms import text
from agent_console._kb_forms import CATEGORY_FIELDS, category_in, category_update, errors_of, typed
from agent_console._kb_pages import article_url, confirm_page, kb_page
from agent_console._labels import N_
from agent_console._pages import PathId, done, request_locale
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, require
from knowledge_base import categories, services
from knowledge_base.schemas import ArticleFilter

AnyRequest = Request[Any, Any, Any]
CATEGORIES_URL = "/console/kb/categories"
SAVED = N_("Category saved.")
DELETED = N_("Category deleted.")
CONFIRMED = "yes"
SHOWN_ARTICLES = 20


async def _page(
    request: AnyRequest,
    principal: Principal,
    *,
    editing: int | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    errors: dict[str, Message] | None = None,
) -> Template:
    return await kb_page(
        request,
        principal,
        "console/kb/categories.html",
        status_code=status_code,
        errors=errors,
        editing=editing,
        form=form or {},
    )


@get("/kb/categories", include_in_schema=False)
async def categories_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """The category tree, with a form per category and one for a new category."""
    return await _page(request, principal)


async def _save(
    request: AnyRequest,
    principal: Principal,
    editing: int | None,
    operation: Callable[[FormMultiDict], Awaitable[Any]],
) -> Response[Any]:
    require(principal, Action.PUBLISH_ARTICLES)
    form = await request.form()
    try:
        await operation(form)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        shown = typed(form, CATEGORY_FIELDS)
        return await _page(
            request,
            principal,
            editing=editing,
            form=shown,
            status_code=exc.status,
            errors=errors_of(exc),
        )
    return done(request, CATEGORIES_URL, SAVED)


@post("/kb/categories", include_in_schema=False)
async def create_category(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Add a category."""

    async def operation(form: FormMultiDict) -> Any:
        return await categories.create_category(principal, category_in(form))

    return await _save(request, principal, None, operation)


@post("/kb/categories/{category_id:int}", include_in_schema=False)
async def update_category(
    request: AnyRequest, principal: NamedDependency[Principal], category_id: PathId
) -> Response[Any]:
    """Rename, move or reorder a category."""

    async def operation(form: FormMultiDict) -> Any:
        return await categories.update_category(principal, category_id, category_update(form))

    return await _save(request, principal, category_id, operation)


async def _contents(principal: Principal, category_id: int, _: Any) -> list[tuple[str, str | None]]:
    """What is still in a category, in words (empty when it may be deleted)."""
    below = [c for c in await categories.list_categories(principal) if c.parent_id == category_id]
    flt = ArticleFilter(category_id=category_id)
    found = await services.list_articles(principal, flt, limit=SHOWN_ARTICLES)
    direct = [a for a in found if a.category_id == category_id]
    lines: list[tuple[str, str | None]] = [
        (_("Subcategory “%(name)s”", name=c.name_vi), None) for c in below
    ]
    lines += [(_("Article “%(title)s”", title=a.title), article_url(a.id)) for a in direct]
    return lines


@post("/kb/categories/{category_id:int}/delete", include_in_schema=False)
async def delete_category(
    request: AnyRequest, principal: NamedDependency[Principal], category_id: PathId
) -> Response[Any]:
    """Delete an empty category once confirmed; one with articles or
    subcategories gets a page that lists them and explains."""
    require(principal, Action.PUBLISH_ARTICLES)
    category = await categories.get_category(principal, category_id)
    form = await request.form()
    _ = translator(request_locale(request))
    contents = await _contents(principal, category_id, _)
    if not contents and text(form, "confirm") == CONFIRMED:
        await categories.delete_category(principal, category_id)
        return done(request, CATEGORIES_URL, DELETED)
    blocked = _(
        "“%(name)s” still holds the articles and subcategories below. Move them to "
        "another category first (in each article's editor, or by changing the "
        "subcategory's parent): only an empty category can be deleted, so that no "
        "article loses its place on the portal.",
        name=category.name_vi,
    )
    return await confirm_page(
        request,
        principal,
        title=_("Delete category"),
        question=_("Delete the category “%(name)s”?", name=category.name_vi),
        action=f"{CATEGORIES_URL}/{category_id}/delete",
        back=CATEGORIES_URL,
        button=_("Yes, delete"),
        details=contents,
        blocked=blocked if contents else "",
    )
