"""Piccolo tables of routing: the ordered rules, each team's strategy, and how each case was routed.

Rules keep their conditions and actions as JSON, validated on the way in
and on the way out by the Structs of :mod:`helpdesk.routing.rules`.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Agent, Case, Team, register_tables


class RoutingRule(Table, tablename="routing_rules"):
    """One routing rule; rules are tried by ``(position, id)`` and the first match wins."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    position = Integer(default=0)
    enabled = Boolean(default=True)
    conditions = JSON(default={})
    actions = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TeamRouting(Table, tablename="team_routing"):
    """How a team assigns its cases (one row per team; no row means manual).

    The row is also the team's routing lock on PostgreSQL (``SELECT … FOR
    UPDATE``) and keeps the round-robin state, ``last_agent``.
    """

    id = Serial(primary_key=True)
    team = ForeignKey(Team, null=False, unique=True)
    strategy = Varchar(length=16, default="manual")
    required_skill = Varchar(length=64, default="")
    prefer_case_language = Boolean(default=True)
    requeue_on_unavailable = Boolean(default=False)
    last_agent = ForeignKey(Agent, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseRouting(Table, tablename="case_routing"):
    """How one case was routed: the rule that fired (if any) and the skill it needs.

    ``rule_id`` is a plain integer, not a foreign key: deleting a rule keeps
    the record of what it did.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False, unique=True)
    rule_id = Integer(null=True, default=None)
    rule_name = Varchar(length=200, default="")
    required_skill = Varchar(length=64, default="")
    routed_at = Timestamptz(default=TimestamptzNow())


ROUTING_TABLES: tuple[type[Table], ...] = (RoutingRule, TeamRouting, CaseRouting)
register_tables(*ROUTING_TABLES)
