"""The SLA dashboard's query (period, grouping, team) and its read model.

:func:`dashboard_view` only composes domain services: the SLA report
(:func:`helpdesk.sla.reports.sla_report`, which checks
:attr:`~helpdesk.policy.Action.VIEW_REPORTS`), the daily series and the
histograms (:mod:`helpdesk.sla.report_series`) and the at-risk list. It knows
nothing of HTTP or templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from helpdesk.clock import utcnow
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal
from helpdesk.schemas import TeamOut
from helpdesk.services import teams, workspace
from helpdesk.services.surveys import SurveySummary, survey_summary
from helpdesk.sla import report_series
from helpdesk.sla import services as sla_services
from helpdesk.sla.policies import Metric
from helpdesk.sla.reports import GroupBy, GroupReport, SlaReport, sla_report
from helpdesk.sla.schemas import AtRiskItem
from knowledge_base.feedback import deflection_report
from knowledge_base.schemas import DeflectionReport

PERIODS = ("7", "30", "90", "custom")
DEFAULT_PERIOD = "30"
MAX_CUSTOM_DAYS = 732
AT_RISK_ROWS = 20
HISTOGRAM_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)


class ReportQuery(msgspec.Struct, kw_only=True):
    """The dashboard's form as typed (shown again as it was)."""

    period: str = DEFAULT_PERIOD  # "7", "30", "90" (days up to today) or "custom"
    start: str = ""  # YYYY-MM-DD, with "custom"
    end: str = ""  # YYYY-MM-DD, inclusive, with "custom"
    group: str = GroupBy.TEAM.value
    team: str = ""

    def group_by(self) -> GroupBy:
        """The grouping asked for (by team when unknown)."""
        return GroupBy(self.group) if self.group in set(GroupBy) else GroupBy.TEAM

    def team_id(self) -> int | None:
        """The team to look at (None: every team)."""
        value = self.team
        return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else None

    def params(self, **changes: str) -> dict[str, str]:
        """The non-empty values, some replaced, for links keeping the choice."""
        values = {**msgspec.structs.asdict(self), **changes}
        if values.get("period") != "custom":
            values.pop("start", None)
            values.pop("end", None)
        return {k: v for k, v in values.items() if v}


def report_query(params: Mapping[str, str]) -> ReportQuery:
    """The dashboard's form from a query string; unknown parameters are ignored."""
    fields = ReportQuery.__struct_fields__
    query = ReportQuery(**{name: str(params[name])[:40] for name in fields if params.get(name)})
    if query.period not in PERIODS:
        query.period = DEFAULT_PERIOD
    return query


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            f"{field}: {value!r} is not a date (YYYY-MM-DD)", field=field
        ) from None


def report_period(
    query: ReportQuery, timezone: str, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC: whole local days of ``timezone``.

    "7", "30", "90": that many days, today included. "custom": from the start
    date to the end date, both included; ValidationError when a date is
    missing or malformed, or the end comes before the start.
    """
    zone = ZoneInfo(timezone)
    today = (now or utcnow()).astimezone(zone).date()
    if query.period == "custom":
        first, last = _date(query.start, "start"), _date(query.end, "end")
        if last < first:
            raise ValidationError("end: the period must end after it starts", field="end")
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise ValidationError("end: a report covers at most two years", field="end")
    else:
        last = today
        first = today - timedelta(days=int(query.period) - 1)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))

    return midnight(first), midnight(last + timedelta(days=1))


class ReportTable(msgspec.Struct, kw_only=True):
    """One table of the dashboard: a report's rows (one team's only when
    filtered by team and grouped by team) and whether the team filter applies."""

    group_by: GroupBy
    rows: list[GroupReport]
    totals: GroupReport
    filtered: bool


class DashboardView(msgspec.Struct, kw_only=True):
    """Everything the dashboard shows for one period."""

    header: workspace.Header
    start: datetime
    end: datetime
    team: TeamOut | None
    teams: list[TeamOut]
    summary: GroupReport
    tables: list[ReportTable]
    days: list[report_series.DayCompliance]
    histograms: list[report_series.DurationHistogram]
    at_risk: list[AtRiskItem]
    satisfaction: SurveySummary
    deflection: DeflectionReport


def _table(report: SlaReport, team_id: int | None) -> ReportTable:
    if team_id is None or report.group_by != GroupBy.TEAM:
        return ReportTable(
            group_by=report.group_by, rows=report.groups, totals=report.totals, filtered=False
        )
    rows = [g for g in report.groups if g.key == str(team_id)]
    totals = rows[0] if rows else GroupReport(key=str(team_id), name="")
    return ReportTable(group_by=report.group_by, rows=rows, totals=totals, filtered=True)


async def dashboard_view(
    principal: Principal,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    team_id: int | None,
    *,
    timezone: str,
) -> DashboardView:
    """The dashboard: the report grouped as asked, then by team and by agent,
    the daily compliance, the duration histograms and the at-risk list.

    With a team, the summary, the charts, the team table and the at-risk list
    are that team's; tables grouped otherwise cover every team (the report
    has no team filter).
    """
    order = [group_by, *(g for g in (GroupBy.TEAM, GroupBy.AGENT) if g != group_by)]
    reports = {g: await sla_report(principal, start, end, g) for g in order}
    by_team = _table(reports[GroupBy.TEAM], team_id)
    all_teams = await teams.list_teams(principal)
    return DashboardView(
        header=await workspace.header(principal),
        start=start,
        end=end,
        team=next((t for t in all_teams if t.id == team_id), None),
        teams=all_teams,
        summary=by_team.totals,
        tables=[by_team if g == GroupBy.TEAM else _table(reports[g], team_id) for g in order],
        days=await report_series.compliance_by_day(
            principal, start, end, team_id, timezone=timezone
        ),
        histograms=[
            await report_series.duration_histogram(principal, start, end, metric, team_id)
            for metric in HISTOGRAM_METRICS
        ],
        at_risk=await sla_services.list_at_risk(principal, team_id, AT_RISK_ROWS),
        satisfaction=await survey_summary(principal, start, end),
        deflection=await deflection_report(principal, start, end),
    )
