"""Settings pages for administrators: agents, teams (and how they route), mailboxes.

Each page lists what exists and offers a form for a new one or, at
``…/{id}``, to change one. Managers may read the agents and teams pages
(read-only); mailboxes are for administrators only, as their services say.
Every save is one call of a domain service, in one transaction (which asks
the permission policy); a refused form comes back with the reason
(:mod:`agent_console._settings`). The edit forms carry the version they were
shown with: a save after someone else's change is refused (409) and the page
shows the current values again.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _admin_forms as forms
from agent_console._confirm import UnconfirmedDeactivationError, check_deactivation
from agent_console._labels import N_
from agent_console._pages import PathId
from agent_console._settings import DONE, may_edit, save, settings_page, show_again
from helpdesk.channels.email import mailboxes
from helpdesk.domain import Availability, Role
from helpdesk.errors import HelpdeskError, VersionConflictError
from helpdesk.policy import Principal
from helpdesk.routing import services as routing
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import TeamOut
from helpdesk.services import agents, teams

__all__ = [
    "agent_page",
    "agents_page",
    "create_agent",
    "create_mailbox",
    "create_team",
    "mailbox_page",
    "mailboxes_page",
    "team_page",
    "teams_page",
    "update_agent",
    "update_mailbox",
    "update_team",
]

AnyRequest = Request[Any, Any, Any]
AGENTS_URL = "/console/admin/agents"
TEAMS_URL = "/console/admin/teams"
MAILBOXES_URL = "/console/admin/mailboxes"
LANGUAGES = ("vi", "en")
SECURITY = (("tls", N_("TLS")), ("starttls", N_("STARTTLS")), ("plain", N_("None (unencrypted)")))
STRATEGIES = (
    (Strategy.MANUAL, N_("Manual: agents take cases from the queue")),
    (Strategy.ROUND_ROBIN, N_("Round-robin")),
    (Strategy.LEAST_LOADED, N_("Least loaded")),
)

# --- agents ----------------------------------------------------------------------------


async def _agents_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: forms.Typed | None = None,
    error: HelpdeskError | None = None,
) -> Template:
    editing = await agents.get_agent(principal, editing_id) if editing_id is not None else None
    all_teams = await teams.list_teams(principal)
    if editing is not None and (typed is None or isinstance(error, VersionConflictError)):
        typed = forms.agent_values(editing, agents.agent_version(editing))
    deactivation = error.dependents if isinstance(error, UnconfirmedDeactivationError) else None
    return await settings_page(
        request,
        principal,
        "console/manage/agents.html",
        error=error,
        deactivation=deactivation,
        active_queue="admin-agents",
        agents=await agents.list_agents(principal),
        teams=all_teams,
        team_names={t.id: t.name for t in all_teams},
        editing=editing,
        f=typed or forms.Typed({"languages": ["vi"]}),
        roles=list(Role),
        languages=LANGUAGES,
        availabilities=list(Availability),
    )


@get("/admin/agents", include_in_schema=False)
async def agents_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every member of staff (role, teams, languages, skills, capacity,
    availability) and the form for a new one."""
    return await _agents_page(request, principal)


@get("/admin/agents/{agent_id:int}", include_in_schema=False)
async def agent_page(
    request: AnyRequest, principal: NamedDependency[Principal], agent_id: PathId
) -> Template:
    """Every member of staff, with the form to change one."""
    return await _agents_page(request, principal, agent_id)


@post("/admin/agents", include_in_schema=False)
async def create_agent(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Add a member of staff, with their teams."""

    async def operation(form: FormMultiDict) -> None:
        await agents.create_agent_with_teams(
            principal, forms.agent_in(form), forms.team_choice(form)
        )

    show = show_again(_agents_page, request, principal, None)
    return await save(request, principal, operation, show, AGENTS_URL, DONE["agent"])


@post("/admin/agents/{agent_id:int}", include_in_schema=False)
async def update_agent(
    request: AnyRequest, principal: NamedDependency[Principal], agent_id: PathId
) -> Response[Any]:
    """Change a member of staff: role, teams, languages, skills, capacity, active."""

    async def operation(form: FormMultiDict) -> None:
        data, wanted, version = (
            forms.agent_update(form),
            forms.team_choice(form),
            forms.version(form),
        )
        agent = await agents.get_agent(principal, agent_id)
        fresh = agents.agent_version(agent) == version
        await check_deactivation(principal, agent, data, form, fresh=fresh)
        await agents.update_agent_with_teams(principal, agent_id, data, wanted, version=version)

    show = show_again(_agents_page, request, principal, agent_id)
    return await save(request, principal, operation, show, AGENTS_URL, DONE["agent"])


# --- teams -----------------------------------------------------------------------------


async def _teams_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: forms.Typed | None = None,
    error: HelpdeskError | None = None,
) -> Template:
    editing: TeamOut | None = None
    routing_out = None
    version = ""
    if editing_id is not None:
        editing = await teams.get_team(principal, editing_id)
        if may_edit(principal):  # a team's routing is for administrators only
            routing_out = await routing.get_team_routing(principal, editing_id)
            version = routing.team_settings_version(editing, routing_out)
    if isinstance(error, VersionConflictError):
        typed = None  # show what is stored now, with its version
    staff = await agents.list_agents(principal)
    return await settings_page(
        request,
        principal,
        "console/manage/teams.html",
        error=error,
        active_queue="admin-teams",
        teams=await teams.list_teams(principal),
        agents=staff,
        agent_names={a.id: a.name for a in staff},
        editing=editing,
        f=typed or forms.team_values(editing, routing_out, version),
        strategies=STRATEGIES,
    )


@get("/admin/teams", include_in_schema=False)
async def teams_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every team with its members, and the form for a new one."""
    return await _teams_page(request, principal)


@get("/admin/teams/{team_id:int}", include_in_schema=False)
async def team_page(
    request: AnyRequest, principal: NamedDependency[Principal], team_id: PathId
) -> Template:
    """Every team, with the form to change one and its routing strategy."""
    return await _teams_page(request, principal, team_id)


@post("/admin/teams", include_in_schema=False)
async def create_team(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Add a team with its members and routing strategy."""

    async def operation(form: FormMultiDict) -> None:
        team, strategy = forms.team_form(form, new=True)
        await routing.create_team_with_routing(principal, team, strategy)

    show = show_again(_teams_page, request, principal, None)
    return await save(request, principal, operation, show, TEAMS_URL, DONE["team"])


@post("/admin/teams/{team_id:int}", include_in_schema=False)
async def update_team(
    request: AnyRequest, principal: NamedDependency[Principal], team_id: PathId
) -> Response[Any]:
    """Change a team, its members and its routing strategy."""

    async def operation(form: FormMultiDict) -> None:
        (data, strategy), version = forms.team_form(form, new=False), forms.version(form)
        await routing.update_team_with_routing(principal, team_id, data, strategy, version=version)

    show = show_again(_teams_page, request, principal, team_id)
    return await save(request, principal, operation, show, TEAMS_URL, DONE["team"])


# --- mailboxes -------------------------------------------------------------------------


async def _mailboxes_page(
    request: AnyRequest,
    principal: Principal,
    editing_id: int | None = None,
    *,
    typed: forms.Typed | None = None,
    error: HelpdeskError | None = None,
    **extra: Any,
) -> Template:
    listed = await mailboxes.list_mailboxes(principal)
    editing = await mailboxes.get_mailbox(principal, editing_id) if editing_id else None
    all_teams = await teams.list_teams(principal)
    return await settings_page(
        request,
        principal,
        "console/manage/mailboxes.html",
        error=error,
        active_queue="admin-mailboxes",
        mailboxes=listed,
        teams=all_teams,
        team_names={t.id: t.name for t in all_teams},
        editing=editing,
        f=typed or forms.mailbox_values(editing),
        security=SECURITY,
        **extra,
    )


@get("/admin/mailboxes", include_in_schema=False)
async def mailboxes_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Every mailbox (never its passwords) and the form for a new one."""
    return await _mailboxes_page(request, principal)


@get("/admin/mailboxes/{mailbox_id:int}", include_in_schema=False)
async def mailbox_page(
    request: AnyRequest, principal: NamedDependency[Principal], mailbox_id: PathId
) -> Template:
    """Every mailbox, with the form to change one."""
    return await _mailboxes_page(request, principal, mailbox_id)


@post("/admin/mailboxes", include_in_schema=False)
async def create_mailbox(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Add a mailbox."""

    async def operation(form: FormMultiDict) -> None:
        await mailboxes.create_mailbox(principal, forms.mailbox_in(form))

    show = show_again(_mailboxes_page, request, principal, None)
    return await save(request, principal, operation, show, MAILBOXES_URL, DONE["mailbox"])


@post("/admin/mailboxes/{mailbox_id:int}", include_in_schema=False)
async def update_mailbox(
    request: AnyRequest, principal: NamedDependency[Principal], mailbox_id: PathId
) -> Response[Any]:
    """Change a mailbox; an empty password field keeps the stored password."""

    async def operation(form: FormMultiDict) -> None:
        await mailboxes.update_mailbox(principal, mailbox_id, forms.mailbox_update(form))

    show = show_again(_mailboxes_page, request, principal, mailbox_id)
    return await save(request, principal, operation, show, MAILBOXES_URL, DONE["mailbox"])
