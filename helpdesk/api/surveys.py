"""``/reports/satisfaction``: the customers' satisfaction ratings (managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.services import surveys
from helpdesk.services.surveys import SurveySummary

Start = Annotated[datetime, Parameter(description="Ratings given from this instant (ISO 8601).")]
End = Annotated[datetime, Parameter(description="… until before this instant (ISO 8601).")]


class SatisfactionReportController(Controller):
    """``/reports/satisfaction``: how satisfied customers were with solved cases."""

    path = "/reports/satisfaction"
    tags = ["reports"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/", responses=responses(422))
    async def satisfaction_report(
        self, principal: NamedDependency[Principal], start: Start, end: End
    ) -> SurveySummary:
        """Count, average and distribution (1–5) of the ratings given in ``[start, end)``."""
        return await surveys.survey_summary(principal, start, end)
