"""Macros (canned replies) for managers: list, create, edit, delete.

Agents use macros on the case page; only those the policy lets manage them
(:attr:`helpdesk.policy.Action.MANAGE_MACROS`) reach these pages: others get 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._forms import macro_in, text
from agent_console._labels import DONE
from agent_console._pages import PathId, done, error_message, render, request_locale
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError
from helpdesk.i18n import translator
from helpdesk.policy import Principal
from helpdesk.services import macros, workspace
from helpdesk.services.macros import PLACEHOLDERS

AnyRequest = Request[Any, Any, Any]
MACROS_URL = "/console/macros"


async def _macros_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    view = await workspace.macros_view(principal, editing_id)
    form = typed or ({"name": view.editing.name, "body": view.editing.body} if view.editing else {})
    return render(
        request,
        "console/macros.html",
        status_code=status_code,
        view=view,
        header=view.header,
        form=form,
        placeholders=PLACEHOLDERS,
        error=translator(request_locale(request))(error) if error else None,
    )


@get("/macros", include_in_schema=False)
async def list_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every macro, and the form for a new one."""
    return await _macros_page(request, principal)


@get("/macros/{macro_id:int}", include_in_schema=False)
async def edit_page(
    request: AnyRequest, principal: NamedDependency[Principal], macro_id: PathId
) -> Template:
    """Every macro, with the form to change one of them."""
    return await _macros_page(request, principal, macro_id)


async def _save(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None,
    operation: Callable[[FormMultiDict], Awaitable[Any]],
    message: str,
) -> Response[Any]:
    form = await request.form()
    try:
        await operation(form)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        typed = {"name": text(form, "name"), "body": text(form, "body")}
        return await _macros_page(
            request,
            principal,
            editing_id,
            status_code=exc.status,
            error=error_message(exc),
            typed=typed,
        )
    return done(request, MACROS_URL, message)


@post("/macros", include_in_schema=False)
async def create(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Create a macro."""

    async def operation(form: FormMultiDict) -> Any:
        return await macros.create_macro(principal, macro_in(form))

    return await _save(request, principal, None, operation, DONE["macro_saved"])


@post("/macros/{macro_id:int}", include_in_schema=False)
async def update(
    request: AnyRequest, principal: NamedDependency[Principal], macro_id: PathId
) -> Response[Any]:
    """Change a macro's name and text."""

    async def operation(form: FormMultiDict) -> Any:
        return await macros.update_macro(principal, macro_id, macro_in(form))

    return await _save(request, principal, macro_id, operation, DONE["macro_saved"])


@post("/macros/{macro_id:int}/delete", include_in_schema=False)
async def delete(
    request: AnyRequest, principal: NamedDependency[Principal], macro_id: PathId
) -> Response[Any]:
    """Delete a macro."""
    await macros.delete_macro(principal, macro_id)
    return done(request, MACROS_URL, DONE["macro_deleted"])
