"""What depends on a member of staff, told before they are deactivated.

A deactivated agent keeps their open cases (someone must reassign them) and
is skipped by routing rules that name them; the console says so first.
"""

from __future__ import annotations

import msgspec

from helpdesk.policy import Action, Principal, require
from helpdesk.routing._pool import OPEN_STATUSES
from helpdesk.routing.tables import RoutingRule
from helpdesk.services.rows import json_dict
from helpdesk.tables import Case

__all__ = ["AgentDependents", "agent_dependents"]


class AgentDependents(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's open assigned cases and the routing rules that assign to them."""

    open_cases: int
    rules: list[str]


async def agent_dependents(principal: Principal, agent_id: int) -> AgentDependents:
    """What deactivating ``agent_id`` would leave behind (administrators).
    A snapshot: cases may be assigned meanwhile."""
    require(principal, Action.ADMINISTER)
    open_cases = await Case.count().where(
        Case.assignee == agent_id, Case.status.is_in(list(OPEN_STATUSES))
    )
    rows = await RoutingRule.select(RoutingRule.name, RoutingRule.actions).order_by(
        RoutingRule.position
    )
    rules = [
        str(row["name"]) for row in rows if json_dict(row["actions"]).get("assignee_id") == agent_id
    ]
    return AgentDependents(open_cases=int(open_cases), rules=rules)
