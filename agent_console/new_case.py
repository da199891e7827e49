"""A new case for a customer who phoned or came in: pick or create the customer, write the case.

The search (``?q=``) matches names, addresses and phone numbers, without
regard to case or diacritics ("nguyen" finds "Nguyễn"). The case is opened
by :func:`helpdesk.services.customer_profiles.open_case_for_customer`, as
any new case: routing and the SLA apply. Afterwards the agent sees the case,
or the customer's page when the case went to a team they cannot see.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _people_forms as forms
from agent_console._forms import text
from agent_console._labels import N_
from agent_console._pages import AnyRequest, done, error_message, render, request_locale
from agent_console.cases import case_url
from agent_console.people import customer_url
from helpdesk.domain import Priority
from helpdesk.errors import HelpdeskError, NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Principal
from helpdesk.schemas import CustomerOut
from helpdesk.services import customer_profiles, customers, teams, workspace

OPENED = N_("Case opened.")
OPENED_ELSEWHERE = N_("Case opened. It went to a team whose cases you do not see.")
MAX_FOUND = 20
FIELD_ERRORS = {
    "customer": N_("Choose a customer or enter a new one."),
    "email": N_("Enter an email address or a phone number for the new customer."),
    "body": N_("Write what the customer said."),
}
FIELDS = (
    "customer", "new_name", "new_email", "new_phone", "new_locale", "channel", "subject", "body",
    "as_note", "priority", "team",
)  # fmt: skip


async def _chosen(principal: Principal, value: str) -> CustomerOut | None:
    customer_id = forms.form_id(value)
    if customer_id is None:
        return None
    try:
        return await customers.get_customer(principal, customer_id)
    except NotFoundError:
        return None


async def _new_case_page(
    request: AnyRequest,
    principal: Principal,
    *,
    typed: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
) -> Template:
    query = (request.query_params.get("q") or "").strip()[:200]
    found = await customers.list_customers(principal, text=query, limit=MAX_FOUND) if query else []
    return render(
        request,
        "console/new_case.html",
        status_code=status_code,
        header=await workspace.header(principal),
        q=query,
        found=found,
        chosen=await _chosen(principal, typed.get("customer", "")),
        teams=await teams.list_teams(principal),
        priorities=list(Priority),
        channels=list(customer_profiles.ASSISTED_CHANNELS),
        typed=typed,
        error=translator(request_locale(request))(error) if error else None,
    )


@get("/cases/new", include_in_schema=False)
async def new_case_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """The form; ``?q=`` searches customers, ``?customer=ID`` chooses one."""
    typed = {"customer": (request.query_params.get("customer") or "")[:12]}
    return await _new_case_page(request, principal, typed=typed)


def _explain(exc: HelpdeskError) -> str:
    field = exc.extra.get("field") if isinstance(exc, ValidationError) else None
    return FIELD_ERRORS.get(str(field), error_message(exc))


@post("/cases/new", include_in_schema=False)
async def create_case(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Open the case (and the customer, when new)."""
    form: FormMultiDict = await request.form()
    try:
        case = await customer_profiles.open_case_for_customer(principal, forms.assisted_case(form))
    except PermissionDeniedError:
        raise
    except HelpdeskError as exc:
        typed = {name: text(form, name)[:100_000] for name in FIELDS}
        return await _new_case_page(
            request, principal, typed=typed, status_code=exc.status, error=_explain(exc)
        )
    if customer_profiles.may_see(principal, case):
        return done(request, case_url(case.id), OPENED)
    return done(request, customer_url(case.customer_id), OPENED_ELSEWHERE)
