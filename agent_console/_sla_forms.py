"""Posted SLA forms (policies, business calendars) as the SLA services' Structs.

Targets are typed as hours and minutes per priority and metric; a calendar's
weekly hours as ``"8h-12h, 13:30-17:30"`` per day, closed dates as
``16/02/2027`` (or ``2027-02-16``) and make-up days one per line
(``09/01/2027``, optionally followed by periods or by the weekday whose
hours apply); times and dates are read by :mod:`helpdesk.sla.entry`. Every
field is checked before anything is saved, and every bad one is reported
(:class:`agent_console._form_errors.FormInvalid`); what only the whole
calendar can tell (:class:`helpdesk.sla.calendar.BusinessCalendar`) is
checked by the service.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar.datastructures import FormMultiDict

from agent_console._admin_forms import Typed, checked_ids, chosen, text, ticked
from agent_console._form_errors import Errors, convert_all
from helpdesk.domain import Priority
from helpdesk.errors import ValidationError
from helpdesk.sla.calendar import WEEKDAYS
from helpdesk.sla.countries import FIRST, resolve_country
from helpdesk.sla.entry import format_date, parse_date, parse_periods
from helpdesk.sla.hours import compile_periods
from helpdesk.sla.policies import Metric
from helpdesk.sla.schemas import CalendarIn, CalendarOut, PolicyIn, PolicyOut, PolicyUpdate

__all__ = [
    "ESCALATION_STAGES",
    "calendar_in",
    "calendar_values",
    "default_definition",
    "policy_in",
    "policy_update",
    "policy_values",
    "target_field",
]

ESCALATION_STAGES = ("at_risk", "breached")
MAX_HOURS = 87_600  # ten years, the longest target the engine takes
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_DATES = re.compile(r"[\s,;]+")


def target_field(priority: str, metric: str, unit: str) -> str:
    """The name of one target input: ``t_high_first_response_h`` (hours) or ``…_m``."""
    return f"t_{priority}_{metric}_{unit}"


def _whole(value: str, field: str, top: int) -> int:
    if not (value.isascii() and value.isdigit() and int(value) <= top):
        raise ValidationError(
            f"{field}: {value!r} is not a whole number from 0 to {top}", field=field
        )
    return int(value)


def _targets(form: FormMultiDict, errors: Errors) -> dict[str, dict[str, timedelta]]:
    targets: dict[str, dict[str, timedelta]] = {}
    for priority in Priority:
        for metric in Metric:
            h_field, m_field = (target_field(priority, metric, unit) for unit in "hm")
            hours, minutes = text(form, h_field), text(form, m_field)
            if not hours and not minutes:
                continue
            whole_hours = errors.check(h_field, _whole, hours or "0", h_field, MAX_HOURS)
            whole_minutes = errors.check(m_field, _whole, minutes or "0", m_field, 59)
            if whole_hours is not None and whole_minutes is not None:
                total = timedelta(hours=whole_hours, minutes=whole_minutes)
                targets.setdefault(priority.value, {})[metric.value] = total
    return targets


POLICY_FIELDS = {
    "conditions.priorities": "priorities",
    "conditions.channels": "channels",
    "conditions.organization_ids": "organizations",
    "calendar_id": "calendar",
    "escalation.at_risk": "at_risk_team",
    "escalation.breached": "breached_team",
}


def _policy_fields(form: FormMultiDict, errors: Errors) -> dict[str, Any]:
    escalation = {
        stage: {
            "notify": ticked(form, f"{stage}_notify"),
            "raise_priority": ticked(form, f"{stage}_raise"),
            "move_to_team_id": text(form, f"{stage}_team") or None,
        }
        for stage in ESCALATION_STAGES
    }
    data: dict[str, Any] = {
        "name": text(form, "name"),
        "enabled": ticked(form, "enabled"),
        "conditions": {
            "priorities": chosen(form, "priorities"),
            "organization_ids": checked_ids(errors, text(form, "organizations"), "organizations"),
            "channels": chosen(form, "channels"),
        },
        "targets": _targets(form, errors),
        "warn_percent": text(form, "warn_percent") or "80",
        "escalation": escalation,
        "calendar_id": text(form, "calendar") or None,
    }
    if text(form, "position"):
        data["position"] = text(form, "position")
    return data


def policy_in(form: FormMultiDict) -> PolicyIn:
    """A new policy; without a position it goes last."""
    errors = Errors()
    result: PolicyIn = convert_all(_policy_fields(form, errors), PolicyIn, POLICY_FIELDS, errors)
    return result


def policy_update(form: FormMultiDict) -> PolicyUpdate:
    """Every field of a policy's form (nested ones replaced whole)."""
    errors = Errors()
    fields = _policy_fields(form, errors)
    result: PolicyUpdate = convert_all(fields, PolicyUpdate, POLICY_FIELDS, errors)
    return result


def policy_values(policy: PolicyOut | None) -> Typed:
    """A stored policy as the form shows it."""
    if policy is None:
        stages = {f"{stage}_notify": ["on"] for stage in ESCALATION_STAGES}
        return Typed({"enabled": ["on"], "warn_percent": ["80"], **stages})
    values: dict[str, list[Any]] = {
        "name": [policy.name],
        "position": [policy.position],
        "enabled": ["on"] if policy.enabled else [],
        "warn_percent": [policy.warn_percent],
        "priorities": list(policy.conditions.priorities),
        "channels": list(policy.conditions.channels),
        "organizations": [", ".join(str(i) for i in policy.conditions.organization_ids)],
        "calendar": [policy.calendar_id] if policy.calendar_id else [],
    }
    for priority, targets in policy.targets.items():
        for metric in Metric:
            value = targets.of(metric)
            if value is not None:
                seconds = int(value.total_seconds())
                values[target_field(priority, metric, "h")] = [seconds // 3600]
                values[target_field(priority, metric, "m")] = [seconds % 3600 // 60]
    for stage in ESCALATION_STAGES:
        actions = getattr(policy.escalation, stage)
        values[f"{stage}_notify"] = ["on"] if actions.notify else []
        values[f"{stage}_raise"] = ["on"] if actions.raise_priority else []
        values[f"{stage}_team"] = [actions.move_to_team_id] if actions.move_to_team_id else []
    return Typed(values)


# --- calendars -----------------------------------------------------------------------


def _periods(value: str, field: str) -> list[dict[str, str]]:
    """A day's periods (``8h-12h, 13:30-17:30``), checked as the calendar will."""
    periods = parse_periods(value)
    compile_periods(periods, field)
    return [{"start": p.start, "end": p.end} for p in periods]


def _timezone(value: str) -> str:
    name = value or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"unknown time zone {name!r}", field="timezone") from None
    return name


def _makeup_day(line: str) -> dict[str, Any]:
    first, _, rest = line.partition(" ")
    day: dict[str, Any] = {"date": parse_date(first).isoformat()}
    rest = rest.strip().lower()
    if rest in WEEKDAYS:
        day["hours_of"] = rest
    elif rest:
        day["periods"] = _periods(rest, "makeup_days")
    return day


def _makeup_days(value: str, errors: Errors) -> list[dict[str, Any]]:
    days = []
    for line in (v.strip() for v in value.splitlines()):
        if line:
            day = errors.check("makeup_days", _makeup_day, line)
            if day is not None:
                days.append(day)
    return days


def _closed_dates(value: str, errors: Errors) -> list[str]:
    found = (errors.check("closed_dates", parse_date, v) for v in _DATES.split(value) if v)
    return [day.isoformat() for day in found if day is not None]


def calendar_in(form: FormMultiDict) -> CalendarIn:
    """A calendar from its form: the settings the form shows, every field
    checked (all bad ones reported at once). Saving a change keeps those it
    does not show (subdivision, observed holidays, …): the service merges
    them (:func:`helpdesk.sla.calendars.merge_calendar`)."""
    errors = Errors()
    hours = {}
    for day in WEEKDAYS:
        field = f"hours_{day}"
        hours[day] = errors.check(field, _periods, text(form, field), field) or []
    definition: dict[str, Any] = {
        "hours": hours,
        "timezone": errors.check("timezone", _timezone, text(form, "timezone")),
        "country": errors.check("country", resolve_country, text(form, "country")),
        "official_makeup_days": ticked(form, "official_makeup_days"),
        "closed_dates": _closed_dates(text(form, "closed_dates"), errors),
        "makeup_days": _makeup_days(text(form, "makeup_days"), errors),
    }
    data = {"name": text(form, "name"), "definition": definition}
    result: CalendarIn = convert_all(data, CalendarIn, {}, errors)
    return result


def _periods_text(periods: Any) -> str:
    return ", ".join(f"{p['start']}-{p['end']}" for p in periods or [])


def _day_text(value: str) -> str:
    """A stored ISO date as the form shows it (dd/mm/yyyy)."""
    try:
        return format_date(date.fromisoformat(value))
    except ValueError:
        return value


def calendar_values(calendar: CalendarOut | None) -> Typed:
    """A stored calendar as the form shows it (a new one: office hours in Vietnam)."""
    if calendar is None:
        office = "08:00-12:00, 13:00-17:00"
        days = {f"hours_{day}": [office] for day in WEEKDAYS[:5]}
        return Typed(
            {"timezone": [DEFAULT_TIMEZONE], "country": [FIRST], "official_makeup_days": ["on"]}
            | days
        )
    d = calendar.definition
    values: dict[str, list[Any]] = {
        "name": [calendar.name],
        "timezone": [d.get("timezone", DEFAULT_TIMEZONE)],
        "country": [d.get("country") or ""],
        "official_makeup_days": ["on"] if d.get("official_makeup_days", True) else [],
        "closed_dates": ["\n".join(_day_text(v) for v in d.get("closed_dates", []))],
    }
    for day in WEEKDAYS:
        values[f"hours_{day}"] = [_periods_text(d.get("hours", {}).get(day))]
    lines = []
    for makeup in d.get("makeup_days", []):
        extra = makeup.get("hours_of") or _periods_text(makeup.get("periods"))
        lines.append(f"{_day_text(makeup['date'])} {extra}".strip())
    values["makeup_days"] = ["\n".join(lines)]
    return Typed(values)


def default_definition() -> dict[str, Any]:
    """The definition a new calendar's form starts from (office hours in Vietnam)."""
    office = [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
    return {
        "hours": {day: office if index < 5 else [] for index, day in enumerate(WEEKDAYS)},
        "timezone": DEFAULT_TIMEZONE,
        "country": FIRST,
        "official_makeup_days": True,
    }
