"""SLA figures over time and by duration, for the managers' dashboard charts.

The cohort is the one of :func:`helpdesk.sla.reports.sla_report`: the cases
*opened* in ``[start, end)`` (merged ones left out), optionally of one team,
and a target counts as *met* (done without a breach) or *missed* (breached
at least once) exactly as there. So the days of :func:`compliance_by_day`
add up to the report's totals for the same period (and to the team's row
when a team is given), and :func:`duration_histogram` counts the same done
targets whose median and 90th percentile the report gives.

Both are plain SQL (``Table.raw``) that runs on SQLite and PostgreSQL.
Grouping by local day happens here, in the time zone given, because the two
engines share no function for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from helpdesk.errors import ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.sla._store import utc
from helpdesk.sla.policies import Metric
from helpdesk.sla.reports import _period
from helpdesk.tables import Case

__all__ = [
    "DEFAULT_EDGES_HOURS",
    "DayCompliance",
    "DurationBucket",
    "DurationHistogram",
    "Outcome",
    "compliance_by_day",
    "duration_histogram",
]

DAILY_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
DEFAULT_EDGES_HOURS: dict[Metric, tuple[float, ...]] = {
    Metric.FIRST_RESPONSE: (0.5, 1, 2, 4, 8, 24),
    Metric.NEXT_RESPONSE: (0.5, 1, 2, 4, 8, 24),
    Metric.RESOLUTION: (2, 4, 8, 16, 24, 40, 80),
}
_MAX_EDGES = 20


class Outcome(msgspec.Struct, kw_only=True):
    """Targets of one metric decided in a group: met, missed, and met's share
    (None when nothing was decided)."""

    met: int = 0
    missed: int = 0
    compliance: float | None = None


class DayCompliance(msgspec.Struct, kw_only=True):
    """The first-response and resolution targets of the cases opened on one local day."""

    day: date
    cases: int = 0
    first_response: Outcome = msgspec.field(default_factory=Outcome)
    resolution: Outcome = msgspec.field(default_factory=Outcome)


class DurationBucket(msgspec.Struct, kw_only=True):
    """Done targets that took ``low_hours`` ≤ business time < ``high_hours``
    (``high_hours`` None: no upper bound)."""

    low_hours: float
    high_hours: float | None
    count: int


class DurationHistogram(msgspec.Struct, kw_only=True):
    """How long the done targets of one metric took, in business hours."""

    metric: Metric
    total: int
    buckets: list[DurationBucket]


def _team_clause(team_id: int | None) -> tuple[str, list[Any]]:
    return (" AND c.team = {}", [team_id]) if team_id is not None else ("", [])


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"unknown time zone {timezone!r}", field="timezone") from None


async def compliance_by_day(
    principal: Principal,
    start: datetime,
    end: datetime,
    team_id: int | None = None,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> list[DayCompliance]:
    """Per local day of ``timezone``, the first-response and resolution
    targets met and missed of the cases opened that day (managers and admins).

    Every day from the one of ``start`` to the one before ``end`` is listed,
    empty ones included. Targets still running are not counted (they are
    neither met nor missed yet); a day's figures change while they finish.
    """
    require(principal, Action.VIEW_REPORTS)
    start, end = _period(start, end)
    zone = _zone(timezone)
    team_sql, team_args = _team_clause(team_id)
    rows = await Case.raw(
        "SELECT c.id AS case_id, c.created_at AS created_at, t.metric AS metric, "  # noqa: S608 - placeholders only
        "t.breaches AS breaches, t.completed_at AS completed_at FROM cases c "
        'LEFT JOIN case_sla_timers t ON t."case" = c.id AND t.metric IN ({}, {}) '
        "WHERE c.created_at >= {} AND c.created_at < {} AND c.merged_into IS NULL" + team_sql,
        *(m.value for m in DAILY_METRICS),
        start,
        end,
        *team_args,
    )
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days = {
        first + timedelta(days=n): DayCompliance(day=first + timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    seen: dict[date, set[int]] = {}
    for row in rows:
        created = utc(row["created_at"])
        if created is None:
            continue
        day = days.get(created.astimezone(zone).date())
        if day is None:  # cannot happen: the query keeps the period
            continue
        seen.setdefault(day.day, set()).add(int(row["case_id"]))
        if row["metric"] is None:
            continue
        outcome: Outcome = getattr(day, str(row["metric"]))
        if int(row["breaches"] or 0):
            outcome.missed += 1
        elif row["completed_at"] is not None:
            outcome.met += 1
    for day in days.values():
        day.cases = len(seen.get(day.day, ()))
        for metric in DAILY_METRICS:
            outcome = getattr(day, metric.value)
            decided = outcome.met + outcome.missed
            outcome.compliance = round(outcome.met / decided, 4) if decided else None
    return list(days.values())


def _edges(metric: Metric, edges_hours: Sequence[float] | None) -> list[float]:
    edges = list(DEFAULT_EDGES_HOURS[metric] if edges_hours is None else edges_hours)
    if not edges or len(edges) > _MAX_EDGES:
        raise ValidationError(f"give between 1 and {_MAX_EDGES} bucket edges", field="edges")
    if any(e <= 0 for e in edges) or edges != sorted(set(edges)):
        raise ValidationError("bucket edges must be positive and increasing", field="edges")
    return edges


async def duration_histogram(
    principal: Principal,
    start: datetime,
    end: datetime,
    metric: Metric | str,
    team_id: int | None = None,
    *,
    edges_hours: Sequence[float] | None = None,
) -> DurationHistogram:
    """How many done targets of ``metric`` (cases opened in ``[start, end)``)
    took how long in business hours (managers and admins).

    Buckets are ``[0, e1)``, ``[e1, e2)``, … ``[en, ∞)`` for the edges
    ``edges_hours`` (by default :data:`DEFAULT_EDGES_HOURS` of the metric).
    Only targets that are done count, late or not; running ones do not.
    """
    require(principal, Action.VIEW_REPORTS)
    try:
        metric = Metric(metric)
    except ValueError:
        raise ValidationError(f"unknown metric {metric!r}", field="metric") from None
    start, end = _period(start, end)
    edges = _edges(metric, edges_hours)
    team_sql, team_args = _team_clause(team_id)
    below = ", ".join(
        f"SUM(CASE WHEN t.business_seconds < {{}} THEN 1 ELSE 0 END) AS below_{index}"
        for index in range(len(edges))
    )
    rows = await Case.raw(
        f"SELECT COUNT(*) AS total, {below} FROM case_sla_timers t "  # noqa: S608 - placeholders only
        'JOIN cases c ON c.id = t."case" '
        "WHERE t.metric = {} AND t.completed_at IS NOT NULL AND t.business_seconds IS NOT NULL "
        "AND c.created_at >= {} AND c.created_at < {} AND c.merged_into IS NULL" + team_sql,
        *(round(edge * 3600) for edge in edges),
        metric.value,
        start,
        end,
        *team_args,
    )
    row = rows[0] if rows else {}
    total = int(row.get("total") or 0)
    cumulative = [int(row.get(f"below_{index}") or 0) for index in range(len(edges))]
    buckets: list[DurationBucket] = []
    previous, low = 0, 0.0
    for edge, count in zip(edges, cumulative, strict=True):
        buckets.append(DurationBucket(low_hours=low, high_hours=edge, count=count - previous))
        previous, low = count, edge
    buckets.append(DurationBucket(low_hours=low, high_hours=None, count=total - previous))
    return DurationHistogram(metric=metric, total=total, buckets=buckets)
