"""The SLA and performance dashboard for managers: ``/console/reports`` and its CSV.

The figures are the SLA report's (:mod:`helpdesk.sla.reports`) and its daily
series and histograms (:mod:`helpdesk.sla.report_series`); those services
ask the permission policy (:attr:`~helpdesk.policy.Action.VIEW_REPORTS`), so
agents get 403. Charts are inline SVG drawn by the template from
:mod:`agent_console._charts`, each with its numbers in a table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._charts import (
    bar_chart,
    compliance_chart,
    histogram_chart,
    long_day,
    percent,
)
from agent_console._dashboard import (
    PERIODS,
    DashboardView,
    ReportQuery,
    dashboard_view,
    report_period,
    report_query,
)
from agent_console._labels import N_
from agent_console._pages import error_message, render, request_locale, settings_of
from helpdesk.errors import ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, require
from helpdesk.services import workspace
from helpdesk.sla.reports import GroupBy, report_csv, sla_report
from helpdesk.web.downloads import download

__all__ = ["dashboard", "report_csv_download"]

REPORTS_URL = "/console/reports"
CSV_URL = "/console/reports/sla.csv"
AGES = (
    ("under_1d", N_("Under 1 day")),
    ("1d_3d", N_("1–3 days")),
    ("3d_7d", N_("3–7 days")),
    ("over_7d", N_("Over 7 days")),
)
PERIOD_NAMES = {
    "7": N_("Last 7 days"),
    "30": N_("Last 30 days"),
    "90": N_("Last 90 days"),
    "custom": N_("Custom dates"),
}
GROUP_NAMES = {
    GroupBy.TEAM: N_("Team"),
    GroupBy.AGENT: N_("Agent"),
    GroupBy.PRIORITY: N_("Priority"),
    GroupBy.CHANNEL: N_("Channel"),
}
TABLE_TITLES = {
    GroupBy.TEAM: N_("By team"),
    GroupBy.AGENT: N_("By agent"),
    GroupBy.PRIORITY: N_("By priority"),
    GroupBy.CHANNEL: N_("By channel"),
}


def _charts(view: DashboardView, locale: str) -> dict[str, Any]:
    _ = translator(locale)
    names = {
        "first_response": _("First response time"),
        "resolution": _("Resolution time"),
    }
    backlog = [(_(name), view.summary.backlog.get(key, 0)) for key, name in AGES]
    return {
        "compliance": compliance_chart(view.days, names, locale),
        "histograms": [(h, histogram_chart(h, locale, _)) for h in view.histograms],
        "backlog": bar_chart(backlog, locale),
        "backlog_rows": backlog,
        "metric_names": names,
    }


def _period_days(view: DashboardView, timezone: str, locale: str) -> tuple[str, str]:
    zone = ZoneInfo(timezone)
    first = view.start.astimezone(zone).date()
    last = (view.end - timedelta(microseconds=1)).astimezone(zone).date()
    return long_day(first, locale), long_day(last, locale)


async def _page(
    request: Request[Any, Any, Any],
    principal: Principal,
    query: ReportQuery,
    *,
    view: DashboardView | None,
    error: ValidationError | None = None,
) -> Template:
    locale = request_locale(request)
    _ = translator(locale)
    header = view.header if view else await workspace.header(principal)
    return render(
        request,
        "console/manage/reports.html",
        status_code=error.status if error else 200,
        header=header,
        view=view,
        query=query,
        charts=_charts(view, locale) if view else None,
        csv_url=f"{CSV_URL}?{urlencode(query.params())}",
        periods=[(p, PERIOD_NAMES[p]) for p in PERIODS],
        groups=list(GROUP_NAMES.items()),
        table_titles=TABLE_TITLES,
        percent=lambda value: percent(value, locale),
        day_text=lambda value: long_day(value, locale),
        period_days=_period_days(view, settings_of(request).timezone, locale) if view else None,
        error=_(error_message(error)) if error else None,
        error_detail=error.detail if error else None,
    )


@get("/reports", include_in_schema=False)
async def dashboard(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    """The SLA dashboard for a period (last 7, 30 or 90 days, or custom dates),
    grouped by team, agent, priority or channel, optionally for one team."""
    query = report_query(request.query_params)
    timezone = settings_of(request).timezone
    try:
        start, end = report_period(query, timezone)
    except ValidationError as exc:
        require(principal, Action.VIEW_REPORTS)  # the same answer as the report's
        return await _page(request, principal, query, view=None, error=exc)
    view = await dashboard_view(
        principal, start, end, query.group_by(), query.team_id(), timezone=timezone
    )
    return await _page(request, principal, query, view=view)


@get("/reports/sla.csv", include_in_schema=False)
async def report_csv_download(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[bytes]:
    """The report of the dashboard's period and grouping as CSV (every team:
    the report has no team filter), as a download."""
    query = report_query(request.query_params)
    start, end = report_period(query, settings_of(request).timezone)
    report = await sla_report(principal, start, end, query.group_by())
    name = f"sla-{report.group_by.value}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
    csv_text = report_csv(report, request_locale(request))
    return download(csv_text, name, "text/csv; charset=utf-8")
