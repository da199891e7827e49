"""Routing rules for administrators: the ordered list, a rule's conditions and
actions as form fields, turning a rule on or off, and deleting it.

The routing service lets administrators alone see and change rules
(:attr:`helpdesk.policy.Action.ADMINISTER`): managers and agents get 403.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from agent_console import _admin_forms as forms
from agent_console._confirm import confirm_page, confirmed
from agent_console._pages import PathId, done, request_locale
from agent_console._settings import DONE, EDIT_SETTINGS, save, settings_page, show_again
from helpdesk.channels.email import mailboxes
from helpdesk.domain import Channel, Priority
from helpdesk.errors import HelpdeskError
from helpdesk.i18n import translator
from helpdesk.policy import Principal, require
from helpdesk.routing import services as routing
from helpdesk.services import agents, teams

__all__ = [
    "confirm_rule_delete",
    "create_rule",
    "delete_rule",
    "rule_page",
    "rules_page",
    "set_rule_enabled",
    "update_rule",
]

AnyRequest = Request[Any, Any, Any]
RULES_URL = "/console/admin/rules"


async def _rules_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: forms.Typed | None = None,
    error: HelpdeskError | None = None,
) -> Template:
    rules = await routing.list_rules(principal)
    editing = await routing.get_rule(principal, editing_id) if editing_id is not None else None
    all_teams = await teams.list_teams(principal)
    staff = await agents.list_agents(principal, active_only=True)
    return await settings_page(
        request,
        principal,
        "console/manage/rules.html",
        error=error,
        active_queue="admin-rules",
        rules=rules,
        editing=editing,
        f=typed or forms.rule_values(editing),
        teams=all_teams,
        team_names={t.id: t.name for t in all_teams},
        agents=staff,
        agent_names={a.id: a.name for a in staff},
        mailboxes=[
            {"id": m.id, "name": f"{m.name} <{m.address}>"}
            for m in await mailboxes.list_mailboxes(principal)
        ],
        channels=list(Channel),
        priorities=list(Priority),
        languages=("vi", "en"),
    )


@get("/admin/rules", include_in_schema=False)
async def rules_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every routing rule in the order they are tried, and the form for a new one."""
    return await _rules_page(request, principal)


@get("/admin/rules/{rule_id:int}", include_in_schema=False)
async def rule_page(
    request: AnyRequest, principal: NamedDependency[Principal], rule_id: PathId
) -> Template:
    """Every rule, with the form to change one."""
    return await _rules_page(request, principal, rule_id)


@post("/admin/rules", include_in_schema=False)
async def create_rule(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Add a rule (last, unless a position is given)."""

    async def operation(form: FormMultiDict) -> None:
        await routing.create_rule(principal, forms.rule_in(form))

    show = show_again(_rules_page, request, principal, None)
    return await save(request, principal, operation, show, RULES_URL, DONE["rule"])


@post("/admin/rules/{rule_id:int}", include_in_schema=False)
async def update_rule(
    request: AnyRequest, principal: NamedDependency[Principal], rule_id: PathId
) -> Response[Any]:
    """Change a rule: name, position, on or off, conditions and actions."""

    async def operation(form: FormMultiDict) -> None:
        await routing.update_rule(principal, rule_id, forms.rule_update(form))

    show = show_again(_rules_page, request, principal, rule_id)
    return await save(request, principal, operation, show, RULES_URL, DONE["rule"])


@post("/admin/rules/{rule_id:int}/enabled", include_in_schema=False)
async def set_rule_enabled(
    request: AnyRequest, principal: NamedDependency[Principal], rule_id: PathId
) -> Response[Any]:
    """Turn a rule on (``enabled=1``) or off (``enabled=0``)."""

    async def operation(form: FormMultiDict) -> None:
        await routing.update_rule(principal, rule_id, forms.enabled_choice(form))

    show = show_again(_rules_page, request, principal, None)
    return await save(request, principal, operation, show, RULES_URL, DONE["rule"])


@get("/admin/rules/{rule_id:int}/delete", include_in_schema=False)
async def confirm_rule_delete(
    request: AnyRequest, principal: NamedDependency[Principal], rule_id: PathId
) -> Template:
    """Ask before deleting a rule."""
    rule = await routing.get_rule(principal, rule_id)
    _ = translator(request_locale(request))
    return await confirm_page(
        request,
        principal,
        title=_("Delete routing rule"),
        question=_("Delete the routing rule “%(name)s”?", name=rule.name),
        note=_("New cases will be routed by the other rules."),
        action=f"{RULES_URL}/{rule_id}/delete",
        back=f"{RULES_URL}/{rule_id}",
        active_queue="admin-rules",
    )


@post("/admin/rules/{rule_id:int}/delete", include_in_schema=False)
async def delete_rule(
    request: AnyRequest, principal: NamedDependency[Principal], rule_id: PathId
) -> Response[Any]:
    """Delete a rule once confirmed (else show the confirmation page)."""
    require(principal, EDIT_SETTINGS)
    if not confirmed(await request.form()):
        return Redirect(path=f"{RULES_URL}/{rule_id}/delete", status_code=303)
    await routing.delete_rule(principal, rule_id)
    return done(request, RULES_URL, DONE["rule_deleted"])
