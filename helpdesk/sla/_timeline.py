"""The compiled form of a business calendar: working spans per local date, in epoch microseconds.

Everything here works on integers (microseconds since 1970-01-01 UTC), so the
arithmetic is exact and the algebra of the clock (``add(add(t, a), b) ==
add(t, a + b)``) holds to the microsecond. :mod:`helpdesk.sla.clock` converts
datetimes at the edge.

How a wall-clock period of a local date becomes an interval of instants:

* a period *starts* at the **first** instant the clock shows its start time and
  *ends* at the **last** instant the clock shows its end time, so a period
  that contains a repeated hour (autumn) is open through both passes of it;
* a time skipped by a spring-forward change maps to the instant of the change;
* a local date runs from the first instant its clock shows 00:00 to the first
  instant the next date's clock shows 00:00, and each day's intervals are
  clipped to that range, so consecutive days never overlap or leave a gap.

A day whose UTC offset is the same at both midnights (and unambiguous there)
is *regular*: its intervals are the nominal periods shifted by one offset, no
time-zone lookups needed. The walks below jump over each run of regular days
(no holiday, closure, make-up day or offset change) in one step.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

US_PER_SECOND = 1_000_000
DAY_US = 86_400 * US_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_ORDINAL = date.max.toordinal()
_ONE_US = timedelta(microseconds=1)
_DAY_CACHE_LIMIT = 20_000

Span = tuple[int, int]
"""A half-open interval ``[start, end)`` of microseconds."""
Hours = tuple[Span, ...]
"""Working periods of one day as µs since local midnight: sorted, disjoint, not touching."""


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime ``us`` microseconds after the epoch.

    Raises OverflowError outside datetime's range (years 1–9999).
    """
    return _EPOCH + timedelta(microseconds=us)


def merge_spans(spans: list[Span]) -> Hours:
    """Sort spans, drop empty ones and join those that overlap or touch."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


@lru_cache(maxsize=256)
def _midnight_offsets(zone: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """UTC offsets (µs) at local midnight of each day of ``year`` and of the next 1 January.

    Each entry is ``(offset with fold=0, offset with fold=1)``; they differ when
    that midnight is skipped or repeated. Midnights are sampled once a week and
    bisected where the offset differs, so two changes less than a week apart
    that cancel out would go unseen (tzdata has none in the years in use).
    """
    first = datetime(year, 1, 1)  # noqa: DTZ001 - a wall-clock time, given its zone below
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days if year < 9999 else 364

    def offsets(index: int) -> tuple[int, int]:
        wall = (first + timedelta(days=index)).replace(tzinfo=zone)
        off0 = wall.utcoffset() or timedelta(0)
        off1 = wall.replace(fold=1).utcoffset() or timedelta(0)
        return off0 // _ONE_US, off1 // _ONE_US

    sampled: dict[int, int] = {}

    def at(index: int) -> int:
        if index not in sampled:
            offset = (first + timedelta(days=index)).replace(tzinfo=zone).utcoffset()
            sampled[index] = (offset or timedelta(0)) // _ONE_US
        return sampled[index]

    changes: set[int] = set()  # index i: the offset at midnight i+1 differs from midnight i

    def scan(low: int, high: int) -> None:
        if at(low) == at(high) and high - low <= 7:
            return
        if high - low == 1:
            changes.add(low)
            return
        middle = (low + high) // 2
        scan(low, middle)
        scan(middle, high)

    for low in range(0, days, 7):
        scan(low, min(low + 7, days))
    result: list[tuple[int, int]] = []
    current = at(0)
    for index in range(days + 1):
        if index - 1 in changes:
            current = at(index)
        result.append((current, current))
    # Exact values, both folds, where the offset moves and at the year's ends (a change
    # at midnight on 1 January shows only in the next year's samples).
    for near in {0, days}.union(*((index, index + 1) for index in changes)):
        result[near] = offsets(near)
    return tuple(result)


class Day(NamedTuple):
    """One local date, compiled: its range of instants and its working spans within it."""

    start: int
    end: int
    spans: Hours


class Timeline:
    """Working spans per local date of one calendar, computed lazily and cached.

    ``week`` holds the nominal hours of Monday … Sunday; ``exceptions(year)``
    returns the dates (as ordinals) of that year whose hours differ from their
    weekday's, with the hours that apply instead (empty when closed). The
    callback is called often and must cache its own result.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        week: tuple[Hours, ...],
        exceptions: Callable[[int], Mapping[int, Hours]],
    ) -> None:
        self.zone = zone
        self.week = week
        self._daily = tuple(sum(end - start for start, end in hours) for hours in week)
        self.week_total = sum(self._daily)
        self._exceptions = exceptions
        self._days: dict[int, Day] = {}
        self._irregular: dict[int, list[int]] = {}

    # --- days ---------------------------------------------------------------

    def day(self, ordinal: int) -> Day:
        """The compiled local date with this proleptic Gregorian ordinal."""
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        if not 1 <= ordinal < _MAX_ORDINAL:
            raise OverflowError("the business calendar only covers the years 1 to 9999")
        local = date.fromordinal(ordinal)
        year = local.year
        hours = self._exceptions(year).get(ordinal, self.week[local.weekday()])
        offsets = _midnight_offsets(self.zone, year)
        index = ordinal - date(year, 1, 1).toordinal()
        (off0, off1), (next0, next1) = offsets[index], offsets[index + 1]
        if off0 == off1 == next0 == next1:
            base = (ordinal - _EPOCH_ORDINAL) * DAY_US - off0
            day = Day(base, base + DAY_US, tuple((base + s, base + e) for s, e in hours))
        else:
            start = self._instant(ordinal, 0, last=False)
            end = self._instant(ordinal + 1, 0, last=False)
            spans = [
                (
                    max(self._instant(ordinal, s, last=False), start),
                    min(self._instant(ordinal, e, last=True), end),
                )
                for s, e in hours
            ]
            day = Day(start, end, merge_spans(spans))
        if len(self._days) >= _DAY_CACHE_LIMIT:
            self._days.clear()
        self._days[ordinal] = day
        return day

    def day_containing(self, us: int) -> tuple[int, Day]:
        """The local date whose range holds the instant, with its ordinal."""
        ordinal = from_us(us).astimezone(self.zone).toordinal()
        day = self.day(ordinal)
        while us >= day.end:  # only in a repeated hour across midnight
            ordinal += 1
            day = self.day(ordinal)
        return ordinal, day

    def _instant(self, ordinal: int, wall_us: int, *, last: bool) -> int:
        """The first (or last) instant whose local wall time is ``wall_us`` after midnight.

        A wall time that does not exist (skipped forward) maps to the instant
        of the change.
        """
        wall = datetime.fromordinal(ordinal) + timedelta(microseconds=wall_us)
        early = to_us(wall.replace(tzinfo=self.zone))
        late = to_us(wall.replace(tzinfo=self.zone, fold=1))
        if early == late:
            return early
        if early < late:  # repeated: fold=0 is the first pass
            return late if last else early
        return self._change_between(late, early)  # skipped

    def _change_between(self, before: int, after: int) -> int:
        """The instant the UTC offset changes, given one instant on each side (to the second)."""
        low = before // US_PER_SECOND
        high = -(-after // US_PER_SECOND)
        target = datetime.fromtimestamp(high, self.zone).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).utcoffset() == target:
                high = middle
            else:
                low = middle
        return high * US_PER_SECOND

    # --- irregular dates (exceptions and offset changes) --------------------

    def _irregular_ordinals(self, year: int) -> list[int]:
        cached = self._irregular.get(year)
        if cached is not None:
            return cached
        offsets = _midnight_offsets(self.zone, year)
        first = date(year, 1, 1).toordinal()
        changes = {
            first + index
            for index in range(len(offsets) - 1)
            if not offsets[index][0] == offsets[index][1] == offsets[index + 1][0]
            or offsets[index + 1][0] != offsets[index + 1][1]
        }
        result = sorted(changes.union(self._exceptions(year)))
        self._irregular[year] = result
        return result

    def next_irregular(self, ordinal: int) -> int:
        """An ordinal >= ``ordinal`` such that every date before it, from ``ordinal``, is regular.

        It is the next irregular date when one is near; otherwise a later year
        boundary (the walk then asks again).
        """
        year = date.fromordinal(ordinal).year
        ordinals = self._irregular_ordinals(year)
        index = bisect_left(ordinals, ordinal)
        if index < len(ordinals):
            return ordinals[index]
        if year >= 9999:
            return _MAX_ORDINAL
        following = self._irregular_ordinals(year + 1)
        if following:
            return following[0]
        return date(year + 2, 1, 1).toordinal() if year + 2 <= 9999 else _MAX_ORDINAL

    # --- walks --------------------------------------------------------------

    def _regular_total(self, ordinal: int, days: int) -> int:
        """Working µs in ``days`` regular days from ``ordinal``: nominal hours, no lookups."""
        weeks, rest = divmod(days, 7)
        weekday = (ordinal + 6) % 7  # date.fromordinal(1) is a Monday
        daily = self._daily
        return weeks * self.week_total + sum(daily[(weekday + i) % 7] for i in range(rest))

    def add(self, start: int, duration: int) -> int:
        """The earliest instant ``u >= start`` with ``between(start, u) == duration`` (>= 0)."""
        if duration <= 0:
            return start
        ordinal, day = self.day_containing(start)
        remaining = duration
        moment = start
        while True:
            for span_start, span_end in day.spans:
                if span_end <= moment:
                    continue
                begin = max(span_start, moment)
                if remaining <= span_end - begin:
                    return begin + remaining
                remaining -= span_end - begin
                moment = span_end
            ordinal += 1
            # Jump over the regular days before the next irregular one, stopping short
            # of the day where the duration runs out (then walk that last week).
            skip = self.next_irregular(ordinal) - ordinal
            if skip > 0 and self._regular_total(ordinal, skip) >= remaining:
                skip = min(skip, (remaining - 1) // self.week_total * 7)
            if skip > 0:
                remaining -= self._regular_total(ordinal, skip)
                ordinal += skip
            day = self.day(ordinal)

    def between(self, start: int, end: int) -> int:
        """Working µs in ``[start, end)``; 0 when ``end <= start``."""
        if end <= start:
            return 0
        ordinal, day = self.day_containing(start)
        total = 0
        while True:
            for span_start, span_end in day.spans:
                if span_start >= end:
                    return total
                if span_end > start:
                    total += min(span_end, end) - max(span_start, start)
            if day.end >= end:
                return total
            ordinal += 1
            day = self.day(ordinal)
            # Regular days have constant offset: day k ends exactly k days later.
            skip = min(self.next_irregular(ordinal) - ordinal, (end - day.start) // DAY_US)
            if skip > 0:
                total += self._regular_total(ordinal, skip)
                ordinal += skip
                day = self.day(ordinal)

    def next_open(self, start: int) -> int:
        """The earliest instant ``>= start`` that lies inside a working span."""
        ordinal, day = self.day_containing(start)
        while True:
            for span_start, span_end in day.spans:
                if span_end > start:
                    return max(span_start, start)
            ordinal += 1
            day = self.day(ordinal)

    def is_open(self, moment: int) -> bool:
        """Whether the instant lies inside a working span (starts count, ends do not)."""
        _, day = self.day_containing(moment)
        return any(start <= moment < end for start, end in day.spans)
