"""The customer page: who they are, their addresses, notes and cases; edits and merges.

Every change calls one domain service (:mod:`helpdesk.services.customer_profiles`,
:mod:`helpdesk.services.customers`), which asks :mod:`helpdesk.policy`; a
refused change shows the page again with the reason (and what was typed),
a forbidden one is the console's 403 page. Merging asks for a confirmation
that names both customers, as the case page does for cases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _people_forms as forms
from agent_console._forms import confirmation_asked, merge_confirmation, text
from agent_console._labels import N_
from agent_console._pages import AnyRequest, PathId, done, error_message, render, request_locale
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, may
from helpdesk.services import customer_profiles, customers, organizations, people, workspace
from helpdesk.services.customers import ConfirmationRequiredError, CrossOrganizationMergeError

SAVED = N_("Customer saved.")
ADDRESS_ADDED = N_("Address added. It stays unverified until the customer writes from it.")
ADDRESS_REMOVED = N_("Address removed.")
MERGED = N_("Customers merged.")
CROSS_ORGANIZATION = N_(
    "These customers belong to different organizations: only an admin may merge them."
)
MAX_ORGANIZATIONS = 200


def customer_url(customer_id: int) -> str:
    """The console page of a customer."""
    return f"/console/customers/{customer_id}"


async def customer_page_view(
    request: AnyRequest,
    principal: Principal,
    customer_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    merge: dict[str, Any] | None = None,
) -> Template:
    """Render the customer page (also after a refused change, with ``error``)."""
    cursor = request.query_params.get("cursor") or None
    page = await people.customer_page(principal, customer_id, cursor=cursor)
    editable = may(principal, Action.MANAGE_CUSTOMERS)
    choices = (
        await organizations.list_organizations(principal, limit=MAX_ORGANIZATIONS)
        if editable
        else []
    )
    return render(
        request,
        "console/customer.html",
        status_code=status_code,
        header=await workspace.header(principal),
        page=page,
        organizations=choices,
        may_edit=editable,
        may_merge=may(principal, Action.MERGE_CUSTOMERS),
        merge=merge,
        typed=typed or {},
        error=translator(request_locale(request))(error) if error else None,
        cursor=cursor,
        **forms.date_helpers(request),
    )


@get("/customers/{customer_id:int}", include_in_schema=False)
async def customer_page(
    request: AnyRequest, principal: NamedDependency[Principal], customer_id: PathId
) -> Template:
    """A customer: contact details, addresses (verified or not), notes, organization,
    satisfaction answers, and their cases of every status (``?cursor=`` pages)."""
    return await customer_page_view(request, principal, customer_id)


async def _change(
    request: AnyRequest,
    principal: Principal,
    customer_id: int,
    operation: Callable[[FormMultiDict], Awaitable[Any]],
    message: str,
) -> Response[Any]:
    form = await request.form()
    try:
        await operation(form)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        typed = {k: text(form, k) for k in ("name", "phone", "notes", "address") if k in form}
        return await customer_page_view(
            request,
            principal,
            customer_id,
            status_code=exc.status,
            error=error_message(exc),
            typed=typed,
        )
    return done(request, customer_url(customer_id), message)


@post("/customers/{customer_id:int}", include_in_schema=False)
async def update_customer(
    request: AnyRequest, principal: NamedDependency[Principal], customer_id: PathId
) -> Response[Any]:
    """Save a customer's name, phone, language, organization and notes."""

    async def operation(form: FormMultiDict) -> Any:
        data = forms.profile_update(form)
        return await customer_profiles.update_profile(principal, customer_id, data)

    return await _change(request, principal, customer_id, operation, SAVED)


@post("/customers/{customer_id:int}/addresses", include_in_schema=False)
async def add_address(
    request: AnyRequest, principal: NamedDependency[Principal], customer_id: PathId
) -> Response[Any]:
    """Add an email address: unverified until the customer writes from it."""

    async def operation(form: FormMultiDict) -> Any:
        data = forms.address_in(form)
        return await customer_profiles.add_address(principal, customer_id, data)

    return await _change(request, principal, customer_id, operation, ADDRESS_ADDED)


@post("/customers/{customer_id:int}/addresses/remove", include_in_schema=False)
async def remove_address(
    request: AnyRequest, principal: NamedDependency[Principal], customer_id: PathId
) -> Response[Any]:
    """Remove an email address (the last verified one: admins only)."""

    async def operation(form: FormMultiDict) -> Any:
        address = text(form, "address").strip()[:320]
        return await customer_profiles.remove_address(principal, customer_id, address)

    return await _change(request, principal, customer_id, operation, ADDRESS_REMOVED)


@post("/customers/{customer_id:int}/merge", include_in_schema=False)
async def merge_customer(
    request: AnyRequest, principal: NamedDependency[Principal], customer_id: PathId
) -> Response[Any]:
    """Merge this customer into another one (``target``: its number), in two
    steps: the page first asks to confirm, naming both customers; the
    confirming form sends them back (``confirm_customers``)."""
    form = await request.form()
    target = forms.form_id(text(form, "target"))
    try:
        if target is None:
            raise ValidationError("not a customer number", field="target")
        confirm = merge_confirmation(form)
        merged = await customers.merge_customers(principal, customer_id, target, confirm)
    except ConfirmationRequiredError as exc:
        confirmation = confirmation_asked(target, exc)
        return await customer_page_view(
            request, principal, customer_id, status_code=exc.status, merge=confirmation
        )
    except CrossOrganizationMergeError as exc:
        return await customer_page_view(
            request, principal, customer_id, status_code=exc.status, error=CROSS_ORGANIZATION
        )
    except PermissionDeniedError:
        raise
    except HelpdeskError as exc:
        return await customer_page_view(
            request, principal, customer_id, status_code=exc.status, error=error_message(exc)
        )
    return done(request, customer_url(merged.id), MERGED)
