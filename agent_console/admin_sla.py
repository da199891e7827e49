"""SLA policies and business calendars: managers read them, administrators change them.

A policy's targets are typed per priority as hours and minutes; a calendar's
weekly hours as periods per day (``08:00-12:00, 13:30-17:30``), with closed
dates and make-up days. The SLA services validate (an invalid calendar's
message, naming the field, is shown next to the form) and ask the
permission policy.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _sla_forms as forms
from agent_console._admin_forms import Typed
from agent_console._labels import N_
from agent_console._pages import PathId, done
from agent_console._settings import DONE, save, settings_page, show_again
from helpdesk.domain import Channel, Priority
from helpdesk.errors import ConflictError, HelpdeskError, NotFoundError
from helpdesk.policy import Principal
from helpdesk.services import teams
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import WEEKDAYS
from helpdesk.sla.policies import Metric

__all__ = [
    "calendar_page",
    "calendars_page",
    "create_calendar",
    "create_policy",
    "delete_calendar",
    "delete_policy",
    "policies_page",
    "policy_page",
    "update_calendar",
    "update_policy",
]

AnyRequest = Request[Any, Any, Any]
POLICIES_URL = "/console/admin/sla/policies"
CALENDARS_URL = "/console/admin/sla/calendars"
METRICS = (
    (Metric.FIRST_RESPONSE, N_("First response time")),
    (Metric.NEXT_RESPONSE, N_("Next response time")),
    (Metric.RESOLUTION, N_("Resolution time")),
)
STAGES = (
    ("at_risk", N_("When a target is at risk")),
    ("breached", N_("When a target is breached")),
)
WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            N_("Monday"),
            N_("Tuesday"),
            N_("Wednesday"),
            N_("Thursday"),
            N_("Friday"),
            N_("Saturday"),
            N_("Sunday"),
        ),
        strict=True,
    )
)

# --- policies --------------------------------------------------------------------------


async def _policies_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: Typed | None = None,
    error: HelpdeskError | None = None,
) -> Template:
    policies = await sla.list_policies(principal)
    editing = await sla.get_policy(principal, editing_id) if editing_id is not None else None
    calendars = await sla.list_calendars(principal)
    all_teams = await teams.list_teams(principal)
    return await settings_page(
        request,
        principal,
        "console/manage/policies.html",
        error=error,
        active_queue="admin-policies",
        policies=policies,
        editing=editing,
        f=typed or forms.policy_values(editing),
        calendars=calendars,
        calendar_names={c.id: c.name for c in calendars},
        teams=all_teams,
        team_names={t.id: t.name for t in all_teams},
        priorities=list(Priority),
        channels=list(Channel),
        metrics=METRICS,
        stages=STAGES,
        target_field=forms.target_field,
    )


@get("/admin/sla/policies", include_in_schema=False)
async def policies_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every SLA policy in the order they are tried, and the form for a new one."""
    return await _policies_page(request, principal)


@get("/admin/sla/policies/{policy_id:int}", include_in_schema=False)
async def policy_page(
    request: AnyRequest, principal: NamedDependency[Principal], policy_id: PathId
) -> Template:
    """Every policy, with the form to change one."""
    return await _policies_page(request, principal, policy_id)


@post("/admin/sla/policies", include_in_schema=False)
async def create_policy(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Add an SLA policy (last, unless a position is given)."""

    async def operation(form: FormMultiDict) -> None:
        await sla.create_policy(principal, forms.policy_in(form))

    show = show_again(_policies_page, request, principal, None)
    return await save(request, principal, operation, show, POLICIES_URL, DONE["policy"])


@post("/admin/sla/policies/{policy_id:int}", include_in_schema=False)
async def update_policy(
    request: AnyRequest, principal: NamedDependency[Principal], policy_id: PathId
) -> Response[Any]:
    """Change a policy; the open cases it measures follow the change."""

    async def operation(form: FormMultiDict) -> None:
        await sla.update_policy(principal, policy_id, forms.policy_update(form))

    show = show_again(_policies_page, request, principal, policy_id)
    return await save(request, principal, operation, show, POLICIES_URL, DONE["policy"])


@post("/admin/sla/policies/{policy_id:int}/delete", include_in_schema=False)
async def delete_policy(
    request: AnyRequest, principal: NamedDependency[Principal], policy_id: PathId
) -> Response[Any]:
    """Delete a policy; its open cases fall to the next matching policy."""
    await sla.delete_policy(principal, policy_id)
    return done(request, POLICIES_URL, DONE["policy_deleted"])


# --- calendars -------------------------------------------------------------------------


async def _calendars_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: Typed | None = None,
    error: HelpdeskError | None = None,
) -> Template:
    calendars = await sla.list_calendars(principal)
    editing = next((c for c in calendars if c.id == editing_id), None)
    if editing_id is not None and editing is None:
        raise NotFoundError(f"calendar {editing_id} not found")
    return await settings_page(
        request,
        principal,
        "console/manage/calendars.html",
        error=error,
        active_queue="admin-calendars",
        calendars=calendars,
        editing=editing,
        f=typed or forms.calendar_values(editing),
        weekdays=list(WEEKDAY_NAMES.items()),
    )


@get("/admin/sla/calendars", include_in_schema=False)
async def calendars_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every business calendar, and the form for a new one."""
    return await _calendars_page(request, principal)


@get("/admin/sla/calendars/{calendar_id:int}", include_in_schema=False)
async def calendar_page(
    request: AnyRequest, principal: NamedDependency[Principal], calendar_id: PathId
) -> Template:
    """Every calendar, with the form to change one."""
    return await _calendars_page(request, principal, calendar_id)


@post("/admin/sla/calendars", include_in_schema=False)
async def create_calendar(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Add a business calendar."""

    async def operation(form: FormMultiDict) -> None:
        await sla.create_calendar(principal, forms.calendar_in(form))

    show = show_again(_calendars_page, request, principal, None)
    return await save(request, principal, operation, show, CALENDARS_URL, DONE["calendar"])


@post("/admin/sla/calendars/{calendar_id:int}", include_in_schema=False)
async def update_calendar(
    request: AnyRequest, principal: NamedDependency[Principal], calendar_id: PathId
) -> Response[Any]:
    """Change a calendar's name and the settings its form shows (the others are kept)."""

    async def operation(form: FormMultiDict) -> None:
        await sla.merge_calendar(principal, calendar_id, forms.calendar_in(form))

    show = show_again(_calendars_page, request, principal, calendar_id)
    return await save(request, principal, operation, show, CALENDARS_URL, DONE["calendar"])


@post("/admin/sla/calendars/{calendar_id:int}/delete", include_in_schema=False)
async def delete_calendar(
    request: AnyRequest, principal: NamedDependency[Principal], calendar_id: PathId
) -> Response[Any]:
    """Delete a calendar no policy uses; one in use is refused with the reason."""
    try:
        await sla.delete_calendar(principal, calendar_id)
    except ConflictError as exc:
        return await _calendars_page(request, principal, error=exc)
    return done(request, CALENDARS_URL, DONE["calendar_deleted"])
