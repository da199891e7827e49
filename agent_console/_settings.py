"""What the settings pages (agents, teams, mailboxes, routing, SLA) share.

Who sees them is the permission policy's answer: those who may view reports
(managers) read them, those who may administer change them; the domain
services check again. A form the service refuses is shown again, as typed,
with the reason next to it (never a 500): 422 for invalid values, 409 for a
name or address in use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.datastructures import FormMultiDict
from litestar.response import Template

from agent_console._admin_forms import Typed
from agent_console._form_errors import GENERAL, field_errors, translated
from agent_console._labels import N_
from agent_console._pages import done, error_message, render, request_locale
from helpdesk.errors import (
    HelpdeskError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, may, require
from helpdesk.services import workspace

__all__ = ["DONE", "ShowAgain", "may_edit", "save", "settings_page", "show_again"]

AnyRequest = Request[Any, Any, Any]
ShowAgain = Callable[[FormMultiDict, HelpdeskError], Awaitable[Template]]
SettingsPage = Callable[..., Awaitable[Template]]
VIEW_SETTINGS = Action.VIEW_REPORTS  # managers read the settings, as they read SLA policies
EDIT_SETTINGS = Action.ADMINISTER

ERRORS = {  # where a settings page says more than the web kit's table (helpdesk.web.errors)
    "conflict": N_(
        "This name or address is already in use, or the change conflicts with other settings."
    ),
    "confirm_deactivation": N_(
        "Deactivating this agent leaves the things below behind. Save again to confirm."
    ),
    "version_conflict": N_(
        "Someone else changed these settings in the meantime. "
        "The form now shows the current values: make your change again."
    ),
}

SERVICE_FIELDS = {  # where the services' field paths are on the forms
    "calendar_id": "calendar",
    "escalation": "breached_team",
    "team_ids": "teams",
    "member_ids": "members",
    "hours.mon": "hours_mon",
    "hours.tue": "hours_tue",
    "hours.wed": "hours_wed",
    "hours.thu": "hours_thu",
    "hours.fri": "hours_fri",
    "hours.sat": "hours_sat",
    "hours.sun": "hours_sun",
    "hours": "hours_mon",
    "subdivision": "country",
}

DONE = {
    "agent": N_("Agent saved."),
    "team": N_("Team saved."),
    "mailbox": N_("Mailbox saved."),
    "rule": N_("Routing rule saved."),
    "rule_deleted": N_("Routing rule deleted."),
    "policy": N_("SLA policy saved."),
    "policy_deleted": N_("SLA policy deleted."),
    "calendar": N_("Business calendar saved."),
    "calendar_deleted": N_("Business calendar deleted."),
}


def may_edit(principal: Principal) -> bool:
    """Whether the settings pages offer their forms to ``principal``."""
    return may(principal, EDIT_SETTINGS)


async def settings_page(
    request: AnyRequest,
    principal: Principal,
    template: str,
    *,
    error: HelpdeskError | None = None,
    **context: Any,
) -> Template:
    """A settings page (403 unless the policy lets ``principal`` view settings),
    with the reason a form was refused when there is one."""
    require(principal, VIEW_SETTINGS)
    _ = translator(request_locale(request))
    errors = translated(field_errors(error, SERVICE_FIELDS), _) if error else {}
    return render(
        request,
        template,
        status_code=error.status if error else 200,
        header=await workspace.header(principal),
        may_edit=may_edit(principal),
        error=_(_summary(error)) if error else None,
        error_detail=None,
        errors=errors,
        error_list=[errors[GENERAL]] if GENERAL in errors else [],
        **context,
    )


def _summary(error: HelpdeskError) -> str:
    """The msgid that heads a refused form (the fields say the rest)."""
    if error.code in ERRORS:
        return ERRORS[error.code]
    if isinstance(error, ValidationError):
        return error_message("validation_error")
    return error_message(error)


def show_again(
    page: SettingsPage, request: AnyRequest, principal: Principal, editing_id: int | None
) -> ShowAgain:
    """How :func:`save` shows a refused form: ``page(request, principal,
    editing_id, typed=…, error=…)`` with the form as typed and the reason."""

    async def show(form: FormMultiDict, exc: HelpdeskError) -> Template:
        return await page(request, principal, editing_id, typed=Typed.of_form(form), error=exc)

    return show


async def save(
    request: AnyRequest,
    principal: Principal,
    operation: Callable[[FormMultiDict], Awaitable[Any]],
    again: ShowAgain,
    target: str,
    message: str,
) -> Response[Any]:
    """Run ``operation`` on the posted form, then go to ``target`` with
    ``message``; when it is refused, show the page ``again`` with the form.

    Those who may not change settings get 403 before the form is read.
    Missing objects (404) and refusals (403) are error pages.
    """
    require(principal, EDIT_SETTINGS)
    form = await request.form()
    try:
        await operation(form)
    except (PermissionDeniedError, NotFoundError):
        raise
    except HelpdeskError as exc:
        return await again(form, exc)
    return done(request, target, message)
