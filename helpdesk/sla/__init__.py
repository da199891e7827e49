"""Service levels: business calendars and the SLA clock (pure), later timers and reports.

The pure part needs no database, web server or task queue:

* :mod:`helpdesk.sla.calendar` — :class:`BusinessCalendar` (weekly hours in an
  IANA zone, public holidays from the ``holidays`` library, closed dates and
  make-up working days), validated on construction;
* :mod:`helpdesk.sla.clock` — business-time arithmetic and the pausable
  :class:`SlaTimer`, as pure functions of a calendar and explicit instants.
"""

from __future__ import annotations

from helpdesk.sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    MakeUpDay,
    Period,
    Weekday,
    WeeklyHours,
)
from helpdesk.sla.clock import (
    Pause,
    SlaTimer,
    add_business_time,
    business_time_between,
    due_at,
    elapsed,
    is_open,
    next_opening,
    pause,
    remaining,
    resume,
    retarget,
    start_timer,
)

__all__ = [
    "WEEKDAYS",
    "BusinessCalendar",
    "MakeUpDay",
    "Pause",
    "Period",
    "SlaTimer",
    "Weekday",
    "WeeklyHours",
    "add_business_time",
    "business_time_between",
    "due_at",
    "elapsed",
    "is_open",
    "next_opening",
    "pause",
    "remaining",
    "resume",
    "retarget",
    "start_timer",
]
