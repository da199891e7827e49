"""Fresh objects for the console permission matrix's settings pages (one per cell),
made through the domain services as the system."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.rules import RuleActions
from helpdesk.routing.schemas import RuleIn
from helpdesk.schemas import AgentIn, TeamIn
from helpdesk.services import agents, teams
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.schemas import CalendarIn, PolicyIn
from tests.integration.api.conftest import Api

_seq = itertools.count(1)


def unique(prefix: str) -> Callable[[Api, dict[str, Any]], str]:
    """A form value never used before: ``prefix`` and a number."""
    return lambda api, params: f"{prefix}{next(_seq)}"


def new_agent(api: Api) -> dict[str, Any]:
    """A new agent, with the version their edit form is shown with."""
    n = next(_seq)
    data = AgentIn(name=f"Nhân viên {n}", email=f"nv{n}@support.test")
    agent = api.run(agents.create_agent, SYSTEM, data)
    return {"agent": agent.id, "version": agents.agent_version(agent)}


def new_team(api: Api) -> dict[str, Any]:
    """A new team, with the version its edit form is shown with."""
    team = api.run(teams.create_team, SYSTEM, TeamIn(name=f"Nhóm {next(_seq)}"))
    settings = api.run(routing.get_team_routing, SYSTEM, team.id)
    return {"team": team.id, "version": routing.team_settings_version(team, settings)}


def shown_version(api: Api, params: dict[str, Any]) -> str:
    """The version of the object :func:`new_agent` or :func:`new_team` made."""
    return str(params["version"])


def new_mailbox(api: Api) -> dict[str, Any]:
    n = next(_seq)
    data = MailboxIn(
        name=f"Hộp thư {n}",
        address=f"hop{n}@congty.vn",
        imap_host="imap.congty.vn",
        imap_user="hotro",
        imap_password="bi-mat",
    )
    return {"mailbox": api.run(mailboxes.create_mailbox, SYSTEM, data).id}


def new_rule(api: Api) -> dict[str, Any]:
    data = RuleIn(name=f"Quy tắc {next(_seq)}", actions=RuleActions(team_id=api.team_a))
    return {"rule": api.run(routing.create_rule, SYSTEM, data).id}


def new_policy(api: Api) -> dict[str, Any]:
    return {
        "policy": api.run(
            sla.create_policy, SYSTEM, PolicyIn(name=f"Chính sách {next(_seq)}", targets={})
        ).id
    }


def new_calendar(api: Api) -> dict[str, Any]:
    data = CalendarIn(
        name=f"Lịch {next(_seq)}", definition=BusinessCalendar.always_open().to_dict()
    )
    return {"calendar": api.run(sla.create_calendar, SYSTEM, data).id}
