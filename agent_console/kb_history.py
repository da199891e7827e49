"""An article's history in the editor: its versions with who saved them and
when, one old version as readers saw it, and "restore this version".

A restore is a new save with the old title and body
(:func:`knowledge_base.services.restore_version`): nothing is lost, the
replaced text becomes a version too, and a stale form is refused (409).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._form_errors import GENERAL, Message
from agent_console._forms import text
from agent_console._kb_forms import errors_of
from agent_console._kb_pages import article_url, kb_page, preview_html
from agent_console._labels import N_
from agent_console._pages import PathId, done
from helpdesk.errors import (
    HelpdeskError,
    NotFoundError,
    PermissionDeniedError,
    VersionConflictError,
)
from helpdesk.policy import Principal
from helpdesk.services import agents
from knowledge_base import services

AnyRequest = Request[Any, Any, Any]
RESTORE_CONFLICT = N_(
    "Someone else saved this article meanwhile. The history now shows the current "
    "version: choose the version to restore again."
)
RESTORED = N_("The earlier version was restored; the text it replaced is kept in the history.")


def history_url(article_id: int, version: int | None = None) -> str:
    """The history of an article, or one version of it."""
    base = f"{article_url(article_id)}/history"
    return base if version is None else f"{base}/{version}"


async def _names(principal: Principal) -> dict[int, str]:
    return {agent.id: agent.name for agent in await agents.list_agents(principal)}


async def _history(
    request: AnyRequest,
    principal: Principal,
    article_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, Message] | None = None,
) -> Template:
    article = await services.get_article(principal, article_id)
    versions = await services.list_versions(principal, article_id)
    return await kb_page(
        request,
        principal,
        "console/kb/history.html",
        status_code=status_code,
        errors=errors,
        article=article,
        versions=versions,
        names=await _names(principal),
    )


@get("/kb/articles/{article_id:int}/history", include_in_schema=False)
async def history_page(
    request: AnyRequest, principal: NamedDependency[Principal], article_id: PathId
) -> Template:
    """The versions of an article, newest first, with who saved each and when."""
    return await _history(request, principal, article_id)


@get("/kb/articles/{article_id:int}/history/{version:int}", include_in_schema=False)
async def version_page(
    request: AnyRequest,
    principal: NamedDependency[Principal],
    article_id: PathId,
    version: PathId,
) -> Template:
    """One earlier version, rendered as readers saw it, with its Markdown."""
    article = await services.get_article(principal, article_id)
    found = [v for v in await services.list_versions(principal, article_id) if v.version == version]
    if not found:
        raise NotFoundError(f"article {article_id} has no version {version}")
    return await kb_page(
        request,
        principal,
        "console/kb/version.html",
        article=article,
        old=found[0],
        old_html=preview_html(found[0].body),
        names=await _names(principal),
    )


@post("/kb/articles/{article_id:int}/history/{version:int}/restore", include_in_schema=False)
async def restore_version(
    request: AnyRequest,
    principal: NamedDependency[Principal],
    article_id: PathId,
    version: PathId,
) -> Response[Any]:
    """Make an earlier version the current text again (a new version)."""
    form = await request.form()
    current = text(form, "version")
    expected = int(current) if current.isascii() and current.isdigit() and len(current) < 10 else 0
    try:
        await services.restore_version(principal, article_id, version, max(expected, 1))
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        conflict = isinstance(exc, VersionConflictError)
        errors = {GENERAL: (RESTORE_CONFLICT, {})} if conflict else errors_of(exc)
        return await _history(request, principal, article_id, status_code=exc.status, errors=errors)
    return done(request, article_url(article_id), RESTORED)
