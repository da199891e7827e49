"""What people type for calendars: times of day, dates and working periods.

Pure parsing, no web: the forms of the console (and any later face) call it.
Times take ``8:00``, ``08:00``, ``8h``, ``8h30``, ``08:30`` and ``24:00``;
dates take the Vietnamese day-first order ``16/02/2027`` or ``16-02-2027``
(also ``16.02.2027``) and ISO ``2027-02-16``. A date is never read month-first.
Every refusal is a :class:`EntryError` whose ``reason`` (``"time"``,
``"date"``, ``"period"``) lets the caller choose the words it shows.
"""

from __future__ import annotations

import datetime as dt
import re

from helpdesk.errors import ValidationError
from helpdesk.sla.hours import Period

__all__ = ["EntryError", "format_date", "parse_date", "parse_period", "parse_periods", "parse_time"]

_TIME = re.compile(r"^(\d{1,2})\s*(?:(?::|h|g)\s*(\d{2})?)?$", re.IGNORECASE)
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DASHES = re.compile(r"\s*[-–—]\s*")
MAX_TEXT = 200


class EntryError(ValidationError):
    """Typed text that is not a time, a date or a period; ``reason`` says which."""

    code = "entry_invalid"

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{text[:MAX_TEXT]!r} is not a valid {reason}", reason=reason, text=text)
        self.reason = reason
        self.text = text[:MAX_TEXT]


def parse_time(text: str) -> str:
    """A time of day as ``"HH:MM"`` (``"24:00"`` allowed, for the end of a day).

    Raises :class:`EntryError` (reason ``"time"``) for anything else, such as
    ``25:00``, ``8:7`` or ``8 giờ``.
    """
    match = _TIME.match(text.strip())
    if match is None:
        raise EntryError("time", text)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise EntryError("time", text)
    return f"{hour:02d}:{minute:02d}"


def parse_date(text: str) -> dt.date:
    """A calendar date: ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` or ``yyyy-mm-dd``.

    Raises :class:`EntryError` (reason ``"date"``) for anything else, including
    an impossible date such as ``30/02/2027`` or a month-first ``02/16/2027``.
    """
    value = text.strip()
    iso, day_first = _ISO.match(value), _DAY_FIRST.match(value)
    try:
        if iso:
            return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if day_first:
            day, month, year = (int(part) for part in day_first.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise EntryError("date", text)


def format_date(day: dt.date) -> str:
    """A date as Vietnamese readers write it: ``16/02/2027``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def parse_period(text: str) -> Period:
    """One working period such as ``8h-12h`` or ``13:30 – 17:30`` (times as in
    :func:`parse_time`). Whether it is empty or inverted is checked by the
    calendar, which names the day."""
    parts = _DASHES.split(text.strip())
    if len(parts) != 2:
        raise EntryError("period", text)
    try:
        return Period(parse_time(parts[0]), parse_time(parts[1]))
    except EntryError:
        raise EntryError("period", text) from None


def parse_periods(text: str) -> tuple[Period, ...]:
    """A day's periods separated by commas or semicolons (empty text: closed)."""
    return tuple(parse_period(part) for part in re.split(r"[,;]", text) if part.strip())
