"""The algebra of the SLA clock, on generated calendars, instants and durations.

Calendars are random: zone (with and without DST, 30- and 45-minute offsets),
0–3 periods per weekday on a 15-minute grid, Vietnamese, US or no public
holidays, random closed dates and make-up days in 2026–2027. In a zone with
DST, half the cases start within two days of a clock change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from helpdesk.sla import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    due_at,
    elapsed,
    is_open,
    next_opening,
    pause,
    remaining,
    resume,
    retarget,
    start_timer,
)
from tests.unit.sla._support import PROPERTY, US, cases, durations

Case = tuple[BusinessCalendar, datetime]


@PROPERTY
@given(cases(), durations, durations)
def test_adding_twice_is_adding_the_sum(case: Case, a: timedelta, b: timedelta) -> None:
    calendar, start = case
    once = add_business_time(calendar, start, a + b)
    assert add_business_time(calendar, add_business_time(calendar, start, a), b) == once


@PROPERTY
@given(cases(), durations)
def test_between_undoes_add(case: Case, d: timedelta) -> None:
    calendar, start = case
    assert business_time_between(calendar, start, add_business_time(calendar, start, d)) == d


@PROPERTY
@given(cases(), durations, durations)
def test_between_is_additive_over_a_split_point(case: Case, ab: timedelta, bc: timedelta) -> None:
    calendar, a = case
    b = a + ab
    c = b + bc * 20  # up to a year
    whole = business_time_between(calendar, a, c)
    assert whole == business_time_between(calendar, a, b) + business_time_between(calendar, b, c)
    assert business_time_between(calendar, c, a) == timedelta(0)
    assert timedelta(0) <= whole <= c - a


@PROPERTY
@given(cases(), durations, durations)
def test_add_is_monotonic_in_duration(case: Case, a: timedelta, b: timedelta) -> None:
    calendar, start = case
    a, b = sorted((a, b))
    assert start <= add_business_time(calendar, start, a) <= add_business_time(calendar, start, b)


@PROPERTY
@given(cases(), durations)
def test_results_land_inside_or_at_the_end_of_a_working_period(case: Case, d: timedelta) -> None:
    calendar, start = case
    assume(d > timedelta(0))
    due = add_business_time(calendar, start, d)
    # The microsecond before the due time was worked: the result is neither inside closed
    # time nor an opening reached through closed time.
    assert is_open(calendar, due - US)
    opening = next_opening(calendar, start)
    assert start <= opening < due
    assert business_time_between(calendar, start, opening) == timedelta(0)
    assert is_open(calendar, opening)


@PROPERTY
@given(cases(avoid_night=True, unit=timedelta(minutes=1)), st.integers(1, 3 * 24 * 60))
def test_between_matches_counting_open_minutes_on_the_wall_clock(case: Case, span: int) -> None:
    """An independent oracle: a minute is worked when the local clock shows a time within
    the hours of the local date. Period boundaries avoid 00:30–03:30, where clocks change
    (and where the oracle's wall-clock reading and the calendar's rule would differ)."""
    calendar, start = case
    zone = calendar.zone
    worked = 0
    for index in range(span):
        wall = (start + timedelta(minutes=index)).astimezone(zone)
        minute = wall.hour * 60 + wall.minute
        for period in calendar.hours_on(wall.date()):
            first = int(period.start[:2]) * 60 + int(period.start[3:])
            last = int(period.end[:2]) * 60 + int(period.end[3:])
            if first <= minute < last:
                worked += 1
                break
    end = start + timedelta(minutes=span)
    assert business_time_between(calendar, start, end) == timedelta(minutes=worked)


# --- timers -----------------------------------------------------------------------


@PROPERTY
@given(cases(), durations, durations, durations)
def test_pause_then_resume_shifts_the_due_time_by_the_business_time_paused(
    case: Case, target: timedelta, before_pause: timedelta, gap: timedelta
) -> None:
    calendar, start = case
    timer = start_timer(target, start)
    due = due_at(timer, calendar)
    assert due is not None
    paused_at = start + before_pause
    assume(paused_at < due)
    resumed_at = paused_at + gap * 10
    moved = resume(pause(timer, paused_at), resumed_at)
    paused_for = business_time_between(calendar, paused_at, resumed_at)
    assert due_at(moved, calendar) == add_business_time(calendar, due, paused_for)
    assert elapsed(moved, calendar, resumed_at) == elapsed(timer, calendar, paused_at)


@PROPERTY
@given(cases(), durations, durations, st.lists(durations, min_size=1, max_size=6))
def test_a_timer_reaches_its_target_at_its_due_time_and_retarget_keeps_spent_time(
    case: Case, target: timedelta, new_target: timedelta, steps: list[timedelta]
) -> None:
    """Pauses and resumes alternate at random steps; then the target changes."""
    calendar, start = case
    timer = start_timer(target, start)
    moment = start
    for index, step in enumerate(steps):
        moment += step
        timer = pause(timer, moment) if index % 2 == 0 else resume(timer, moment)
    spent = elapsed(timer, calendar, moment)
    assert spent + remaining(timer, calendar, moment) == timer.target
    due = due_at(timer, calendar)
    if due is None:
        assert timer.is_paused
        assert spent < timer.target
    else:
        assert elapsed(timer, calendar, due) == timer.target
    changed = retarget(timer, new_target)
    assert (changed.started_at, changed.pauses, changed.paused_since) == (
        timer.started_at,
        timer.pauses,
        timer.paused_since,
    )
    assert elapsed(changed, calendar, moment) == spent
    if not changed.is_paused and new_target > spent:
        resumed_at = changed.resumed_at
        already = elapsed(changed, calendar, resumed_at)
        expected = add_business_time(calendar, resumed_at, new_target - already)
        assert due_at(changed, calendar) == expected
