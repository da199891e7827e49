"""Service levels: calendars and policies (admins), each case's SLA state, the
at-risk list, and the SLA report with its CSV export (managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from helpdesk.api.params import MAX_ID, ObjectId
from helpdesk.api.problems import responses
from helpdesk.i18n import negotiate
from helpdesk.policy import Principal
from helpdesk.sla import reports
from helpdesk.sla import services as sla
from helpdesk.sla.reports import GroupBy, SlaReport
from helpdesk.sla.schemas import (
    AtRiskItem,
    CalendarIn,
    CalendarOut,
    CaseSlaOut,
    PolicyIn,
    PolicyOut,
    PolicyUpdate,
)

Start = Annotated[datetime, Parameter(description="Cases opened from this instant (ISO 8601).")]
End = Annotated[datetime, Parameter(description="… until before this instant (ISO 8601).")]
Grouping = Annotated[GroupBy, Parameter(description="One row per team, agent, priority, channel.")]


class SlaCalendarController(Controller):
    """``/sla/calendars``: business hours, holidays and make-up days in a time zone."""

    path = "/sla/calendars"
    tags = ["sla"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(409, 422))
    async def create_calendar(
        self, principal: NamedDependency[Principal], data: JSONBody[CalendarIn]
    ) -> CalendarOut:
        """Store a calendar; an invalid definition is a 422 naming the field."""
        return await sla.create_calendar(principal, data)

    @get("/", responses=responses())
    async def list_calendars(self, principal: NamedDependency[Principal]) -> list[CalendarOut]:
        """Every stored calendar."""
        return await sla.list_calendars(principal)

    @put("/{calendar_id:int}", responses=responses(404, 409, 422))
    async def update_calendar(
        self,
        principal: NamedDependency[Principal],
        calendar_id: ObjectId,
        data: JSONBody[CalendarIn],
    ) -> CalendarOut:
        """Replace a calendar's name and definition; open cases using it are retargeted."""
        return await sla.update_calendar(principal, calendar_id, data)

    @delete("/{calendar_id:int}", responses=responses(404, 409))
    async def delete_calendar(
        self, principal: NamedDependency[Principal], calendar_id: ObjectId
    ) -> None:
        """Remove a calendar no policy uses (409 otherwise)."""
        await sla.delete_calendar(principal, calendar_id)


class SlaPolicyController(Controller):
    """``/sla/policies``: which cases get which targets, and what happens at risk and breach."""

    path = "/sla/policies"
    tags = ["sla"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(422))
    async def create_policy(
        self, principal: NamedDependency[Principal], data: JSONBody[PolicyIn]
    ) -> PolicyOut:
        """Add a policy; targets are ISO 8601 durations of business time per priority."""
        return await sla.create_policy(principal, data)

    @get("/", responses=responses())
    async def list_policies(self, principal: NamedDependency[Principal]) -> list[PolicyOut]:
        """Every policy, in the order they are tried (the first match wins)."""
        return await sla.list_policies(principal)

    @get("/{policy_id:int}", responses=responses(404))
    async def get_policy(
        self, principal: NamedDependency[Principal], policy_id: ObjectId
    ) -> PolicyOut:
        """One policy."""
        return await sla.get_policy(principal, policy_id)

    @patch("/{policy_id:int}", responses=responses(404, 422))
    async def update_policy(
        self,
        principal: NamedDependency[Principal],
        policy_id: ObjectId,
        data: JSONBody[PolicyUpdate],
    ) -> PolicyOut:
        """Change a policy; the open cases it measures follow the change."""
        return await sla.update_policy(principal, policy_id, data)

    @delete("/{policy_id:int}", responses=responses(404))
    async def delete_policy(
        self, principal: NamedDependency[Principal], policy_id: ObjectId
    ) -> None:
        """Remove a policy; its open cases fall to the next matching policy."""
        await sla.delete_policy(principal, policy_id)


class SlaStateController(Controller):
    """A case's SLA state and the cases at risk."""

    path = "/"
    tags = ["sla"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/cases/{case_id:int}/sla", responses=responses(404))
    async def get_case_sla(
        self, principal: NamedDependency[Principal], case_id: ObjectId
    ) -> CaseSlaOut:
        """Each target of the case: due time (with the calendar's UTC offset),
        business time remaining, paused or not, at risk or breached."""
        return await sla.case_sla(principal, case_id)

    @get("/sla/at-risk", responses=responses(422))
    async def list_at_risk(
        self,
        principal: NamedDependency[Principal],
        team_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[AtRiskItem]:
        """Open cases with a target at risk or breached, soonest due first (one
        team, or every case the caller may see)."""
        return await sla.list_at_risk(principal, team_id, limit)


class SlaReportController(Controller):
    """``/reports/sla``: compliance, response and resolution times, breaches and backlog."""

    path = "/reports/sla"
    tags = ["reports"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/", responses=responses(422))
    async def sla_report(
        self,
        principal: NamedDependency[Principal],
        start: Start,
        end: End,
        group_by: Grouping = GroupBy.TEAM,
    ) -> SlaReport:
        """The SLA report of the cases opened in ``[start, end)``."""
        return await reports.sla_report(principal, start, end, group_by)

    @get("/csv", responses=responses(422), media_type="text/csv")
    async def sla_report_csv(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        start: Start,
        end: End,
        group_by: Grouping = GroupBy.TEAM,
    ) -> Response[str]:
        """The same report as CSV for a spreadsheet (UTF-8 with a BOM), one line
        per group and a totals line; the header row in the Accept-Language's
        language (English by default)."""
        report = await reports.sla_report(principal, start, end, group_by)
        locale = negotiate(request.headers.get("accept-language"), default="en")
        name = f"sla-{group_by.value}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
        return Response(
            reports.report_csv(report, locale),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
