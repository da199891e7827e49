"""Routing: rules, each team's assignment strategy, and the routing record of each case."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from helpdesk.routing.tables import ROUTING_TABLES, RoutingRule
from helpdesk.tables import Case


async def apply(engine: Engine[Any]) -> None:
    """Create the routing tables and the indexes the assignment queries use.

    ``team_routing.team`` and ``case_routing.case`` are unique through their
    column definitions. ``cases (assignee, status)`` serves the count of each
    agent's open cases; ``cases (team, assignee)`` finds a team's waiting queue.
    """
    for table in ROUTING_TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, RoutingRule, ["position", "id"])
    await create_index(engine, Case, ["assignee", "status"])
    await create_index(engine, Case, ["team", "assignee"])
