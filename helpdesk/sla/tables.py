"""Piccolo tables of the SLA engine: calendars, policies, and each case's durable timers.

A :class:`CaseSlaTimer` row is one target of one case being measured. Its
``timer`` column holds the pure :class:`helpdesk.sla.clock.SlaTimer` (start,
pauses); the other columns are derived from it when it changes, so that the
engine and the reports can query them: ``due_at`` and ``warn_at`` (null while
paused), and ``fire_at``, the next instant something must happen (the
warning, then the breach; null when nothing will). ``fire_at`` is indexed:
the sweep reads only the timers due soon, never every open case.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Case, register_tables


class SlaCalendar(Table, tablename="sla_calendars"):
    """A named business calendar; ``definition`` is a :class:`BusinessCalendar` as JSON."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    definition = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SlaPolicy(Table, tablename="sla_policies"):
    """An SLA policy; policies are tried by ``(position, id)`` and the first match wins.

    ``calendar`` null means the built-in calendar (Vietnamese office hours
    and public holidays). ``version`` grows with every change, so the engine
    can tell which timers still follow an older version.
    """

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
    """One SLA target of one case (unique per case and metric, see the migration).

    ``active``: measuring (running or paused); false once met, responded to,
    solved or cancelled. ``completed_at`` and ``business_seconds``: when and
    after how much business time it stopped. ``breaches`` counts every
    breach of the row (the next-response target restarts for each customer
    message: ``cycle`` counts those runs). ``armed_for``: the ``fire_at``
    value a delayed message was sent for.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
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


SLA_TABLES: tuple[type[Table], ...] = (SlaCalendar, SlaPolicy, CaseSlaTimer)
register_tables(*SLA_TABLES)
