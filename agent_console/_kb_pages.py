"""Rendering the knowledge-base editor's pages: the shared context, the
article editor with its preview, and the confirmation page.

Who may do what is the policy's answer (:mod:`helpdesk.policy`): every member
of staff who may write articles reads these pages and edits drafts; the
publish, unpublish and delete buttons and the categories' forms are offered to
those who may publish, and the services check again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.response import Template
from markupsafe import Markup

from agent_console._form_errors import GENERAL, Message, translated
from agent_console._kb_forms import LOCALES, STATUSES, short_when
from agent_console._pages import render, request_locale, settings_of
from helpdesk.i18n import TZ_COOKIE, translator, viewer_timezone
from helpdesk.policy import Action, Principal, may, require
from helpdesk.services import workspace
from knowledge_base import categories
from knowledge_base.markdown import render as render_markdown
from knowledge_base.schemas import ArticleOut, CategoryOut

__all__ = [
    "ARTICLES_URL",
    "article_form",
    "article_url",
    "confirm_page",
    "editor_page",
    "kb_page",
    "preview_html",
]

AnyRequest = Request[Any, Any, Any]
ARTICLES_URL = "/console/kb/articles"


def article_url(article_id: int) -> str:
    """The editor of an article."""
    return f"{ARTICLES_URL}/{article_id}"


def preview_html(source: str) -> Markup:
    """Markdown as the portal shows it: rendered and sanitised by the
    knowledge base's own renderer (never the raw source)."""
    return Markup(render_markdown(source).html)  # noqa: S704 - sanitised by nh3


def article_form(article: ArticleOut) -> dict[str, str]:
    """The editor's fields holding what is stored."""
    return {
        "title": article.title,
        "body": article.body,
        "category": str(article.category_id or ""),
        "tags": ", ".join(article.tags),
        "locale": article.locale,
        "status": str(article.status),
    }


def _namer(tree: list[CategoryOut], locale: str) -> Callable[[int | None], str]:
    """The name of a category in the reader's language (Vietnamese when untranslated)."""
    names = {c.id: (c.name_en if locale == "en" and c.name_en else c.name_vi) for c in tree}

    def name(category_id: int | None) -> str:
        return names.get(category_id, "") if category_id is not None else ""

    return name


async def kb_page(
    request: AnyRequest,
    principal: Principal,
    template: str,
    *,
    status_code: int = 200,
    errors: dict[str, Message] | None = None,
    **context: Any,
) -> Template:
    """A page of the editor (403 unless the policy lets ``principal`` write
    articles), with the categories, the words of the codes, and the messages
    of a refused form translated (``errors`` by field, ``error_list`` for the
    form as a whole)."""
    require(principal, Action.WRITE_ARTICLES)
    locale = request_locale(request)
    _ = translator(locale)
    timezone = viewer_timezone(request.cookies.get(TZ_COOKIE), settings_of(request).timezone)
    shown = translated(errors or {}, _)
    tree = await categories.list_categories(principal)
    return render(
        request,
        template,
        status_code=status_code,
        header=await workspace.header(principal),
        active_queue="kb",
        may_publish=may(principal, Action.PUBLISH_ARTICLES),
        categories=tree,
        category_name=_namer(tree, locale),
        statuses=STATUSES,
        locales=LOCALES,
        short_when=lambda value: short_when(value, locale, timezone),
        errors=shown,
        error_list=[shown[GENERAL]] if GENERAL in shown else [],
        **context,
    )


async def editor_page(
    request: AnyRequest,
    principal: Principal,
    *,
    form: dict[str, str],
    article: ArticleOut | None = None,
    source: ArticleOut | None = None,
    theirs: ArticleOut | None = None,
    preview: bool = False,
    status_code: int = 200,
    errors: dict[str, Message] | None = None,
) -> Template:
    """The editor: a new article (``source``: the article it translates,
    shown beside it), or ``article``; ``theirs``: the version saved meanwhile
    by someone else; ``preview``: show the body as readers will see it."""
    return await kb_page(
        request,
        principal,
        "console/kb/edit.html",
        status_code=status_code,
        errors=errors,
        form=form,
        article=article,
        source=source,
        source_html=preview_html(source.body) if source else None,
        theirs=theirs,
        preview_html=preview_html(form.get("body", "")) if preview else None,
        version=theirs.version if theirs else (article.version if article else None),
    )


async def confirm_page(
    request: AnyRequest,
    principal: Principal,
    *,
    title: str,
    question: str,
    action: str,
    back: str,
    button: str,
    details: list[tuple[str, str | None]] | None = None,
    blocked: str = "",
    hidden: dict[str, str] | None = None,
) -> Template:
    """Asks before an unpublish or a delete. The texts come translated;
    ``details``: what depends on the thing (text, link or None); ``blocked``:
    why it cannot be done, shown instead of the button."""
    return await kb_page(
        request,
        principal,
        "console/kb/confirm.html",
        title=title,
        question=question,
        action=action,
        back=back,
        button=button,
        details=details or [],
        blocked=blocked,
        hidden=hidden or {},
    )
