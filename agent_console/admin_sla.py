"""SLA policies and business calendars: managers read them, administrators change them.

A policy's targets are typed per priority as hours and minutes; a calendar's
weekly hours as periods per day (``8h-12h, 13:30-17:30``), with closed
dates and make-up days (``16/02/2027``), its country chosen by name, and a
preview of its next working days and holidays. Every bad field is shown
beside it (:mod:`agent_console._sla_forms`); the SLA services validate the
rest and ask the permission policy. Deletes ask first, on a page that names
what depends on the thing (:mod:`agent_console._confirm`).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from agent_console import _sla_forms as forms
from agent_console._admin_forms import Typed
from agent_console._confirm import Dependents, confirm_page, confirmed
from agent_console._labels import N_
from agent_console._pages import PathId, done, request_locale
from agent_console._settings import DONE, EDIT_SETTINGS, save, settings_page, show_again
from helpdesk.clock import utcnow
from helpdesk.domain import Channel, Priority
from helpdesk.errors import ConflictError, HelpdeskError, NotFoundError
from helpdesk.i18n import translator
from helpdesk.policy import Principal, require
from helpdesk.services import teams
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import WEEKDAYS, BusinessCalendar
from helpdesk.sla.countries import country_choices, resolve_country
from helpdesk.sla.entry import EntryError, format_date, parse_date
from helpdesk.sla.policies import Metric
from helpdesk.sla.preview import CalendarPreview, preview_calendar
from helpdesk.sla.schemas import CalendarOut

__all__ = [
    "calendar_page",
    "calendars_page",
    "confirm_calendar_delete",
    "confirm_policy_delete",
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


async def _policy_confirm(request: AnyRequest, principal: Principal, policy_id: int) -> Template:
    policy = await sla.get_policy(principal, policy_id)
    _ = translator(request_locale(request))
    return await confirm_page(
        request,
        principal,
        title=_("Delete SLA policy"),
        question=_("Delete the SLA policy “%(name)s”?", name=policy.name),
        note=_("Its open cases will be measured by the next policy that matches them."),
        action=f"{POLICIES_URL}/{policy_id}/delete",
        back=f"{POLICIES_URL}/{policy_id}",
        active_queue="admin-policies",
    )


@get("/admin/sla/policies/{policy_id:int}/delete", include_in_schema=False)
async def confirm_policy_delete(
    request: AnyRequest, principal: NamedDependency[Principal], policy_id: PathId
) -> Template:
    """Ask before deleting a policy."""
    return await _policy_confirm(request, principal, policy_id)


@post("/admin/sla/policies/{policy_id:int}/delete", include_in_schema=False)
async def delete_policy(
    request: AnyRequest, principal: NamedDependency[Principal], policy_id: PathId
) -> Response[Any]:
    """Delete a policy once confirmed; its open cases fall to the next matching policy."""
    require(principal, EDIT_SETTINGS)
    if not confirmed(await request.form()):
        return Redirect(path=f"{POLICIES_URL}/{policy_id}/delete", status_code=303)
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
    locale = request_locale(request)
    if typed is not None:  # a country typed by name is shown chosen in the list
        with suppress(HelpdeskError):
            typed.values["country"] = [resolve_country(typed.get("country")) or ""]
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
        countries=country_choices(locale),
        country_names=dict(country_choices(locale)),
        preview=_preview(editing, request.query_params.get("from", ""), locale),
        weekday_of=lambda day: WEEKDAY_NAMES[WEEKDAYS[day.weekday()]],
        day_text=format_date,
    )


def _preview(calendar: CalendarOut | None, start: str, locale: str) -> CalendarPreview | None:
    """The preview of a stored calendar (of the default one for a new form),
    from the date ``start`` (dd/mm/yyyy) or from today in its time zone."""
    definition = calendar.definition if calendar else forms.default_definition()
    try:
        business = BusinessCalendar.from_dict(definition)
    except HelpdeskError:
        return None  # stored before a rule got stricter: the form says what to mend
    try:
        today = (
            parse_date(start) if start else utcnow().astimezone(ZoneInfo(business.timezone)).date()
        )
    except EntryError:
        today = utcnow().astimezone(ZoneInfo(business.timezone)).date()
    return preview_calendar(business, today, locale=locale)


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


async def _calendar_confirm(
    request: AnyRequest, principal: Principal, calendar_id: int, error: HelpdeskError | None = None
) -> Template:
    calendars = await sla.list_calendars(principal)
    calendar = next((c for c in calendars if c.id == calendar_id), None)
    if calendar is None:
        raise NotFoundError(f"calendar {calendar_id} not found")
    users = await sla.calendar_users(principal, calendar_id)
    _ = translator(request_locale(request))
    return await confirm_page(
        request,
        principal,
        title=_("Delete business calendar"),
        question=_("Delete the business calendar “%(name)s”?", name=calendar.name),
        action=f"{CALENDARS_URL}/{calendar_id}/delete",
        back=f"{CALENDARS_URL}/{calendar_id}",
        dependents=Dependents(CALENDAR_USED_BY_ONE, CALENDAR_USED_BY_MANY, users),
        error=error,
        active_queue="admin-calendars",
    )


CALENDAR_USED_BY_ONE = N_("1 SLA policy uses this calendar: %(names)s. Change it first.")
CALENDAR_USED_BY_MANY = N_(
    "%(count)s SLA policies use this calendar: %(names)s. Change them first."
)


@get("/admin/sla/calendars/{calendar_id:int}/delete", include_in_schema=False)
async def confirm_calendar_delete(
    request: AnyRequest, principal: NamedDependency[Principal], calendar_id: PathId
) -> Template:
    """Ask before deleting a calendar, naming the policies that use it."""
    return await _calendar_confirm(request, principal, calendar_id)


@post("/admin/sla/calendars/{calendar_id:int}/delete", include_in_schema=False)
async def delete_calendar(
    request: AnyRequest, principal: NamedDependency[Principal], calendar_id: PathId
) -> Response[Any]:
    """Delete a calendar no policy uses, once confirmed; one in use is refused
    (409) on the confirmation page, which names its policies."""
    require(principal, EDIT_SETTINGS)
    if not confirmed(await request.form()):
        return Redirect(path=f"{CALENDARS_URL}/{calendar_id}/delete", status_code=303)
    try:
        await sla.delete_calendar(principal, calendar_id)
    except ConflictError as exc:
        return await _calendar_confirm(request, principal, calendar_id, exc)
    return done(request, CALENDARS_URL, DONE["calendar_deleted"])
