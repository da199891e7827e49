"""Posted SLA forms (policies, business calendars) as the SLA services' Structs.

Targets are typed as hours and minutes per priority and metric; a calendar's
weekly hours as ``"08:00-12:00, 13:30-17:30"`` per day, closed dates as
``YYYY-MM-DD`` and make-up days one per line (``2027-01-09``, optionally
followed by periods or by the weekday whose hours apply). The calendar is
validated by the service (:class:`helpdesk.sla.calendar.BusinessCalendar`),
whose message names the field.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from litestar.datastructures import FormMultiDict

from agent_console._admin_forms import Typed, chosen, convert, ids, text, ticked
from helpdesk.domain import Priority
from helpdesk.errors import ValidationError
from helpdesk.sla.calendar import WEEKDAYS, Period
from helpdesk.sla.policies import Metric
from helpdesk.sla.schemas import CalendarIn, CalendarOut, PolicyIn, PolicyOut, PolicyUpdate

__all__ = [
    "ESCALATION_STAGES",
    "calendar_in",
    "calendar_values",
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


def _targets(form: FormMultiDict) -> dict[str, dict[str, timedelta]]:
    targets: dict[str, dict[str, timedelta]] = {}
    for priority in Priority:
        for metric in Metric:
            hours = text(form, target_field(priority, metric, "h"))
            minutes = text(form, target_field(priority, metric, "m"))
            if not hours and not minutes:
                continue
            field = f"targets.{priority}.{metric}"
            total = timedelta(
                hours=_whole(hours or "0", field, MAX_HOURS),
                minutes=_whole(minutes or "0", field, 59),
            )
            targets.setdefault(priority.value, {})[metric.value] = total
    return targets


def _policy_fields(form: FormMultiDict) -> dict[str, Any]:
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
            "organization_ids": ids(text(form, "organizations"), "organizations"),
            "channels": chosen(form, "channels"),
        },
        "targets": _targets(form),
        "warn_percent": text(form, "warn_percent") or "80",
        "escalation": escalation,
        "calendar_id": text(form, "calendar") or None,
    }
    if text(form, "position"):
        data["position"] = text(form, "position")
    return data


def policy_in(form: FormMultiDict) -> PolicyIn:
    """A new policy; without a position it goes last."""
    result: PolicyIn = convert(_policy_fields(form), PolicyIn)
    return result


def policy_update(form: FormMultiDict) -> PolicyUpdate:
    """Every field of a policy's form (nested ones replaced whole)."""
    result: PolicyUpdate = convert(_policy_fields(form), PolicyUpdate)
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
    periods = []
    for part in value.split(","):
        if not part.strip():
            continue
        try:
            period = Period.of(part.strip())
        except ValidationError as exc:
            raise ValidationError(f"{field}: {exc.detail}", field=field) from None
        periods.append({"start": period.start, "end": period.end})
    return periods


def _day(value: str, field: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError(
            f"{field}: {value!r} is not a date (YYYY-MM-DD)", field=field
        ) from None


def _makeup_days(value: str) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = []
    for index, line in enumerate(v.strip() for v in value.splitlines()):
        if not line:
            continue
        field = f"makeup_days[{index}]"
        first, _, rest = line.partition(" ")
        day: dict[str, Any] = {"date": _day(first, field)}
        rest = rest.strip().lower()
        if rest in WEEKDAYS:
            day["hours_of"] = rest
        elif rest:
            day["periods"] = _periods(rest, field)
        days.append(day)
    return days


def calendar_in(form: FormMultiDict) -> CalendarIn:
    """A calendar from its form: the settings the form shows. Saving a change
    keeps those it does not show (subdivision, observed holidays, …): the
    service merges them (:func:`helpdesk.sla.calendars.merge_calendar`)."""
    definition: dict[str, Any] = {
        "hours": {day: _periods(text(form, f"hours_{day}"), f"hours.{day}") for day in WEEKDAYS},
        "timezone": text(form, "timezone") or DEFAULT_TIMEZONE,
        "country": text(form, "country").upper() or None,
        "official_makeup_days": ticked(form, "official_makeup_days"),
        "closed_dates": [
            _day(v, "closed_dates") for v in _DATES.split(text(form, "closed_dates")) if v
        ],
        "makeup_days": _makeup_days(text(form, "makeup_days")),
    }
    result: CalendarIn = convert({"name": text(form, "name"), "definition": definition}, CalendarIn)
    return result


def _periods_text(periods: Any) -> str:
    return ", ".join(f"{p['start']}-{p['end']}" for p in periods or [])


def calendar_values(calendar: CalendarOut | None) -> Typed:
    """A stored calendar as the form shows it (a new one: office hours in Vietnam)."""
    if calendar is None:
        office = "08:00-12:00, 13:00-17:00"
        days = {f"hours_{day}": [office] for day in WEEKDAYS[:5]}
        return Typed(
            {"timezone": [DEFAULT_TIMEZONE], "country": ["VN"], "official_makeup_days": ["on"]}
            | days
        )
    d = calendar.definition
    values: dict[str, list[Any]] = {
        "name": [calendar.name],
        "timezone": [d.get("timezone", DEFAULT_TIMEZONE)],
        "country": [d.get("country") or ""],
        "official_makeup_days": ["on"] if d.get("official_makeup_days", True) else [],
        "closed_dates": ["\n".join(d.get("closed_dates", []))],
    }
    for day in WEEKDAYS:
        values[f"hours_{day}"] = [_periods_text(d.get("hours", {}).get(day))]
    lines = []
    for makeup in d.get("makeup_days", []):
        extra = makeup.get("hours_of") or _periods_text(makeup.get("periods"))
        lines.append(f"{makeup['date']} {extra}".strip())
    values["makeup_days"] = ["\n".join(lines)]
    return Typed(values)
