"""Publishing, unpublishing and deleting an article from the editor.

"Publish" is one click. "Unpublish" of a published article and "Delete" ask
first: the form posts ``confirm=yes`` from the confirmation page; a post
without it shows that page instead of acting. The delete's page names what
depends on the article: its translations (which stay) and its history
(which goes with it). The services decide who may (managers and admins, as
:mod:`helpdesk.policy` says) and refuse a stale version (409).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from agent_console._forms import text
from agent_console._kb_forms import LOCALES, errors_of
from agent_console._kb_pages import (
    ARTICLES_URL,
    article_form,
    article_url,
    confirm_page,
    editor_page,
)
from agent_console._labels import N_
from agent_console._pages import PathId, done, request_locale
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, require
from knowledge_base import services
from knowledge_base.schemas import ArticleOut, ArticleStatus, ArticleUpdate

AnyRequest = Request[Any, Any, Any]
CONFIRMED = "yes"
PUBLISHED = N_("Article published: customers can read it on the portal.")
UNPUBLISHED = N_("Article unpublished: it is a draft again.")
DELETED = N_("Article deleted.")


def _version(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else 0


async def _set_status(
    request: AnyRequest, principal: Principal, article: ArticleOut, status: ArticleStatus
) -> Response[Any]:
    """Save the new status for the version the form was made from; a refusal
    shows the editor again with the reason."""
    form = await request.form()
    data = ArticleUpdate(version=_version(text(form, "version")) or 1, status=status)
    try:
        await services.update_article(principal, article.id, data)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        current = await services.get_article(principal, article.id)
        return await editor_page(
            request,
            principal,
            form=article_form(current),
            article=current,
            status_code=exc.status,
            errors=errors_of(exc),
        )
    message = PUBLISHED if status == ArticleStatus.PUBLISHED else UNPUBLISHED
    return done(request, article_url(article.id), message)


@post("/kb/articles/{article_id:int}/publish", include_in_schema=False)
async def publish_article(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Response[Any]:
    """Publish an article (one click)."""
    require(principal, Action.PUBLISH_ARTICLES)
    article = await services.get_article(principal, article_id)
    return await _set_status(request, principal, article, ArticleStatus.PUBLISHED)


@post("/kb/articles/{article_id:int}/unpublish", include_in_schema=False)
async def unpublish_article(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Response[Any]:
    """Make a published article a draft again, once confirmed."""
    require(principal, Action.PUBLISH_ARTICLES)
    article = await services.get_article(principal, article_id)
    form = await request.form()
    if article.status == ArticleStatus.PUBLISHED and text(form, "confirm") != CONFIRMED:
        _ = translator(request_locale(request))
        return await confirm_page(
            request,
            principal,
            title=_("Unpublish article"),
            question=_(
                "Unpublish “%(title)s”? Customers will no longer find it on the portal; "
                "links to it sent in replies will show “not found”.",
                title=article.title,
            ),
            action=f"{article_url(article.id)}/unpublish",
            back=article_url(article.id),
            button=_("Yes, unpublish"),
            hidden={"version": text(form, "version") or str(article.version)},
        )
    return await _set_status(request, principal, article, ArticleStatus.DRAFT)


def _dependents(article: ArticleOut, versions: int, _: Any) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = [
        (
            _(
                "Its translation “%(title)s” (%(language)s) stays, without this language.",
                title=t.title,
                language=_(LOCALES.get(t.locale, t.locale)),
            ),
            article_url(t.id),
        )
        for t in article.translations
    ]
    if versions:
        lines.append(
            (_("Its %(count)s earlier versions are deleted with it.", count=versions), None)
        )
    return lines


@post("/kb/articles/{article_id:int}/delete", include_in_schema=False)
async def delete_article(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Response[Any]:
    """Delete an article, once confirmed on a page that names its translations."""
    require(principal, Action.PUBLISH_ARTICLES)
    article = await services.get_article(principal, article_id)
    form = await request.form()
    if text(form, "confirm") == CONFIRMED:
        await services.delete_article(principal, article_id)
        return done(request, ARTICLES_URL, DELETED)
    _ = translator(request_locale(request))
    versions = len(await services.list_versions(principal, article_id))
    return await confirm_page(
        request,
        principal,
        title=_("Delete article"),
        question=_("Delete “%(title)s”? This cannot be undone.", title=article.title),
        action=f"{article_url(article.id)}/delete",
        back=article_url(article.id),
        button=_("Yes, delete"),
        details=_dependents(article, versions, _),
    )
