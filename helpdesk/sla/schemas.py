"""msgspec Structs in and out of the SLA services (and the API).

Durations are ISO 8601 (``"PT4H"``, ``"PT30M"``) and instants ISO 8601 with
an offset. Update Structs follow :mod:`helpdesk.schemas`: a field left out is
not changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.domain import Priority
from helpdesk.sla.policies import (
    DEFAULT_WARN_PERCENT,
    Escalation,
    PolicyConditions,
    Targets,
    WarnPercent,
)

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Position = Annotated[int, Meta(ge=0, le=1_000_000)]


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A named business calendar; ``definition`` is validated as a
    :class:`helpdesk.sla.calendar.BusinessCalendar` (hours, timezone, country,
    closed dates, make-up days)."""

    name: Name
    definition: dict[str, Any]


class CalendarOut(msgspec.Struct, kw_only=True):
    """A stored business calendar, with its definition as stored."""

    id: int
    name: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new SLA policy; without a ``position`` it goes after every other policy.

    ``targets`` maps a priority to its targets; a priority left out is not
    measured by this policy. ``calendar_id`` null: Vietnamese office hours.
    """

    name: Name
    position: Position | None = None
    enabled: bool = True
    conditions: PolicyConditions = msgspec.field(default_factory=PolicyConditions)
    targets: dict[Priority, Targets]
    warn_percent: WarnPercent = DEFAULT_WARN_PERCENT
    escalation: Escalation = msgspec.field(default_factory=Escalation)
    calendar_id: int | None = None


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a policy; nested fields are replaced whole. Open cases
    follow the change (retargeted in the background)."""

    name: Name | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    conditions: PolicyConditions | UnsetType = UNSET
    targets: dict[Priority, Targets] | UnsetType = UNSET
    warn_percent: WarnPercent | UnsetType = UNSET
    escalation: Escalation | UnsetType = UNSET
    calendar_id: int | UnsetType | None = UNSET


class PolicyOut(msgspec.Struct, kw_only=True):
    """A stored SLA policy."""

    id: int
    name: str
    position: int
    enabled: bool
    conditions: PolicyConditions
    targets: dict[Priority, Targets]
    warn_percent: int
    escalation: Escalation
    calendar_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class TargetState(msgspec.Struct, kw_only=True):
    """Where one SLA target of a case stands.

    ``state``: ``running``, ``paused``, ``at_risk`` (past the warning share),
    ``breached`` (past due, still open), ``met`` (done in time), ``missed``
    (done late) or ``cancelled`` (no longer applies). ``remaining`` is
    business time left (negative: overrun; also in whole seconds), ``elapsed``
    business time used.
    """

    metric: str
    state: str
    policy_id: int | None
    target: timedelta
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    remaining: timedelta
    remaining_seconds: int
    elapsed: timedelta
    paused: bool
    at_risk: bool
    breached: bool
    breaches: int
    completed_at: datetime | None
    cycle: int


class CaseSlaOut(msgspec.Struct, kw_only=True):
    """The SLA state of one case: one entry per measured target. Times are
    shown in ``timezone`` (the calendar's)."""

    case_id: int
    timezone: str
    targets: list[TargetState]


class AtRiskItem(msgspec.Struct, kw_only=True):
    """A case with a target at risk or breached, for a team's at-risk list."""

    case_id: int
    reference: str
    subject: str
    priority: str
    status: str
    team_id: int | None
    assignee_id: int | None
    metric: str
    due_at: datetime | None
    breached: bool
