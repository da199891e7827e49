"""Reading SLA configuration for the engine, the typed timer row, and deriving
a timer row's columns.

Policies are read on each use (a small table, one indexed query); calendars
are compiled once per process and per stored version (``updated_at``),
because compiling holidays is the costly part.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from helpdesk.domain import Priority
from helpdesk.rows import as_utc, json_dict, stamp
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.clock import SlaTimer, due_at, retarget
from helpdesk.sla.hours import Period, WeeklyHours
from helpdesk.sla.policies import (
    DEFAULT_WARN_PERCENT,
    Escalation,
    PolicyConditions,
    PolicyRule,
    Targets,
)
from helpdesk.sla.tables import SlaCalendar, SlaPolicy

__all__ = [
    "DEFAULT_CALENDAR",
    "Schedule",
    "TimerRow",
    "calendar_for",
    "decode_timer",
    "enabled_policies",
    "encode_timer",
    "policy_from_row",
    "schedule",
]

_OFFICE_DAY = (Period("08:00", "12:00"), Period("13:00", "17:00"))

DEFAULT_CALENDAR = BusinessCalendar(
    hours=WeeklyHours(_OFFICE_DAY, _OFFICE_DAY, _OFFICE_DAY, _OFFICE_DAY, _OFFICE_DAY, (), ()),
    timezone="Asia/Ho_Chi_Minh",
    country="VN",
)
"""The calendar of a policy without one: Monday to Friday 08:00–12:00 and
13:00–17:00 in Vietnam, Vietnamese public holidays (Tết, Hùng Kings' day, …)
and the official make-up working days."""

_calendars: dict[int, tuple[str, BusinessCalendar]] = {}


def policy_from_row(row: dict[str, Any]) -> PolicyRule:
    """The engine's form of a ``sla_policies`` row."""
    return PolicyRule(
        id=row["id"],
        name=row["name"],
        position=row["position"],
        conditions=msgspec.convert(json_dict(row["conditions"]), PolicyConditions),
        targets=msgspec.convert(json_dict(row["targets"]), dict[Priority, Targets]),
        warn_percent=row["warn_percent"] or DEFAULT_WARN_PERCENT,
        escalation=msgspec.convert(json_dict(row["escalation"]), Escalation),
        calendar_id=row["calendar"],
        version=row["version"],
    )


async def enabled_policies() -> list[PolicyRule]:
    """The enabled policies in the order they are tried."""
    rows = (
        await SlaPolicy.select()
        .where(SlaPolicy.enabled == True)  # noqa: E712 - Piccolo needs ==
        .order_by(SlaPolicy.position, SlaPolicy.id)
    )
    return [policy_from_row(row) for row in rows]


async def calendar_for(calendar_id: int | None) -> BusinessCalendar:
    """The compiled calendar ``calendar_id`` (the built-in one for None or a deleted one)."""
    if calendar_id is None:
        return DEFAULT_CALENDAR
    row = (
        await SlaCalendar.select(SlaCalendar.definition, SlaCalendar.updated_at)
        .where(SlaCalendar.id == calendar_id)
        .first()
    )
    if row is None:
        return DEFAULT_CALENDAR
    stamp = str(row["updated_at"])
    cached = _calendars.get(calendar_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    calendar = BusinessCalendar.from_dict(json_dict(row["definition"]))
    _calendars[calendar_id] = (stamp, calendar)
    return calendar


_timer_encoder = msgspec.json.Encoder()
_timer_decoder = msgspec.json.Decoder(SlaTimer)


def encode_timer(timer: SlaTimer) -> dict[str, Any]:
    """The JSON-ready form of a timer, for the ``timer`` column."""
    data: dict[str, Any] = msgspec.json.decode(_timer_encoder.encode(timer))
    return data


def decode_timer(value: Any) -> SlaTimer:
    """The timer stored in a ``timer`` column (JSON text, or a dict when the
    driver decoded it)."""
    if isinstance(value, str):
        return _timer_decoder.decode(value)
    return _timer_decoder.decode(_timer_encoder.encode(json_dict(value)))


class TimerRow(msgspec.Struct, frozen=True, kw_only=True):
    """A whole ``case_sla_timers`` row, its ``timer`` column decoded."""

    id: int
    case_id: int
    metric: str
    policy_id: int | None
    policy_version: int
    calendar_id: int | None
    warn_percent: int
    timer: SlaTimer
    active: bool
    paused: bool
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    completed_at: datetime | None
    business_seconds: int | None
    breaches: int
    cycle: int
    fire_at: datetime | None
    armed_for: datetime | None
    version: int
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimerRow:
        """The timer of a row from ``CaseSlaTimer.select()``."""
        return cls(
            id=row["id"],
            case_id=row["case"],
            metric=row["metric"],
            policy_id=row["policy_id"],
            policy_version=row["policy_version"],
            calendar_id=row["calendar_id"],
            warn_percent=row["warn_percent"],
            timer=decode_timer(row["timer"]),
            active=bool(row["active"]),
            paused=bool(row["paused"]),
            started_at=stamp(utc(row["started_at"])),
            due_at=utc(row["due_at"]),
            warn_at=utc(row["warn_at"]),
            warned_at=utc(row["warned_at"]),
            breached_at=utc(row["breached_at"]),
            completed_at=utc(row["completed_at"]),
            business_seconds=row["business_seconds"],
            breaches=row["breaches"],
            cycle=row["cycle"],
            fire_at=utc(row["fire_at"]),
            armed_for=utc(row["armed_for"]),
            version=row["version"],
            updated_at=stamp(utc(row["updated_at"])),
        )


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """The derived columns of an active timer row."""

    due_at: datetime | None
    warn_at: datetime | None
    fire_at: datetime | None


def schedule(
    timer: SlaTimer,
    calendar: BusinessCalendar,
    warn_percent: int,
    *,
    warned: bool,
    breached: bool,
) -> Schedule:
    """When an active timer is due, when it warns, and when the engine must act next.

    A paused timer has no due or warning time (unless its target was reached
    before the pause: then the past instant), and nothing to fire.
    """
    due = due_at(timer, calendar)
    warn_target = timer.target * warn_percent // 100
    warn = due_at(retarget(timer, warn_target), calendar) if warn_target > timedelta(0) else None
    fire: datetime | None = None
    if not timer.is_paused:
        if not warned and warn is not None:
            fire = warn
        elif not breached:
            fire = due
    return Schedule(due_at=due, warn_at=warn, fire_at=fire)


def utc(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (raw SQLite queries return text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)
