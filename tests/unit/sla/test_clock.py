"""The SLA clock on concrete cases: Vietnamese office hours, Tết, 24/7, daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from helpdesk.sla import (
    BusinessCalendar,
    MakeUpDay,
    WeeklyHours,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
)
from tests.unit.sla._support import BERLIN, NEW_YORK, US, VN, VN_OFFICE, hours, local

# --- Vietnam: lunch break, Saturday morning, holidays, make-up days ----------------


@pytest.mark.parametrize(
    ("opened", "target", "due", "why"),
    [
        ((2026, 3, 2, 9, 0), 2, (2026, 3, 2, 11, 0), "inside the morning"),
        ((2026, 3, 2, 11, 0), 2, (2026, 3, 2, 14, 30), "across the lunch break"),
        ((2026, 3, 2, 12, 15), 1, (2026, 3, 2, 14, 30), "opened during lunch"),
        ((2026, 3, 2, 9, 0), 8, (2026, 3, 3, 9, 0), "one working day"),
        (
            (2026, 3, 2, 16, 30),
            1,
            (2026, 3, 2, 17, 30),
            "ends exactly at closing, not next opening",
        ),
        ((2026, 3, 6, 16, 0), 4, (2026, 3, 7, 10, 30), "Friday afternoon into Saturday morning"),
        ((2026, 3, 7, 21, 0), 4, (2026, 3, 9, 12, 0), "opened on Saturday night"),
        ((2026, 3, 8, 23, 59), 0.5, (2026, 3, 9, 8, 30), "opened late on Sunday"),
        ((2026, 2, 17, 10, 0), 4, (2026, 2, 21, 12, 0), "opened during Tết: due on Saturday"),
        ((2026, 2, 16, 9, 0), 8, (2026, 2, 23, 12, 0), "Giao thừa, 8 h: Saturday then Monday"),
        ((2026, 2, 13, 17, 0), 1, (2026, 2, 14, 8, 30), "Friday before Tết: Saturday 14th works"),
        ((2027, 2, 3, 17, 0), 4, (2027, 2, 11, 11, 30), "Tết 2027 runs Thursday to Wednesday"),
        ((2026, 4, 24, 17, 0), 1, (2026, 4, 25, 8, 30), "Saturday before Giỗ Tổ is worked"),
        ((2026, 4, 25, 11, 0), 2, (2026, 4, 28, 9, 0), "Giỗ Tổ Sunday, observed Monday"),
        ((2026, 8, 21, 17, 0), 8, (2026, 8, 22, 17, 0), "make-up Saturday 22/8 is a full day"),
        ((2026, 8, 28, 17, 0), 8, (2026, 9, 3, 11, 30), "31/8 swapped off, 1–2/9 Quốc khánh"),
        ((2026, 12, 31, 17, 0), 1, (2027, 1, 2, 8, 30), "New Year's Day"),
    ],
)
def test_vietnam_office(
    opened: tuple[int, ...], target: float, due: tuple[int, ...], why: str
) -> None:
    start = local(VN, *opened)
    result = add_business_time(VN_OFFICE, start, hours(target))
    assert result == local(VN, *due), why
    assert result.tzinfo is UTC
    assert business_time_between(VN_OFFICE, start, result) == hours(target)


def test_company_extends_tet_with_closed_dates_and_a_makeup_saturday() -> None:
    calendar = BusinessCalendar(
        hours=VN_OFFICE.hours,
        closed_dates=(date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 21)),
        makeup_days=(MakeUpDay(date=date(2026, 2, 28), hours_of="mon"),),
    )
    opened = local(VN, 2026, 2, 12, 17, 0)
    assert add_business_time(calendar, opened, hours(1)) == local(VN, 2026, 2, 23, 8, 30)
    # The whole week of 23 February: 5 days x 8 h, plus Saturday 28th worked in full.
    week = business_time_between(calendar, local(VN, 2026, 2, 23), local(VN, 2026, 3, 1))
    assert week == hours(48)


def test_business_time_between() -> None:
    monday, friday = local(VN, 2026, 3, 2, 0, 0), local(VN, 2026, 3, 7, 0, 0)
    assert business_time_between(VN_OFFICE, monday, friday) == hours(40)
    assert business_time_between(VN_OFFICE, monday, local(VN, 2026, 3, 9)) == hours(44)
    assert business_time_between(VN_OFFICE, friday, monday) == timedelta(0)
    tet = business_time_between(VN_OFFICE, local(VN, 2026, 2, 15), local(VN, 2026, 2, 21))
    assert tet == timedelta(0)
    year = business_time_between(VN_OFFICE, local(VN, 2026, 1, 1), local(VN, 2027, 1, 1))
    # 2026: 52 weeks and one Thursday; minus 13 weekday holidays, plus Saturday 22/8
    # worked in full instead of the morning.
    assert year == hours(52 * 44 + 8 - 13 * 8 + 4)


def test_is_open_and_next_opening() -> None:
    assert is_open(VN_OFFICE, local(VN, 2026, 3, 2, 8, 0))
    assert not is_open(VN_OFFICE, local(VN, 2026, 3, 2, 12, 0))
    assert not is_open(VN_OFFICE, local(VN, 2026, 2, 17, 10, 0))
    during = local(VN, 2026, 3, 2, 9, 0)
    assert next_opening(VN_OFFICE, during) == during
    assert next_opening(VN_OFFICE, local(VN, 2026, 3, 2, 12, 0)) == local(VN, 2026, 3, 2, 13, 30)
    assert next_opening(VN_OFFICE, local(VN, 2026, 2, 15, 20, 0)) == local(VN, 2026, 2, 21, 8, 0)


def test_zero_duration_returns_start_even_when_closed() -> None:
    sunday = local(VN, 2026, 3, 8, 10, 0)
    assert add_business_time(VN_OFFICE, sunday, timedelta(0)) == sunday


def test_microseconds_are_exact() -> None:
    start = local(VN, 2026, 3, 2, 11, 59) + 7 * US
    result = add_business_time(VN_OFFICE, start, timedelta(minutes=1, microseconds=5))
    assert result == local(VN, 2026, 3, 2, 13, 30) + 12 * US


def test_inputs_in_any_zone_outputs_in_utc() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    result = add_business_time(VN_OFFICE, start, hours(1))
    assert result == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    naive = datetime(2026, 3, 2, 9, 0)
    aware = local(VN, 2026, 3, 2, 9, 0)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        add_business_time(VN_OFFICE, naive, hours(1))
    with pytest.raises(ValueError, match="end must be a timezone-aware"):
        business_time_between(VN_OFFICE, aware, naive)
    with pytest.raises(ValueError, match="at must be"):
        is_open(VN_OFFICE, naive)
    with pytest.raises(ValueError, match="duration must not be negative"):
        add_business_time(VN_OFFICE, aware, -hours(1))


def test_beyond_year_9999_overflows() -> None:
    with pytest.raises(OverflowError):
        add_business_time(VN_OFFICE, local(VN, 9999, 12, 1), hours(1000))


# --- 24/7 ----------------------------------------------------------------------


def test_always_open_has_no_gap_at_midnight() -> None:
    calendar = BusinessCalendar.always_open("Asia/Ho_Chi_Minh")
    start = local(VN, 2026, 2, 16, 23, 30)
    assert add_business_time(calendar, start, hours(1)) == local(VN, 2026, 2, 17, 0, 30)
    assert add_business_time(calendar, start, hours(1000)) == start + hours(1000)
    assert business_time_between(calendar, start, start + timedelta(days=400)) == timedelta(
        days=400
    )
    assert is_open(calendar, local(VN, 2026, 2, 17, 0, 0))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_always_open_is_elapsed_time_across_dst(zone: str) -> None:
    calendar = BusinessCalendar.always_open(zone)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for days in (1, 30, 90, 200, 365):
        end = start + timedelta(days=days, minutes=17)
        assert business_time_between(calendar, start, end) == end - start
        assert add_business_time(calendar, start, end - start) == end


# --- daylight saving -----------------------------------------------------------
# Berlin: Sunday 29 March 2026 02:00 -> 03:00 (01:00 UTC); Sunday 25 October 03:00 -> 02:00.
# New York: Sunday 8 March 2026 02:00 -> 03:00 (07:00 UTC); Sunday 1 November 02:00 -> 01:00.

NIGHT_SHIFT = WeeklyHours.build(sat="22:00-24:00", sun="00:00-06:00", mon_fri="09:00-17:00")


def _night(zone: str) -> BusinessCalendar:
    return BusinessCalendar(hours=NIGHT_SHIFT, timezone=zone, country=None)


@pytest.mark.parametrize(
    ("zone", "tz", "sunday", "length"),
    [
        ("Europe/Berlin", BERLIN, (2026, 3, 29), 5),  # skipped hour inside 00:00–06:00
        ("Europe/Berlin", BERLIN, (2026, 10, 25), 7),  # repeated hour inside it
        ("America/New_York", NEW_YORK, (2026, 3, 8), 5),
        ("America/New_York", NEW_YORK, (2026, 11, 1), 7),
        ("Europe/Berlin", BERLIN, (2026, 3, 22), 6),  # an ordinary Sunday
    ],
)
def test_a_period_containing_the_change(
    zone: str, tz: ZoneInfo, sunday: tuple[int, int, int], length: int
) -> None:
    calendar = _night(zone)
    start = local(tz, *sunday)
    end = local(tz, *sunday, 6)
    assert end - start == hours(length)
    saturday_evening = start - hours(2)
    assert business_time_between(calendar, saturday_evening, start + hours(12)) == hours(length + 2)
    assert add_business_time(calendar, saturday_evening, hours(length + 2)) == end
    monday = date(*sunday) + timedelta(days=1)
    assert add_business_time(calendar, saturday_evening, hours(length + 3)) == local(
        tz, monday.year, monday.month, monday.day, 10
    )


def test_office_hours_keep_their_wall_clock_times_across_the_change() -> None:
    calendar = BusinessCalendar(
        hours=WeeklyHours.build(mon_fri="09:00-17:00"), timezone="Europe/Berlin", country=None
    )
    friday = local(BERLIN, 2026, 3, 27, 16, 0)  # CET, +01:00
    due = add_business_time(calendar, friday, hours(2))
    assert due == local(BERLIN, 2026, 3, 30, 10, 0)  # CEST, +02:00
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    week = business_time_between(calendar, local(BERLIN, 2026, 3, 23), local(BERLIN, 2026, 4, 6))
    assert week == hours(80)


def test_boundaries_inside_the_skipped_hour_map_to_the_change() -> None:
    calendar = BusinessCalendar(
        hours=WeeklyHours.build(sun=("00:00-01:30", "02:30-05:00")),
        timezone="Europe/Berlin",
        country=None,
    )
    change = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 CET is 03:00 CEST
    sunday = local(BERLIN, 2026, 3, 29)
    day = (sunday, sunday + timedelta(days=1))
    assert business_time_between(calendar, *day) == hours(1.5 + 2)
    assert add_business_time(calendar, sunday, hours(1.5)) == local(BERLIN, 2026, 3, 29, 1, 30)
    assert add_business_time(calendar, sunday, hours(1.5) + US) == change + US
    ends_in_gap = BusinessCalendar(
        hours=WeeklyHours.build(sun="00:00-02:15"), timezone="Europe/Berlin", country=None
    )
    assert business_time_between(ends_in_gap, *day) == hours(2)
    assert add_business_time(ends_in_gap, sunday, hours(2)) == change


def test_boundaries_inside_the_repeated_hour_take_both_passes() -> None:
    # 02:30 happens twice on 25 October: a period starts at the first and ends at the last.
    calendar = BusinessCalendar(
        hours=WeeklyHours.build(sun="02:30-04:00", sat="09:00-10:00"),
        timezone="Europe/Berlin",
        country=None,
    )
    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert local(BERLIN, 2026, 10, 25, 2, 30) == first_0230
    assert add_business_time(
        calendar, local(BERLIN, 2026, 10, 24, 12), hours(1)
    ) == first_0230 + hours(1)
    sunday = local(BERLIN, 2026, 10, 25)
    assert business_time_between(calendar, sunday, sunday + timedelta(days=1)) == hours(2.5)
    ends_in_fold = BusinessCalendar(
        hours=WeeklyHours.build(sun="01:00-02:30"), timezone="Europe/Berlin", country=None
    )
    assert business_time_between(ends_in_fold, sunday, sunday + timedelta(days=1)) == hours(2.5)
    assert add_business_time(ends_in_fold, sunday, hours(2.5)) == local(
        BERLIN, 2026, 10, 25, 2, 30, fold=1
    )


def test_a_zone_with_a_30_minute_change() -> None:
    calendar = BusinessCalendar.always_open("Australia/Lord_Howe")
    # 5 April 2026: 02:00 +11:00 -> 01:30 +10:30.
    day = business_time_between(
        calendar,
        datetime(2026, 4, 5, tzinfo=calendar.zone),
        datetime(2026, 4, 6, tzinfo=calendar.zone),
    )
    assert day == hours(24.5)
