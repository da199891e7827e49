"""Business calendars: weekly hours, public holidays, closed dates and make-up working days.

A :class:`BusinessCalendar` is a frozen, validated value (msgspec Struct) that
answers one question: which wall-clock periods are worked on a given local
date. It is the input of the pure SLA clock in :mod:`helpdesk.sla.clock`.

Which hours apply on a date, first match wins:

1. a custom make-up day (``makeup_days``): its own periods, or the hours of the
   weekday it names (this is also how a business works through one of the
   library's public holidays that it does not observe);
2. a custom closed date (``closed_dates``): closed;
3. an official make-up working day published by the ``holidays`` library
   (``official_makeup_days``, e.g. Saturday 2026-08-22 in Vietnam, paying for
   Monday 2026-08-31 off): the hours of ``makeup_hours_of``;
4. a public holiday of ``country`` from the ``holidays`` library: closed;
5. otherwise the weekly hours of that weekday.

About the ``holidays`` library (0.108) for Vietnam: Tết Nguyên Đán is New
Year's Eve plus the first four days (five days); Giỗ Tổ Hùng Vương (10/3 lunar)
is included. With ``observed=True`` a holiday falling on a weekend adds an
observed day off (Giỗ Tổ on Sunday 2026-04-26 adds Monday 2026-04-27; Tết days
on a weekend add "29 Tết" or "Mùng năm"). Government swaps ("ngày nghỉ thay
cho ngày …") appear as an extra holiday; the Saturday worked in exchange is
in the library's ``weekend_workdays``, which ``official_makeup_days`` honours.
Longer Tết breaks that a business grants on top belong in ``closed_dates``.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import msgspec

from helpdesk.errors import ValidationError
from helpdesk.sla._timeline import Hours, Timeline
from helpdesk.sla.hours import (
    WEEKDAYS,
    MakeUpDay,
    Period,
    Weekday,
    WeeklyHours,
    compile_periods,
    compile_week,
    periods_of,
)

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

__all__ = ["WEEKDAYS", "BusinessCalendar", "MakeUpDay", "Period", "Weekday", "WeeklyHours"]


class BusinessCalendar(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, dict=True
):
    """When a business works: weekly hours in an IANA zone, minus holidays, plus make-up days.

    Construction validates everything and raises
    :class:`helpdesk.errors.ValidationError` naming the field and the problem
    (the error's ``extra["field"]``). Instances are immutable and hashable;
    derived data (compiled hours, holidays per year, intervals per date) is
    computed lazily, cached, and shared between equal calendars.

    Not promised: the ``holidays`` library's data is taken as published (its
    future lunar dates and swaps may change between releases, and a swap the
    government announces late is only known after upgrading).
    """

    hours: WeeklyHours
    timezone: str = "Asia/Ho_Chi_Minh"
    country: str | None = "VN"
    subdivision: str | None = None
    observed: bool = True
    official_makeup_days: bool = True
    makeup_hours_of: Weekday = "mon"
    closed_dates: tuple[dt.date, ...] = ()
    makeup_days: tuple[MakeUpDay, ...] = ()

    def __post_init__(self) -> None:
        _check_timezone(self.timezone)
        week = compile_week(self.hours)
        self.__dict__["_week"] = week  # seed the cached_property below
        if not any(week):
            raise ValidationError(
                "hours: no working time in the week; give at least one period "
                "(24/7 is 00:00-24:00 on every day)",
                field="hours",
            )
        _check_country(self.country, self.subdivision)
        _check_makeup_days(self, week)

    # --- constructors -------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> BusinessCalendar:
        """Build from plain data (a dict decoded from JSON): dates as ``"YYYY-MM-DD"``.

        Raises :class:`helpdesk.errors.ValidationError` for any problem, with
        msgspec's path (``$.hours.mon[0]``) when the shape is wrong.
        """
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise ValidationError(f"invalid business calendar: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data that :meth:`from_dict` reads back to an equal calendar."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24/7 calendar: every day 00:00–24:00, no holidays."""
        day = (Period("00:00", "24:00"),)
        return cls(
            hours=WeeklyHours(day, day, day, day, day, day, day),
            timezone=timezone,
            country=None,
            official_makeup_days=False,
        )

    # --- queries ------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def hours_on(self, day: dt.date) -> tuple[Period, ...]:
        """The periods worked on this local date, sorted, touching ones joined (empty: closed)."""
        return periods_of(
            self._exception_hours(day.year).get(day.toordinal(), self._week[day.weekday()])
        )

    def public_holidays(self, year: int) -> frozenset[dt.date]:
        """Days off of ``country`` in ``year``, observed days included (none without country)."""
        if self.country is None:
            return frozenset()
        return _library_days(self.country, self.subdivision, self.observed, year)[0]

    def official_makeup_dates(self, year: int) -> frozenset[dt.date]:
        """The library's make-up working days in ``year`` (empty when not honoured)."""
        if self.country is None or not self.official_makeup_days:
            return frozenset()
        return _library_days(self.country, self.subdivision, self.observed, year)[1]

    # --- compiled form (private to the sla package) -------------------------

    @cached_property
    def _week(self) -> tuple[Hours, ...]:
        return compile_week(self.hours)

    @cached_property
    def _timeline(self) -> Timeline:
        """The compiled calendar the clock walks; shared by equal calendars."""
        return _timeline_for(self)

    @cached_property
    def _years(self) -> dict[int, dict[int, Hours]]:
        return {}

    def _exception_hours(self, year: int) -> dict[int, Hours]:
        """Ordinal → hours for the dates of ``year`` whose hours differ from their weekday's."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        week = self._week
        makeup_hours = week[WEEKDAYS.index(self.makeup_hours_of)]
        hours: dict[int, Hours] = {}
        for day in self.public_holidays(year):
            hours[day.toordinal()] = ()
        for day in self.official_makeup_dates(year):
            hours[day.toordinal()] = makeup_hours
        for day in self.closed_dates:
            if day.year == year:
                hours[day.toordinal()] = ()
        for makeup in self.makeup_days:
            if makeup.date.year == year:
                hours[makeup.date.toordinal()] = _makeup_hours(makeup, week, self.makeup_hours_of)
        result = {
            ordinal: day_hours
            for ordinal, day_hours in hours.items()
            if day_hours != week[dt.date.fromordinal(ordinal).weekday()]
        }
        self._years[year] = result
        return result


# --- helpers ------------------------------------------------------------------


@lru_cache(maxsize=64)
def _timeline_for(calendar: BusinessCalendar) -> Timeline:
    return Timeline(calendar.zone, calendar._week, calendar._exception_hours)


@lru_cache(maxsize=512)
def _library_days(
    country: str, subdivision: str | None, observed: bool, year: int
) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """Public holidays and official make-up days of one year, from the ``holidays`` library."""
    days = holidays.country_holidays(country, subdiv=subdivision, years=year, observed=observed)
    off = frozenset(day for day in days if day.year == year)
    worked = frozenset(day for day in days.weekend_workdays if day.year == year)
    return off, worked - off


def _makeup_hours(makeup: MakeUpDay, week: tuple[Hours, ...], default: Weekday) -> Hours:
    if makeup.periods is not None:
        return compile_periods(makeup.periods, "makeup_days.periods")
    return week[WEEKDAYS.index(makeup.hours_of or default)]


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(
            f"timezone: unknown time zone {name!r}; use an IANA name such as 'Asia/Ho_Chi_Minh'",
            field="timezone",
        ) from None


@lru_cache(maxsize=256)  # only successes are cached; a bad code raises every time
def _check_country(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise ValidationError("subdivision: a subdivision needs a country", field="subdivision")
        return
    # Loads that country's module only (list_supported_countries() imports all 250).
    try:
        if not _COUNTRY_CODE.match(country):
            raise NotImplementedError(country)
        holidays.country_holidays(country)
    except NotImplementedError:
        raise ValidationError(
            f"country: unknown country code {country!r} for public holidays; use an upper-case "
            "ISO 3166-1 alpha-2 code such as 'VN', or null for no public holidays",
            field="country",
        ) from None
    if subdivision is not None:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            raise ValidationError(
                f"subdivision: {country!r} has no subdivision {subdivision!r}",
                field="subdivision",
            ) from None


def _check_makeup_days(calendar: BusinessCalendar, week: tuple[Hours, ...]) -> None:
    closed = set(calendar.closed_dates)
    seen: set[dt.date] = set()
    for index, makeup in enumerate(calendar.makeup_days):
        field = f"makeup_days[{index}]"
        if makeup.date in seen:
            raise ValidationError(f"{field}: {makeup.date} is listed twice", field=field)
        seen.add(makeup.date)
        if makeup.date in closed:
            raise ValidationError(
                f"{field}: {makeup.date} is also in closed_dates; a date cannot be both closed "
                "and a make-up working day",
                field=field,
            )
        if makeup.periods is not None:
            hours = compile_periods(makeup.periods, f"{field}.periods")
        else:
            hours = week[WEEKDAYS.index(makeup.hours_of or calendar.makeup_hours_of)]
        if not hours:
            weekday = makeup.hours_of or calendar.makeup_hours_of
            raise ValidationError(
                f"{field}: {makeup.date} would have no working hours ({weekday!r} has none)",
                field=field,
            )
