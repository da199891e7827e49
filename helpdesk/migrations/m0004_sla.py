"""SLA: calendars, policies and the durable timers of each case.

Frozen: the tables of ``helpdesk/sla/tables.py`` as of commit 6514a42.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Case = reference("cases")


class SlaCalendar(Table, tablename="sla_calendars"):
    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    definition = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SlaPolicy(Table, tablename="sla_policies"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    position = Integer(default=0)
    enabled = Boolean(default=True)
    conditions = JSON(default={})
    targets = JSON(default={})
    warn_percent = Integer(default=80)
    escalation = JSON(default={})
    calendar = ForeignKey(SlaCalendar, null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseSlaTimer(Table, tablename="case_sla_timers"):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=False)
    metric = Varchar(length=16)
    policy_id = Integer(null=True, default=None)
    policy_version = Integer(default=0)
    calendar_id = Integer(null=True, default=None)
    warn_percent = Integer(default=80)
    timer = JSON(default={})
    active = Boolean(default=True)
    paused = Boolean(default=False)
    started_at = Timestamptz(default=TimestamptzNow())
    due_at = Timestamptz(null=True, default=None)
    warn_at = Timestamptz(null=True, default=None)
    warned_at = Timestamptz(null=True, default=None)
    breached_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    business_seconds = Integer(null=True, default=None)
    breaches = Integer(default=0)
    cycle = Integer(default=1)
    fire_at = Timestamptz(null=True, default=None)
    armed_for = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (SlaCalendar, SlaPolicy, CaseSlaTimer)


async def apply(engine: Engine[Any]) -> None:
    """Create the SLA tables and their indexes.

    ``(case, metric)`` is unique: one row per target of a case. ``fire_at``
    serves the sweep (only timers due soon are read); ``(active, due_at)`` the
    at-risk lists; ``(started_at)`` the reports over a period.
    """
    bind(engine, *TABLES)
    for table in TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, CaseSlaTimer, ["case", "metric"], unique=True)
    await create_index(engine, CaseSlaTimer, ["fire_at"])
    await create_index(engine, CaseSlaTimer, ["active", "due_at"])
    await create_index(engine, CaseSlaTimer, ["started_at"])
    await create_index(engine, SlaPolicy, ["position", "id"])
