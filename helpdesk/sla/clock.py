"""The SLA clock as pure functions: business time over a :class:`BusinessCalendar`.

No database, no I/O, no current time: every instant is passed in. Datetimes
must be timezone-aware (any zone is accepted and converted); results are
aware UTC datetimes. A naive datetime raises ValueError, as does a negative
duration. Arithmetic is exact to the microsecond, so the algebra holds
exactly: ``add(add(t, a), b) == add(t, a + b)`` and
``business_time_between(t, add(t, d)) == d``.

Business time is the measure of the working intervals of the calendar; see
:mod:`helpdesk.sla._timeline` for how wall-clock periods become instants
across daylight-saving changes (a period spanning a skipped hour is an hour
shorter, one spanning a repeated hour an hour longer).

Cost: the walks visit working periods day by day but jump over whole weeks
that hold no holiday, closed or make-up date and no UTC-offset change, so
1,000 business hours take a few dozen steps, not 60,000 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Annotated

import msgspec

from helpdesk.sla._timeline import from_us, to_us
from helpdesk.sla.calendar import BusinessCalendar

__all__ = [
    "Pause",
    "SlaTimer",
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

_ONE_US = timedelta(microseconds=1)
_ZERO = timedelta(0)

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


def _us(moment: datetime, name: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {moment.isoformat()}"
        )
    return to_us(moment)


def _duration_us(duration: timedelta, name: str) -> int:
    if duration < _ZERO:
        raise ValueError(f"{name} must not be negative, got {duration}")
    return duration // _ONE_US


# --- business time ------------------------------------------------------------


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant by which ``duration`` of business time has elapsed since ``start``.

    When ``start`` is outside working hours, counting begins at the next
    opening. A positive duration therefore ends inside a working period or
    exactly at its end (never at the opening of the next one). A zero duration
    returns ``start`` itself, open or not. Raises OverflowError when the
    result would fall after the year 9999.
    """
    begin = _us(start, "start")
    return from_us(calendar._timeline.add(begin, _duration_us(duration, "duration")))


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """The business time in ``[start, end)``; zero when ``end <= start``.

    Additive: for ``a <= b <= c``, ``between(a, c) == between(a, b) + between(b, c)``.
    """
    return calendar._timeline.between(_us(start, "start"), _us(end, "end")) * _ONE_US


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether ``at`` lies in working hours (an opening instant is open, a closing one is not)."""
    return calendar._timeline.is_open(_us(at, "at"))


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself when open, else the instant working hours next begin."""
    return from_us(calendar._timeline.next_open(_us(at, "at")))


# --- timers -------------------------------------------------------------------


class Pause(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=True):
    """A closed pause of a timer, ``[start, end)``; stored as a two-item JSON array."""

    start: AwareDatetime
    end: AwareDatetime


class SlaTimer(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One SLA target being measured: how much business time is allowed, and when it ran.

    The timer runs from ``started_at`` except during ``pauses`` and from
    ``paused_since`` on (when set). It stores instants only, no business time,
    so pausing and resuming need no calendar. Every figure is computed from the
    calendar passed in: not promised to stay fixed if the calendar is edited
    later (past business time is then measured with the new hours).

    Invariants, checked on construction (ValueError, or msgspec.ValidationError
    when decoding): all datetimes aware; ``target >= 0``; ``started_at <=
    pauses[0].start <= pauses[0].end <= pauses[1].start … <= paused_since``.
    """

    target: timedelta
    started_at: AwareDatetime
    pauses: tuple[Pause, ...] = ()
    paused_since: AwareDatetime | None = None

    def __post_init__(self) -> None:
        _duration_us(self.target, "target")
        points = [_us(self.started_at, "started_at")]
        for item in self.pauses:
            points += [_us(item.start, "pause start"), _us(item.end, "pause end")]
        if self.paused_since is not None:
            points.append(_us(self.paused_since, "paused_since"))
        if any(later < earlier for earlier, later in pairwise(points)):
            raise ValueError("timer instants must be in order: start, pauses, paused_since")

    @property
    def is_paused(self) -> bool:
        """Whether the timer is paused now."""
        return self.paused_since is not None

    @property
    def resumed_at(self) -> datetime:
        """Start of the current (or, when paused, the last) running stretch."""
        return self.pauses[-1].end if self.pauses else self.started_at

    def _running(self) -> list[tuple[int, int | None]]:
        """Running stretches as µs ``(start, end)``; ``end`` is None while running."""
        starts = [self.started_at, *(item.end for item in self.pauses)]
        ends: list[datetime | None] = [*(item.start for item in self.pauses), self.paused_since]
        return [
            (to_us(start), None if end is None else to_us(end))
            for start, end in zip(starts, ends, strict=True)
        ]


def start_timer(target: timedelta, at: datetime) -> SlaTimer:
    """A running timer for ``target`` of business time, started at ``at`` (stored in UTC)."""
    return SlaTimer(target=target, started_at=_utc(at, "at"))


def pause(timer: SlaTimer, at: datetime) -> SlaTimer:
    """The timer paused at ``at``; a paused timer is returned unchanged (idempotent).

    Raises ValueError when ``at`` is before the running stretch began.
    """
    moment = _utc(at, "at")
    if timer.paused_since is not None:
        return timer
    if moment < timer.resumed_at:
        raise ValueError(f"cannot pause at {moment.isoformat()}, before the timer last ran")
    return msgspec.structs.replace(timer, paused_since=moment)


def resume(timer: SlaTimer, at: datetime) -> SlaTimer:
    """The timer running again from ``at``; a running timer is returned unchanged (idempotent).

    The pause is recorded; a pause of zero length is not. Raises ValueError
    when ``at`` is before the pause began.
    """
    moment = _utc(at, "at")
    if timer.paused_since is None:
        return timer
    if moment < timer.paused_since:
        raise ValueError(f"cannot resume at {moment.isoformat()}, before the pause began")
    pauses = timer.pauses
    if moment > timer.paused_since:
        pauses = (*pauses, Pause(timer.paused_since, moment))
    return msgspec.structs.replace(timer, pauses=pauses, paused_since=None)


def retarget(timer: SlaTimer, target: timedelta) -> SlaTimer:
    """The timer with a new target (priority or policy change), keeping its history.

    Time already spent and the pauses are kept: a running timer whose new
    target exceeds the time spent becomes due at ``resume point + (new target -
    spent)``; if the new target is already used up, :func:`due_at` returns the
    past instant it was reached.
    """
    _duration_us(target, "target")
    return msgspec.structs.replace(timer, target=target)


def elapsed(timer: SlaTimer, calendar: BusinessCalendar, now: datetime) -> timedelta:
    """Business time the timer has run until ``now`` (pauses excluded; zero before it started)."""
    moment = _us(now, "now")
    timeline = calendar._timeline
    total = 0
    for start, end in timer._running():
        if start >= moment:
            break
        total += timeline.between(start, moment if end is None else min(end, moment))
    return total * _ONE_US


def remaining(timer: SlaTimer, calendar: BusinessCalendar, now: datetime) -> timedelta:
    """``target - elapsed``: negative by how much the target is overrun."""
    return timer.target - elapsed(timer, calendar, now)


def due_at(timer: SlaTimer, calendar: BusinessCalendar) -> datetime | None:
    """The instant the timer reaches its target, or None while paused short of it.

    For a running timer this is ``add_business_time(resumed_at, target - spent)``.
    If the target was reached before the last pause (or a retarget lowered it
    below the time spent), it is that earlier instant, in the past. Not
    promised: a due time of a running timer moves when the timer is paused or
    retargeted, or the calendar changes.
    """
    timeline = calendar._timeline
    target = _duration_us(timer.target, "target")
    spent = 0
    for start, end in timer._running():
        if end is None:
            return from_us(timeline.add(start, target - spent))
        stretch = timeline.between(start, end)
        if spent + stretch >= target:
            return from_us(timeline.add(start, target - spent))
        spent += stretch
    return None


def _utc(moment: datetime, name: str) -> datetime:
    _us(moment, name)
    return moment.astimezone(UTC)
