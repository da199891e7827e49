"""SLA reports for managers: compliance, response and resolution times, breaches, backlog.

The cohort of a report is the cases *opened* in the period ``[start, end)``;
each of their targets counts once:

* ``met``: done (replied to, solved) without a breach;
* ``missed``: breached at least once (done or not); a next-response target
  restarted for several customer messages counts once, as missed if any run
  was late;
* ``open``: still running, not breached yet; cancelled targets (a case closed
  without a reply) are left out.

``compliance`` is ``met / (met + missed)`` (None when nothing was decided).
Times are business time of each case's calendar, in hours: the median and
the 90th percentile (nearest-rank) of the targets done. The backlog is every
case open *now* (not solved or closed) of the group, by age since opening.
Rows are grouped by team, agent (assignee), priority or channel.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict

import msgspec

from helpdesk.clock import utcnow
from helpdesk.domain import Status
from helpdesk.errors import ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Action, Principal, require
from helpdesk.sla._store import utc
from helpdesk.sla.policies import Metric
from helpdesk.tables import Agent, Case, Team

__all__ = [
    "CSV_BOM",
    "GroupBy",
    "GroupReport",
    "MetricReport",
    "SlaReport",
    "csv_header",
    "report_csv",
    "sla_report",
]

_MAX_PERIOD = timedelta(days=732)
_AGES = (("under_1d", 1), ("1d_3d", 3), ("3d_7d", 7), ("over_7d", None))


class GroupBy(StrEnum):
    """How report rows are grouped."""

    TEAM = "team"
    AGENT = "agent"
    PRIORITY = "priority"
    CHANNEL = "channel"


class MetricReport(msgspec.Struct, kw_only=True):
    """How one target fared in a group."""

    met: int = 0
    missed: int = 0
    open: int = 0
    breaches: int = 0
    compliance: float | None = None
    median_hours: float | None = None
    p90_hours: float | None = None


class GroupReport(msgspec.Struct, kw_only=True):
    """One row of the report: a team, agent, priority or channel (``key`` None:
    no team / unassigned; the totals row has key ``"*"``)."""

    key: str | None
    name: str
    cases: int = 0
    first_response: MetricReport = msgspec.field(default_factory=MetricReport)
    next_response: MetricReport = msgspec.field(default_factory=MetricReport)
    resolution: MetricReport = msgspec.field(default_factory=MetricReport)
    backlog: dict[str, int] = msgspec.field(default_factory=lambda: {a: 0 for a, _ in _AGES})


class SlaReport(msgspec.Struct, kw_only=True):
    """The report over a period: one row per group, then the totals."""

    start: datetime
    end: datetime
    group_by: GroupBy
    groups: list[GroupReport]
    totals: GroupReport


class _TimerLine(TypedDict):
    """A row of the report's cohort query: a case and one of its timers (the
    timer columns are null for a case without timers). A typed dict, not a
    Struct: the report folds many rows once, in this module."""

    grp: Any  # the grouping column: an id, a priority or a channel; null for none
    case_id: int
    metric: str | None
    active: bool | int | None  # an integer from SQLite's raw rows
    completed_at: datetime | str | None
    breaches: int | None
    business_seconds: int | None


class _BacklogLine(TypedDict):
    """A row of the backlog query: an open case's group and when it was opened."""

    grp: Any
    created_at: datetime | str


_COLUMN = {
    GroupBy.TEAM: "team",
    GroupBy.AGENT: "assignee",
    GroupBy.PRIORITY: "priority",
    GroupBy.CHANNEL: "channel",
}


async def sla_report(
    principal: Principal, start: datetime, end: datetime, group_by: GroupBy = GroupBy.TEAM
) -> SlaReport:
    """The SLA report of the cases opened in ``[start, end)`` (managers and admins)."""
    require(principal, Action.VIEW_REPORTS)
    start, end = _period(start, end)
    column = _COLUMN[group_by]
    timers: list[_TimerLine] = await Case.raw(
        f'SELECT c."{column}" AS grp, c.id AS case_id, t.metric, t.active, t.completed_at, '  # noqa: S608 - fixed column names
        "t.breaches, t.business_seconds FROM cases c "
        'LEFT JOIN case_sla_timers t ON t."case" = c.id '
        "WHERE c.created_at >= {} AND c.created_at < {} AND c.merged_into IS NULL",
        start,
        end,
    )
    backlog: list[_BacklogLine] = await Case.raw(
        f'SELECT "{column}" AS grp, created_at FROM cases '  # noqa: S608 - fixed column names
        "WHERE status NOT IN ({}, {}) AND merged_into IS NULL",
        Status.SOLVED.value,
        Status.CLOSED.value,
    )
    groups = _aggregate(timers, backlog, utcnow())
    names = await _names(group_by, [k for k in groups if k not in (None, "*")])
    rows = [
        _finish(groups[key], names.get(key, str(key)) if key is not None else "")
        for key in sorted((k for k in groups if k != "*"), key=lambda k: (k is None, str(k)))
    ]
    totals = _finish(groups.get("*") or _Acc(key="*"), "*")
    return SlaReport(start=start, end=end, group_by=group_by, groups=rows, totals=totals)


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    begin, finish = utc(start), utc(end)
    if begin is None or finish is None or finish <= begin:
        raise ValidationError("the period must end after it starts", field="end")
    if finish - begin > _MAX_PERIOD:
        raise ValidationError("a report covers at most two years", field="end")
    return begin, finish


class _Acc(msgspec.Struct, kw_only=True):
    key: str | None
    cases: set[int] = msgspec.field(default_factory=set)
    outcomes: dict[str, MetricReport] = msgspec.field(
        default_factory=lambda: {m.value: MetricReport() for m in Metric}
    )
    seconds: dict[str, list[int]] = msgspec.field(default_factory=lambda: defaultdict(list))
    backlog: dict[str, int] = msgspec.field(default_factory=lambda: {a: 0 for a, _ in _AGES})


def _aggregate(
    timers: Iterable[_TimerLine], backlog: Iterable[_BacklogLine], now: datetime
) -> dict[str | None, _Acc]:
    groups: dict[str | None, _Acc] = {}

    def accs(raw_key: Any) -> tuple[_Acc, _Acc]:
        key = None if raw_key is None else str(raw_key)
        return (
            groups.setdefault(key, _Acc(key=key)),
            groups.setdefault("*", _Acc(key="*")),
        )

    for row in timers:
        metric = row["metric"]
        for acc in accs(row["grp"]):
            acc.cases.add(row["case_id"])
            if metric is not None:
                _count(acc, metric, row)
    for line in backlog:
        age = now - (utc(line["created_at"]) or now)
        bucket = next(name for name, days in _AGES if days is None or age < timedelta(days=days))
        for acc in accs(line["grp"]):
            acc.backlog[bucket] += 1
    return groups


def _count(acc: _Acc, metric: str, row: _TimerLine) -> None:
    outcome = acc.outcomes[metric]
    breaches = int(row["breaches"] or 0)
    outcome.breaches += breaches
    if breaches:
        outcome.missed += 1
    elif row["completed_at"] is not None:
        outcome.met += 1
    elif row["active"]:
        outcome.open += 1
    if row["completed_at"] is not None and row["business_seconds"] is not None:
        acc.seconds[metric].append(int(row["business_seconds"]))


def _finish(acc: _Acc, name: str) -> GroupReport:
    report = GroupReport(key=acc.key, name=name, cases=len(acc.cases), backlog=acc.backlog)
    for metric in Metric:
        outcome = acc.outcomes[metric.value]
        decided = outcome.met + outcome.missed
        outcome.compliance = round(outcome.met / decided, 4) if decided else None
        seconds = sorted(acc.seconds.get(metric.value, []))
        outcome.median_hours = _hours(_percentile(seconds, 50))
        outcome.p90_hours = _hours(_percentile(seconds, 90))
        setattr(report, metric.value, outcome)
    return report


def _percentile(values: list[int], percent: int) -> int | None:
    """Nearest-rank percentile of sorted ``values`` (None when empty)."""
    if not values:
        return None
    rank = max(1, math.ceil(percent / 100 * len(values)))
    return values[rank - 1]


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


async def _names(group_by: GroupBy, keys: list[str | None]) -> dict[str | None, str]:
    ids = [int(k) for k in keys if k is not None and k.isdigit()]
    if group_by == GroupBy.TEAM and ids:
        rows = await Team.select(Team.id, Team.name).where(Team.id.is_in(ids))
    elif group_by == GroupBy.AGENT and ids:
        rows = await Agent.select(Agent.id, Agent.name).where(Agent.id.is_in(ids))
    else:
        return {k: str(k) for k in keys}
    return {str(row["id"]): row["name"] for row in rows}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated where it is written."""
    return message


CSV_BOM = "\ufeff"
"""Starts every CSV: spreadsheets (Excel) then read it as UTF-8, not the PC's code page."""

_CSV_METRICS = (
    ("first_response", N_("First response")),
    ("next_response", N_("Next response")),
    ("resolution", N_("Resolution")),
)
_CSV_COLUMNS = (
    N_("Met"),
    N_("Missed"),
    N_("Open"),
    N_("SLA breaches"),
    N_("Compliance (%)"),
    N_("Median (hours)"),
    N_("90th percentile (hours)"),
)
_CSV_GROUPS = {
    GroupBy.TEAM: N_("Team"),
    GroupBy.AGENT: N_("Agent"),
    GroupBy.PRIORITY: N_("Priority"),
    GroupBy.CHANNEL: N_("Channel"),
}
_CSV_AGES = (N_("Under 1 day"), N_("1–3 days"), N_("3–7 days"), N_("Over 7 days"))


def report_csv(report: SlaReport, locale: str = "en") -> str:
    """The report as CSV for a spreadsheet: a UTF-8 BOM, a header row in
    ``locale``, one line per group then the totals (compliance in percent),
    CRLF line ends, names neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(report.group_by, locale))
    for group in [*report.groups, report.totals]:
        writer.writerow(_csv_row(group))
    return CSV_BOM + out.getvalue()


def csv_header(group_by: GroupBy, locale: str) -> list[str]:
    """The CSV's header row in ``locale`` ("First response: Met", …)."""
    _ = translator(locale)
    header = [_(_CSV_GROUPS[group_by]), _("Name"), _("Cases")]
    for _key, metric in _CSV_METRICS:
        header += [
            _("%(metric)s: %(measure)s", metric=_(metric), measure=_(column))
            for column in _CSV_COLUMNS
        ]
    backlog = _("Backlog")
    header += [_("%(metric)s: %(measure)s", metric=backlog, measure=_(age)) for age in _CSV_AGES]
    return header


def _csv_row(group: GroupReport) -> list[Any]:
    row: list[Any] = [group.key if group.key is not None else "", _safe(group.name), group.cases]
    for metric, _label in _CSV_METRICS:
        m: MetricReport = getattr(group, metric)
        compliance = "" if m.compliance is None else round(m.compliance * 100, 2)
        row += [m.met, m.missed, m.open, m.breaches, compliance]
        row += [_blank(m.median_hours), _blank(m.p90_hours)]
    return row + [group.backlog[name] for name, _ in _AGES]


def _blank(value: float | None) -> Any:
    return "" if value is None else value


_FORMULA_STARTS = frozenset("=+-@")


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas in names (CSV injection): a name whose first
    character that is not white space (tab, CR, LF, any space) is ``=``, ``+``,
    ``-`` or ``@`` (full-width forms such as ``＝`` included, as spreadsheets read
    them too), or that starts with white space before one, gets a leading ``'``."""
    first = text.lstrip()[:1]
    if first and unicodedata.normalize("NFKC", first) in _FORMULA_STARTS:
        return "'" + text
    return "'" + text if text[:1] in ("\t", "\r", "\n") else text
