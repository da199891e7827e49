"""Routing: rules, each team's assignment strategy, and the routing record of each case.

Frozen: the tables of ``helpdesk/routing/tables.py`` as of commit 060d69e.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Agent = reference("agents")
_Case = reference("cases")
_Team = reference("teams")


class RoutingRule(Table, tablename="routing_rules"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    position = Integer(default=0)
    enabled = Boolean(default=True)
    conditions = JSON(default={})
    actions = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TeamRouting(Table, tablename="team_routing"):
    id = Serial(primary_key=True)
    team = ForeignKey(_Team, null=False, unique=True)
    strategy = Varchar(length=16, default="manual")
    required_skill = Varchar(length=64, default="")
    prefer_case_language = Boolean(default=True)
    requeue_on_unavailable = Boolean(default=False)
    last_agent = ForeignKey(_Agent, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseRouting(Table, tablename="case_routing"):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=False, unique=True)
    rule_id = Integer(null=True, default=None)
    rule_name = Varchar(length=200, default="")
    required_skill = Varchar(length=64, default="")
    routed_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (RoutingRule, TeamRouting, CaseRouting)


async def apply(engine: Engine[Any]) -> None:
    """Create the routing tables and the indexes the assignment queries use.

    ``team_routing.team`` and ``case_routing.case`` are unique through their
    column definitions. ``cases (assignee, status)`` serves the count of each
    agent's open cases; ``cases (team, assignee)`` finds a team's waiting queue.
    """
    bind(engine, *TABLES, _Case)
    for table in TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, RoutingRule, ["position", "id"])
    await create_index(engine, _Case, ["assignee", "status"])
    await create_index(engine, _Case, ["team", "assignee"])
