"""Calendars, instants and durations for the SLA clock tests, concrete and generated."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from helpdesk.sla import WEEKDAYS, BusinessCalendar, MakeUpDay, Period, WeeklyHours

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)

# SLA_EXAMPLES=2000 for a deeper run; the default keeps the whole folder to a few seconds.
PROPERTY = settings(
    max_examples=int(os.environ.get("SLA_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Mon–Fri 08:00–12:00 and 13:30–17:30 (lunch break), Saturday morning.
VN_OFFICE = BusinessCalendar(
    hours=WeeklyHours.build(mon_fri=("08:00-12:00", "13:30-17:30"), sat="08:00-12:00")
)


def local(
    zone: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """The instant a clock in ``zone`` shows this wall time (first pass unless fold=1), in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).astimezone(UTC)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


# --- generated calendars --------------------------------------------------------

# Clock changes of 2026–2027 (local dates) in the generated zones that have them.
CHANGES = {
    "Europe/Berlin": [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)],
    # Lord Howe Island moves by 30 minutes.
    "Australia/Lord_Howe": [
        date(2026, 4, 5),
        date(2026, 10, 4),
        date(2027, 4, 4),
        date(2027, 10, 3),
    ],
}
ZONES = [*CHANGES, "UTC", "Asia/Ho_Chi_Minh", "Asia/Kathmandu"]  # Kathmandu: +05:45
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 12, 1, tzinfo=UTC)


def _text(quarter: int) -> str:
    return f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


@st.composite
def day_periods(draw: st.DrawFn, *, avoid_night: bool = False) -> tuple[Period, ...]:
    """0–3 disjoint periods on a 15-minute grid (boundaries off 00:30–03:30 if asked)."""
    grid = [q for q in range(97) if not (avoid_night and 2 <= q <= 14)]
    count = draw(st.integers(0, 3))
    bounds = sorted(
        draw(st.lists(st.sampled_from(grid), min_size=2 * count, max_size=2 * count, unique=True))
    )
    return tuple(Period(_text(a), _text(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn, *, avoid_night: bool = False) -> BusinessCalendar:
    """Random valid calendars: zone, weekly periods, VN/US holidays or none, closures, make-ups."""
    week = [draw(day_periods(avoid_night=avoid_night)) for _ in WEEKDAYS]
    if not any(week):
        week[draw(st.integers(0, 6))] = (Period("09:00", "17:00"),)
    working = [day for day, periods in zip(WEEKDAYS, week, strict=True) if periods]
    some_dates = st.dates(date(2026, 1, 1), date(2027, 12, 31))
    closed = draw(st.lists(some_dates, max_size=8, unique=True))
    makeup_dates = draw(
        st.lists(some_dates.filter(lambda d: d not in closed), max_size=3, unique=True)
    )
    makeups = [
        MakeUpDay(date=day, hours_of=draw(st.sampled_from(working)))
        if draw(st.booleans())
        else MakeUpDay(date=day, periods=draw(day_periods(avoid_night=avoid_night).filter(bool)))
        for day in makeup_dates
    ]
    return BusinessCalendar(
        hours=WeeklyHours(*week),
        timezone=draw(st.sampled_from(ZONES)),
        country=draw(st.sampled_from([None, "VN", "US"])),
        makeup_hours_of=draw(st.sampled_from(working)),
        closed_dates=tuple(closed),
        makeup_days=tuple(makeups),
    )


def _any_instant(unit: timedelta) -> st.SearchStrategy[datetime]:
    return st.integers(0, (END - START) // unit).map(lambda n: START + n * unit)


instants = _any_instant(US)
"""Any microsecond of 2026 to November 2027, as an aware UTC datetime."""


@st.composite
def cases(
    draw: st.DrawFn, *, avoid_night: bool = False, unit: timedelta = US
) -> tuple[BusinessCalendar, datetime]:
    """A calendar and a start instant; in a zone with DST, often within 2 days of a change."""
    calendar = draw(calendars(avoid_night=avoid_night))
    changes = CHANGES.get(calendar.timezone)
    if changes and not draw(st.booleans()):  # hypothesis favours False: near is common
        day = draw(st.sampled_from(changes))
        window = timedelta(days=4) // unit
        offset = draw(st.integers(0, window)) - window // 2
        return calendar, datetime(day.year, day.month, day.day, tzinfo=UTC) + offset * unit
    return calendar, draw(_any_instant(unit))


durations = st.one_of(
    st.integers(0, 3 * 3600 * 10**6),  # up to 3 hours, to the microsecond
    st.integers(0, 400).map(lambda n: n * 15 * 60 * 10**6),  # up to 100 hours, in quarters
    st.integers(0, 400 * 3600 * 10**6),  # up to 400 hours
).map(lambda n: n * US)
