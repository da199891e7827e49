"""The demo's service levels: Vietnamese office hours and one policy per kind of request."""

from __future__ import annotations

from datetime import timedelta

from helpdesk.domain import Channel, Priority
from helpdesk.policy import SYSTEM
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.hours import Period, WeeklyHours
from helpdesk.sla.policies import Escalation, EscalationActions, PolicyConditions, Targets
from helpdesk.sla.schemas import CalendarIn, PolicyIn
from helpdesk.sla.tables import SlaCalendar, SlaPolicy

CALENDAR_NAME = "Giờ hành chính (Hà Nội)"
_DAY = (Period("08:00", "12:00"), Period("13:30", "17:30"))
_SATURDAY = (Period("08:00", "12:00"),)


def _hours(first: int, nxt: int, resolution: int) -> Targets:
    return Targets(
        first_response=timedelta(hours=first),
        next_response=timedelta(hours=nxt),
        resolution=timedelta(hours=resolution),
    )


POLICIES = (
    PolicyIn(
        name="Trò chuyện trực tuyến",
        conditions=PolicyConditions(channels=(Channel.CHAT,)),
        targets=dict.fromkeys(
            Priority,
            Targets(first_response=timedelta(minutes=5), next_response=timedelta(minutes=10)),
        ),
    ),
    PolicyIn(
        name="Tiêu chuẩn",
        targets={
            Priority.URGENT: _hours(1, 2, 8),
            Priority.HIGH: _hours(2, 4, 16),
            Priority.NORMAL: _hours(4, 8, 24),
            Priority.LOW: _hours(8, 16, 40),
        },
        escalation=Escalation(breached=EscalationActions(notify=True, raise_priority=True)),
    ),
)


async def ensure_sla() -> None:
    """Create the demo calendar and policies that do not exist yet."""
    row = await SlaCalendar.select(SlaCalendar.id).where(SlaCalendar.name == CALENDAR_NAME).first()
    if row is None:
        calendar = BusinessCalendar(
            hours=WeeklyHours(_DAY, _DAY, _DAY, _DAY, _DAY, _SATURDAY, ()),
            timezone="Asia/Ho_Chi_Minh",
            country="VN",
        )
        created = await sla.create_calendar(
            SYSTEM, CalendarIn(name=CALENDAR_NAME, definition=calendar.to_dict())
        )
        calendar_id = created.id
    else:
        calendar_id = row["id"]
    for policy in POLICIES:
        if not await SlaPolicy.exists().where(SlaPolicy.name == policy.name):
            policy.calendar_id = calendar_id
            await sla.create_policy(SYSTEM, policy)
