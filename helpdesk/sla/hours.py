"""Weekly working hours as values: periods of a day, the week, make-up days.

These are plain, frozen msgspec Structs, checked when a
:class:`~helpdesk.sla.calendar.BusinessCalendar` is built from them (so the
error can name the field), and compiled here to microseconds since local
midnight for the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from itertools import pairwise
from typing import Literal, get_args

import msgspec

from helpdesk.errors import ValidationError
from helpdesk.sla._timeline import Hours, merge_spans

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
"""A day of the week, in the order of :meth:`datetime.date.weekday` (0 = Monday)."""
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)

_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
_US_PER_MINUTE = 60_000_000


class Period(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One working period of a day, in local wall-clock time: ``start`` ≤ t < ``end``.

    Times are ``"HH:MM"``; ``end`` may be ``"24:00"`` (midnight at the end of
    the day). A period never crosses midnight: a night shift is two periods on
    two days. Checked when used in a :class:`BusinessCalendar`, not before.
    """

    start: str
    end: str

    @classmethod
    def of(cls, text: str) -> Period:
        """Parse ``"08:00-12:00"`` (a hyphen or an en dash)."""
        start, sep, end = text.replace("–", "-").partition("-")
        if not sep:
            raise ValidationError(f"period {text!r} is not of the form HH:MM-HH:MM")
        return cls(start.strip(), end.strip())

    def __str__(self) -> str:
        return f"{self.start}–{self.end}"


class WeeklyHours(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The periods worked on each day of an ordinary week (an empty day is closed)."""

    mon: tuple[Period, ...] = ()
    tue: tuple[Period, ...] = ()
    wed: tuple[Period, ...] = ()
    thu: tuple[Period, ...] = ()
    fri: tuple[Period, ...] = ()
    sat: tuple[Period, ...] = ()
    sun: tuple[Period, ...] = ()

    def of(self, weekday: Weekday) -> tuple[Period, ...]:
        """The periods of one weekday."""
        periods: tuple[Period, ...] = getattr(self, weekday)
        return periods

    @classmethod
    def build(cls, **days: str | tuple[str, ...]) -> WeeklyHours:
        """Shorthand: ``WeeklyHours.build(mon=("08:00-12:00", "13:30-17:30"), sat="08:00-12:00")``.

        A key may name a range of days, ``mon_fri=…``.
        """
        result: dict[str, tuple[Period, ...]] = {}
        for key, value in days.items():
            texts = (value,) if isinstance(value, str) else value
            first, _, last = key.partition("_")
            if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                raise ValidationError(f"unknown weekday {key!r}; use mon … sun or mon_fri")
            span = WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last or first) + 1]
            if not span:
                raise ValidationError(f"empty range of weekdays {key!r}; write it Monday first")
            for weekday in span:
                result[weekday] = tuple(Period.of(text) for text in texts)
        return cls(**result)


class MakeUpDay(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A date worked although it is normally closed (ngày làm bù), or worked differently.

    It works ``periods`` when given, else the hours of the weekday
    ``hours_of``, else those of the calendar's ``makeup_hours_of``.
    """

    date: dt.date
    hours_of: Weekday | None = None
    periods: tuple[Period, ...] | None = None


def _minutes(text: str, field: str) -> int:
    match = _TIME.match(text)
    if match is None:
        raise ValidationError(
            f"{field}: {text!r} is not a time of day between 00:00 and 24:00 in HH:MM form",
            field=field,
        )
    hour, minute = (match.group(1), match.group(2)) if match.group(1) else ("24", "00")
    return int(hour) * 60 + int(minute)


def compile_periods(periods: tuple[Period, ...], field: str) -> Hours:
    """Check one day's periods and return them as sorted, joined µs spans.

    Raises ValidationError naming ``field`` for a malformed time, an empty or
    inverted period, or two periods that overlap (touching ones are joined).
    """
    spans: list[tuple[int, int, Period]] = []
    for index, period in enumerate(periods):
        where = f"{field}[{index}]"
        start, end = _minutes(period.start, where), _minutes(period.end, where)
        if end <= start:
            problem = "is empty" if end == start else "ends before it starts"
            raise ValidationError(f"{where}: period {period} {problem}", field=where)
        spans.append((start, end, period))
    spans.sort(key=lambda span: span[:2])
    for (_, previous_end, previous), (start, _, period) in pairwise(spans):
        if start < previous_end:
            raise ValidationError(f"{field}: periods {previous} and {period} overlap", field=field)
    return merge_spans([(s * _US_PER_MINUTE, e * _US_PER_MINUTE) for s, e, _ in spans])


@lru_cache(maxsize=256)
def compile_week(hours: WeeklyHours) -> tuple[Hours, ...]:
    """The seven days' spans, Monday first; see :func:`compile_periods` (memoised)."""
    return tuple(compile_periods(hours.of(day), f"hours.{day}") for day in WEEKDAYS)


def periods_of(hours: Hours) -> tuple[Period, ...]:
    """Compiled spans back to periods (whole minutes, as every compiled span is)."""

    def text(us: int) -> str:
        minutes = us // _US_PER_MINUTE
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return tuple(Period(text(start), text(end)) for start, end in hours)
