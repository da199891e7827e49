"""What a business calendar means in practice: its next working days and the
holidays and make-up working days of the coming year.

Computed with :meth:`BusinessCalendar.hours_on`, the hours the SLA clock
counts, so the preview and the deadlines cannot disagree. Holiday names come
from the ``holidays`` library in the reader's language when it has them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import msgspec

from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.hours import WEEKDAYS, Period, Weekday

__all__ = ["CalendarPreview", "DayHours", "SpecialDay", "preview_calendar"]

LIBRARY_LANGUAGES = {"vi": "vi", "en": "en_US"}
WORKING_DAYS = 10
HORIZON_DAYS = 366  # twelve months from today
MAX_SCAN_DAYS = 400  # a calendar open one day a year still ends the search


class DayHours(msgspec.Struct, frozen=True):
    """One date and the periods worked on it."""

    day: dt.date
    periods: tuple[Period, ...]


class SpecialDay(msgspec.Struct, frozen=True, kw_only=True):
    """A date whose hours differ from its weekday's.

    ``kind``: ``"holiday"`` (a public holiday or an observed day off),
    ``"closed"`` (a closed date of the calendar) or ``"makeup"`` (a make-up
    working day, with its ``periods``). ``name``: the holiday's name, if known.
    """

    day: dt.date
    kind: str
    name: str = ""
    periods: tuple[Period, ...] = ()


class CalendarPreview(msgspec.Struct, frozen=True, kw_only=True):
    """The next working days from ``start`` and the special days up to ``end``."""

    start: dt.date
    end: dt.date
    working_days: tuple[DayHours, ...]
    special_days: tuple[SpecialDay, ...]


def _working_days(calendar: BusinessCalendar, start: dt.date, count: int) -> tuple[DayHours, ...]:
    found: list[DayHours] = []
    for offset in range(MAX_SCAN_DAYS):
        day = start + dt.timedelta(days=offset)
        periods = calendar.hours_on(day)
        if periods:
            found.append(DayHours(day, periods))
            if len(found) == count:
                break
    return tuple(found)


@lru_cache(maxsize=64)
def _names(
    country: str, subdivision: str | None, observed: bool, year: int, language: str
) -> dict[dt.date, str]:
    try:
        days = holidays.country_holidays(
            country, subdiv=subdivision, years=year, observed=observed, language=language
        )
    except NotImplementedError:
        return {}
    return dict(days.items())


def _holiday_name(calendar: BusinessCalendar, day: dt.date, locale: str) -> str:
    if calendar.country is None:
        return ""
    language = LIBRARY_LANGUAGES.get(locale, "en_US")
    names = _names(calendar.country, calendar.subdivision, calendar.observed, day.year, language)
    return names.get(day, "")


def _special(calendar: BusinessCalendar, day: dt.date, locale: str) -> SpecialDay | None:
    periods = calendar.hours_on(day)
    weekly = calendar.hours.of(_weekday(day))
    if periods and (not weekly or day in _makeup_dates(calendar, day.year)):
        return SpecialDay(day=day, kind="makeup", periods=periods)
    if periods:
        return None
    if day in calendar.public_holidays(day.year):
        return SpecialDay(day=day, kind="holiday", name=_holiday_name(calendar, day, locale))
    if day in calendar.closed_dates:
        return SpecialDay(day=day, kind="closed")
    return None


def _weekday(day: dt.date) -> Weekday:
    return WEEKDAYS[day.weekday()]


def _makeup_dates(calendar: BusinessCalendar, year: int) -> frozenset[dt.date]:
    custom = {m.date for m in calendar.makeup_days if m.date.year == year}
    return calendar.official_makeup_dates(year) | custom


def preview_calendar(
    calendar: BusinessCalendar,
    today: dt.date,
    *,
    locale: str = "vi",
    working_days: int = WORKING_DAYS,
    horizon_days: int = HORIZON_DAYS,
) -> CalendarPreview:
    """The next ``working_days`` working days from ``today`` (included) with
    their hours, and every holiday, closed date and make-up working day from
    ``today`` for ``horizon_days`` days (a holiday on a weekend is listed
    too: it may add an observed day off after it)."""
    end = today + dt.timedelta(days=horizon_days - 1)
    special = []
    for offset in range(horizon_days):
        found = _special(calendar, today + dt.timedelta(days=offset), locale)
        if found is not None:
            special.append(found)
    return CalendarPreview(
        start=today,
        end=end,
        working_days=_working_days(calendar, today, working_days),
        special_days=tuple(special),
    )
