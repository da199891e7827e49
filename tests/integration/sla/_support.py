"""Builders shared by the SLA integration tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from helpdesk.domain import Priority
from helpdesk.policy import SYSTEM
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.policies import Escalation, PolicyConditions, Targets
from helpdesk.sla.schemas import CalendarIn, PolicyIn, PolicyOut
from helpdesk.sla.tables import CaseSlaTimer
from tests.factories import unique


async def always_open_calendar() -> int:
    """A stored 24/7 UTC calendar (business time = wall time); its id."""
    out = await sla.create_calendar(
        SYSTEM,
        CalendarIn(name=f"24/7 {unique()}", definition=BusinessCalendar.always_open().to_dict()),
    )
    return out.id


async def make_policy(
    targets: dict[Priority, Targets] | None = None,
    *,
    conditions: PolicyConditions | None = None,
    escalation: Escalation | None = None,
    warn_percent: int = 80,
    calendar_id: int | None = None,
    position: int | None = None,
) -> PolicyOut:
    """A policy on a 24/7 calendar: by default 1 h first response, 2 h next
    response and 8 h resolution for every priority."""
    default = Targets(
        first_response=timedelta(hours=1),
        next_response=timedelta(hours=2),
        resolution=timedelta(hours=8),
    )
    return await sla.create_policy(
        SYSTEM,
        PolicyIn(
            name=f"Policy {unique()}",
            position=position,
            conditions=conditions or PolicyConditions(),
            targets=targets or dict.fromkeys(Priority, default),
            warn_percent=warn_percent,
            escalation=escalation or Escalation(),
            calendar_id=calendar_id if calendar_id is not None else await always_open_calendar(),
        ),
    )


async def timers_of(case_id: int) -> dict[str, dict[str, Any]]:
    """The case's timer rows by metric."""
    rows = await CaseSlaTimer.select().where(CaseSlaTimer.case == case_id)
    return {row["metric"]: row for row in rows}


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp as aware UTC."""
    from helpdesk.sla._store import utc

    return utc(value)
