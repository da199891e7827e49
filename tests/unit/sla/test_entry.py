"""Times, dates and periods as people type them; countries by name; the calendar preview."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk.sla.calendar import BusinessCalendar, WeeklyHours
from helpdesk.sla.countries import UnknownCountryError, country_choices, resolve_country
from helpdesk.sla.entry import (
    EntryError,
    format_date,
    parse_date,
    parse_period,
    parse_periods,
    parse_time,
)
from helpdesk.sla.hours import Period
from helpdesk.sla.preview import preview_calendar


@pytest.mark.parametrize(
    ("typed", "time"),
    [("8:00", "08:00"), ("08:00", "08:00"), ("8h", "08:00"), ("8h30", "08:30"),
     ("08:30", "08:30"), (" 13H05 ", "13:05"), ("17g30", "17:30"), ("24:00", "24:00"),
     ("0:00", "00:00"), ("9", "09:00")],
)  # fmt: skip
def test_times_in_the_ways_people_write_them(typed: str, time: str) -> None:
    assert parse_time(typed) == time


@pytest.mark.parametrize(
    "typed", ["", "25:00", "24:30", "8:7", "8:60", "8 giờ", "8.30", "x", "800"]
)
def test_what_is_not_a_time(typed: str) -> None:
    with pytest.raises(EntryError) as refused:
        parse_time(typed)
    assert refused.value.reason == "time"


@pytest.mark.parametrize(
    "typed", ["16/02/2027", "16-02-2027", "2027-02-16", "16.02.2027", "16/2/2027", " 16/02/2027 "]
)
def test_dates_day_first_or_iso(typed: str) -> None:
    assert parse_date(typed) == dt.date(2027, 2, 16)


@pytest.mark.parametrize(
    "typed", ["02/16/2027", "30/02/2027", "16/02/27", "2027/02/16", "16 02 2027", "", "hôm nay"]
)
def test_month_first_and_impossible_dates_are_refused(typed: str) -> None:
    with pytest.raises(EntryError) as refused:
        parse_date(typed)
    assert refused.value.reason == "date"


def test_day_first_wins_where_both_orders_fit() -> None:
    # 03/04 is the 3rd of April for a Vietnamese reader, never the 4th of March
    assert parse_date("03/04/2027") == dt.date(2027, 4, 3)
    assert format_date(dt.date(2027, 4, 3)) == "03/04/2027"
    assert parse_date(format_date(dt.date(2027, 12, 31))) == dt.date(2027, 12, 31)


def test_periods() -> None:
    assert parse_period("8h-12h") == Period("08:00", "12:00")
    assert parse_period("13:30 – 17:30") == Period("13:30", "17:30")
    assert parse_periods("8h-12h, 13h30-17h30;") == (
        Period("08:00", "12:00"),
        Period("13:30", "17:30"),
    )
    assert parse_periods(" ") == ()
    for bad in ("8h", "8h-12h-13h", "8h-25h", "sáng"):
        with pytest.raises(EntryError) as refused:
            parse_periods(bad)
        assert (refused.value.reason, refused.value.text) == ("period", bad)


def test_countries_by_code_or_name_never_guessed() -> None:
    for typed in ("VN", "vn", "Vietnam", "Việt Nam", "viet nam", "VIỆT NAM"):
        assert resolve_country(typed) == "VN"
    assert resolve_country("United States") == "US"
    assert resolve_country("Hoa Kỳ") == "US"
    assert resolve_country("") is None
    for unknown in ("Vietnamm", "VNM", "Viet", "XX"):
        with pytest.raises(UnknownCountryError):
            resolve_country(unknown)
    vi, en = country_choices("vi"), country_choices("en")
    assert (vi[0], en[0]) == (("VN", "Việt Nam"), ("VN", "Vietnam"))
    assert ("VI", "Quần đảo Virgin thuộc Hoa Kỳ") in vi
    assert {code for code, _ in vi} == {code for code, _ in en}
    assert len(vi) > 100


def test_the_preview_skips_tet_and_lists_holidays_and_makeup_days() -> None:
    day = [{"start": "08:00", "end": "17:00"}]
    calendar = BusinessCalendar.from_dict(
        {
            "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), day),
            "country": "VN",
            "closed_dates": ["2027-02-11"],
            "makeup_days": [
                {"date": "2027-02-20", "periods": [{"start": "08:00", "end": "12:00"}]}
            ],
        }
    )
    preview = preview_calendar(calendar, dt.date(2027, 2, 1), locale="vi")
    days = [item.day.day for item in preview.working_days]
    assert days == [1, 2, 3, 12, 15, 16, 17, 18, 19, 20]  # Tết 4–10, closed 11, Saturday 20 worked
    assert preview.working_days[-1].periods == (Period("08:00", "12:00"),)
    kinds = {item.day: (item.kind, item.name) for item in preview.special_days}
    assert kinds[dt.date(2027, 2, 6)] == ("holiday", "Tết Nguyên Đán")
    assert kinds[dt.date(2027, 2, 11)] == ("closed", "")
    assert kinds[dt.date(2027, 2, 20)] == ("makeup", "")
    assert preview.end == dt.date(2028, 2, 1)
    assert all(preview.start <= item.day <= preview.end for item in preview.special_days)
    english = preview_calendar(calendar, dt.date(2027, 2, 1), locale="en")
    assert "Lunar New Year" in {item.name for item in english.special_days}


def test_the_preview_of_a_calendar_without_a_country() -> None:
    calendar = BusinessCalendar(hours=WeeklyHours.build(sat="08:00-12:00"), country=None)
    preview = preview_calendar(calendar, dt.date(2027, 2, 1), working_days=3)
    assert [item.day for item in preview.working_days] == [
        dt.date(2027, 2, 6),
        dt.date(2027, 2, 13),
        dt.date(2027, 2, 20),
    ]
    assert preview.special_days == ()
