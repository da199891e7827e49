"""Business calendars: Vietnamese holidays, which hours apply on a date, validation, JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import holidays
import pytest
from hypothesis import given

from helpdesk.errors import ValidationError
from helpdesk.sla import BusinessCalendar, MakeUpDay, Period, WeeklyHours
from tests.unit.sla._support import PROPERTY, VN_OFFICE, calendars

FULL_DAY = (Period("08:00", "12:00"), Period("13:30", "17:30"))
SATURDAY = (Period("08:00", "12:00"),)


# --- what the holidays library says about Vietnam (pinned at 0.108) -------------


def test_library_has_tet_and_hung_kings_day_in_2026() -> None:
    days = holidays.country_holidays("VN", years=2026, language="vi")
    assert {d: days[d] for d in days if date(2026, 2, 15) <= d <= date(2026, 2, 21)} == {
        date(2026, 2, 16): "Giao thừa Tết Nguyên Đán",
        date(2026, 2, 17): "Tết Nguyên Đán",
        date(2026, 2, 18): "Mùng hai Tết Nguyên Đán",
        date(2026, 2, 19): "Mùng ba Tết Nguyên Đán",
        date(2026, 2, 20): "Mùng bốn Tết Nguyên Đán",
    }
    # Giỗ Tổ Hùng Vương falls on a Sunday: the library adds the Monday off (nghỉ bù).
    assert days[date(2026, 4, 26)] == "Ngày Giỗ Tổ Hùng Vương"
    assert days[date(2026, 4, 27)] == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"


def test_library_extends_tet_2027_around_the_weekend() -> None:
    # Tết 2027 is Saturday 6 February; the weekend days are paid back with
    # "29 Tết" before and "Mùng năm" after: seven days off, Thursday to Wednesday.
    days = holidays.country_holidays("VN", years=2027)
    tet = sorted(d for d in days if d.month == 2)
    assert tet == [date(2027, 2, d) for d in range(4, 11)]


def test_library_swap_gives_a_day_off_and_a_saturday_worked() -> None:
    days = holidays.country_holidays("VN", years=2026)
    assert date(2026, 8, 31) in days  # Monday off …
    assert date(2026, 8, 22) in days.weekend_workdays  # … paid back on Saturday 22 August


# --- hours on a date ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected", "why"),
    [
        (date(2026, 3, 2), FULL_DAY, "an ordinary Monday"),
        (date(2026, 3, 7), SATURDAY, "an ordinary Saturday: mornings only"),
        (date(2026, 3, 8), (), "Sunday"),
        (date(2026, 1, 1), (), "Tết Dương lịch"),
        (date(2026, 2, 16), (), "Giao thừa"),
        (date(2026, 2, 20), (), "Mùng bốn Tết"),
        (date(2026, 2, 21), SATURDAY, "the Saturday after Tết is an ordinary Saturday"),
        (date(2026, 4, 27), (), "Giỗ Tổ Hùng Vương, observed on Monday"),
        (date(2026, 8, 22), FULL_DAY, "official make-up Saturday works Monday's hours"),
        (date(2026, 8, 31), (), "the day off it pays for"),
        (date(2026, 11, 24), (), "Ngày Văn hóa Việt Nam (from 2026)"),
        (date(2027, 2, 4), (), "29 Tết 2027"),
        (date(2027, 2, 10), (), "Mùng năm Tết 2027"),
        (date(2027, 2, 11), FULL_DAY, "back to work"),
    ],
)
def test_vietnam_office_hours_on(day: date, expected: tuple[Period, ...], why: str) -> None:
    assert VN_OFFICE.hours_on(day) == expected, why


def test_precedence_custom_makeup_then_closed_then_official_makeup_then_holiday() -> None:
    calendar = BusinessCalendar(
        hours=VN_OFFICE.hours,
        closed_dates=(date(2026, 2, 21), date(2026, 8, 22)),  # extend Tết; skip the make-up day
        makeup_days=(
            MakeUpDay(date=date(2026, 2, 28), hours_of="fri"),  # a Saturday worked in full
            MakeUpDay(date=date(2026, 8, 31)),  # work through the swapped day off
            MakeUpDay(date=date(2026, 3, 1), periods=(Period.of("09:00-11:00"),)),  # Sunday
        ),
    )
    assert calendar.hours_on(date(2026, 2, 21)) == ()
    assert calendar.hours_on(date(2026, 8, 22)) == ()
    assert calendar.hours_on(date(2026, 2, 28)) == FULL_DAY
    assert calendar.hours_on(date(2026, 8, 31)) == FULL_DAY
    assert calendar.hours_on(date(2026, 3, 1)) == (Period("09:00", "11:00"),)


def test_options_for_the_library_days() -> None:
    no_observed = BusinessCalendar(hours=VN_OFFICE.hours, observed=False)
    assert no_observed.hours_on(date(2026, 4, 27)) == FULL_DAY
    no_makeup = BusinessCalendar(hours=VN_OFFICE.hours, official_makeup_days=False)
    assert no_makeup.hours_on(date(2026, 8, 22)) == SATURDAY
    saturday_hours = BusinessCalendar(hours=VN_OFFICE.hours, makeup_hours_of="sat")
    assert saturday_hours.hours_on(date(2026, 8, 22)) == SATURDAY
    no_country = BusinessCalendar(hours=VN_OFFICE.hours, country=None)
    assert no_country.hours_on(date(2026, 2, 17)) == FULL_DAY
    assert no_country.public_holidays(2026) == frozenset()


def test_other_countries_and_subdivisions() -> None:
    california = BusinessCalendar(
        hours=WeeklyHours.build(mon_fri="09:00-17:00"),
        timezone="America/Los_Angeles",
        country="US",
        subdivision="CA",
    )
    assert california.hours_on(date(2026, 11, 26)) == ()  # Thanksgiving
    assert california.hours_on(date(2026, 3, 31)) == ()  # César Chávez Day, California only


def test_touching_periods_are_joined_and_order_does_not_matter() -> None:
    calendar = BusinessCalendar(
        hours=WeeklyHours(mon=(Period("12:00", "17:00"), Period("08:00", "12:00"))), country=None
    )
    assert calendar.hours_on(date(2026, 3, 2)) == (Period("08:00", "17:00"),)


def test_always_open() -> None:
    calendar = BusinessCalendar.always_open("Asia/Ho_Chi_Minh")
    assert calendar.hours_on(date(2026, 2, 17)) == (Period("00:00", "24:00"),)


def test_weekly_hours_shorthand() -> None:
    week = WeeklyHours.build(mon_wed="08:00–12:00", sun=("10:00-11:00", "14:00-15:00"))
    assert week.mon == week.tue == week.wed == (Period("08:00", "12:00"),)
    assert week.thu == ()
    assert week.sun == (Period("10:00", "11:00"), Period("14:00", "15:00"))
    with pytest.raises(ValidationError, match="unknown weekday 'monday'"):
        WeeklyHours.build(monday="08:00-12:00")
    with pytest.raises(ValidationError, match="empty range of weekdays 'fri_mon'"):
        WeeklyHours.build(fri_mon="08:00-12:00")
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        Period.of("08:00")


# --- validation -----------------------------------------------------------------

MON = WeeklyHours.build(mon="08:00-12:00")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Asia/Hanoi"}, "timezone: unknown time zone 'Asia/Hanoi'"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"timezone": ""}, "unknown time zone"),
        (
            {"hours": WeeklyHours.build(tue=("08:00-12:00", "11:00-13:00"))},
            "hours.tue: periods 08:00–12:00 and 11:00–13:00 overlap",
        ),
        (
            {"hours": WeeklyHours(wed=(Period("17:30", "13:30"),))},
            r"hours.wed\[0\]: period 17:30–13:30 ends before it starts",
        ),
        ({"hours": WeeklyHours(wed=(Period("09:00", "09:00"),))}, "period 09:00–09:00 is empty"),
        ({"hours": WeeklyHours(fri=(Period("22:00", "24:30"),))}, "'24:30' is not a time of day"),
        ({"hours": WeeklyHours(fri=(Period("24:00", "24:00"),))}, "24:00–24:00 is empty"),
        ({"hours": WeeklyHours(fri=(Period("8:00", "12:00"),))}, "'8:00' is not a time of day"),
        ({"hours": WeeklyHours(fri=(Period("-01:00", "12:00"),))}, "is not a time of day"),
        ({"hours": WeeklyHours()}, "hours: no working time in the week"),
        ({"country": "XX"}, "country: unknown country code 'XX'"),
        ({"country": "vn"}, "unknown country code 'vn'.*upper-case"),
        ({"country": "US", "subdivision": "ZZ"}, "'US' has no subdivision 'ZZ'"),
        ({"country": None, "subdivision": "CA"}, "a subdivision needs a country"),
        (
            {
                "closed_dates": (date(2026, 8, 22),),
                "makeup_days": (MakeUpDay(date=date(2026, 8, 22)),),
            },
            r"makeup_days\[0\]: 2026-08-22 is also in closed_dates",
        ),
        (
            {"makeup_days": (MakeUpDay(date=date(2026, 8, 22)), MakeUpDay(date=date(2026, 8, 22)))},
            r"makeup_days\[1\]: 2026-08-22 is listed twice",
        ),
        (
            {"makeup_days": (MakeUpDay(date=date(2026, 8, 22), hours_of="sun"),)},
            r"makeup_days\[0\]: 2026-08-22 would have no working hours \('sun' has none\)",
        ),
        (
            {
                "makeup_days": (
                    MakeUpDay(date=date(2026, 8, 22), periods=(Period("9:00", "10:00"),)),
                )
            },
            r"makeup_days\[0\].periods\[0\]: '9:00'",
        ),
    ],
)
def test_invalid_calendars_are_refused_with_the_problem_named(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        BusinessCalendar(**{"hours": MON, **fields})
    assert raised.value.code == "validation_error"
    assert raised.value.extra["field"]


def test_from_dict_reads_json_shapes() -> None:
    calendar = BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Ho_Chi_Minh",
            "hours": {
                "mon": [{"start": "08:00", "end": "12:00"}, {"start": "13:30", "end": "17:30"}],
                "sat": [{"start": "08:00", "end": "12:00"}],
            },
            "closed_dates": ["2026-02-21"],
            "makeup_days": [{"date": "2026-02-28", "hours_of": "mon"}],
        }
    )
    assert calendar.closed_dates == (date(2026, 2, 21),)
    assert calendar.hours_on(date(2026, 2, 28)) == FULL_DAY
    assert calendar.hours_on(date(2026, 2, 21)) == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": {"mon": []}, "colour": "red"}, "unknown field `colour`"),
        ({"hours": {"mon": [{"start": 8, "end": "12:00"}]}}, r"\$.hours.mon\[0\].start"),
        ({"hours": {"funday": []}}, "unknown field `funday`"),
        (
            {"hours": {"mon": [{"start": "08:00", "end": "12:00"}]}, "closed_dates": ["soon"]},
            "date",
        ),
        ({"hours": {"mon": [{"start": "08:00", "end": "12:00"}]}, "makeup_hours_of": "x"}, "enum"),
        (
            {"timezone": "Mars/Olympus", "hours": {"mon": [{"start": "08:00", "end": "12:00"}]}},
            "Mars",
        ),
        ({}, "missing required field `hours`"),
    ],
)
def test_from_dict_refuses_bad_data(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar.from_dict(data)


@PROPERTY
@given(calendars())
def test_to_dict_from_dict_round_trip(calendar: BusinessCalendar) -> None:
    again = BusinessCalendar.from_dict(json.loads(json.dumps(calendar.to_dict())))
    assert again == calendar
    assert hash(again) == hash(calendar)
