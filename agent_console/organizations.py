"""Organizations: the list with a search, and each organization's page and edit form.

Who may change what is the policy's answer, through
:func:`helpdesk.services.organizations.update_organization`: staff who
manage customers edit the name, domains and notes, but the domains of an
organization that shares its cases with its members are for admins only
(a refusal is the console's 403 page).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _people_forms as forms
from agent_console._forms import text
from agent_console._labels import N_
from agent_console._pages import AnyRequest, PathId, done, error_message, render, request_locale
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, may
from helpdesk.services import organizations, people, workspace

SAVED = N_("Organization saved.")
PER_PAGE = 50


def organization_url(organization_id: int) -> str:
    """The console page of an organization."""
    return f"/console/organizations/{organization_id}"


@get("/organizations", include_in_schema=False)
async def organizations_page(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Template:
    """Organizations by number, ``?q=`` searching names and domains, ``?after=`` paging."""
    query = (request.query_params.get("q") or "").strip()[:200]
    after = forms.form_id(request.query_params.get("after") or "") or 0
    found = await organizations.search_organizations(
        principal, query, after_id=after, limit=PER_PAGE + 1
    )
    return render(
        request,
        "console/organizations.html",
        header=await workspace.header(principal),
        organizations=found[:PER_PAGE],
        next_after=found[PER_PAGE - 1].id if len(found) > PER_PAGE else None,
        q=query,
        active_queue="organizations",
        **forms.date_helpers(request),
    )


async def _organization_page(
    request: AnyRequest,
    principal: Principal,
    organization_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    cursor = request.query_params.get("cursor") or None
    page = await people.organization_page(principal, organization_id, cursor=cursor)
    return render(
        request,
        "console/organization.html",
        status_code=status_code,
        header=await workspace.header(principal),
        page=page,
        may_edit=may(principal, Action.MANAGE_CUSTOMERS),
        typed=typed or {},
        error=translator(request_locale(request))(error) if error else None,
        active_queue="organizations",
        cursor=cursor,
        **forms.date_helpers(request),
    )


@get("/organizations/{organization_id:int}", include_in_schema=False)
async def organization_page(
    request: AnyRequest, principal: NamedDependency[Principal], organization_id: PathId
) -> Template:
    """An organization: name, domains, notes, members and their cases (``?cursor=`` pages)."""
    return await _organization_page(request, principal, organization_id)


@post("/organizations/{organization_id:int}", include_in_schema=False)
async def update_organization(
    request: AnyRequest, principal: NamedDependency[Principal], organization_id: PathId
) -> Response[Any]:
    """Save an organization's name, domains and notes."""
    form = await request.form()
    try:
        data = forms.organization_update(form)
        await organizations.update_organization(principal, organization_id, data)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        typed = {k: text(form, k) for k in ("name", "domains", "notes")}
        return await _organization_page(
            request,
            principal,
            organization_id,
            status_code=exc.status,
            error=error_message(exc),
            typed=typed,
        )
    return done(request, organization_url(organization_id), SAVED)
