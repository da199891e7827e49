"""SLA timers: pause, resume, retarget, due time, elapsed and remaining, on concrete cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from helpdesk.sla import (
    Pause,
    SlaTimer,
    add_business_time,
    business_time_between,
    due_at,
    elapsed,
    pause,
    remaining,
    resume,
    retarget,
    start_timer,
)
from tests.unit.sla._support import VN, VN_OFFICE, hours, local


def test_a_running_timer() -> None:
    # Given a 4-hour target started on Monday at 11:00 (lunch 12:00–13:30)
    timer = start_timer(hours(4), local(VN, 2026, 3, 2, 11, 0))
    # Then it is due at 16:30 and, at 14:00, has used 1.5 h
    assert due_at(timer, VN_OFFICE) == local(VN, 2026, 3, 2, 16, 30)
    now = local(VN, 2026, 3, 2, 14, 0)
    assert elapsed(timer, VN_OFFICE, now) == hours(1.5)
    assert remaining(timer, VN_OFFICE, now) == hours(2.5)
    # And after the due time, remaining is negative by the overrun
    late = local(VN, 2026, 3, 3, 9, 0)
    assert remaining(timer, VN_OFFICE, late) == -hours(2)
    assert elapsed(timer, VN_OFFICE, local(VN, 2026, 3, 1)) == timedelta(0)


def test_pause_waiting_for_the_customer_then_resume() -> None:
    timer = start_timer(hours(4), local(VN, 2026, 3, 2, 11, 0))
    # Paused at 14:00 (1.5 h spent), resumed Tuesday 10:00: 2.5 h left from then.
    paused = pause(timer, local(VN, 2026, 3, 2, 14, 0))
    assert paused.is_paused
    assert due_at(paused, VN_OFFICE) is None
    assert elapsed(paused, VN_OFFICE, local(VN, 2026, 3, 5)) == hours(1.5)
    resumed = resume(paused, local(VN, 2026, 3, 3, 10, 0))
    assert resumed.pauses == (Pause(local(VN, 2026, 3, 2, 14), local(VN, 2026, 3, 3, 10)),)
    assert due_at(resumed, VN_OFFICE) == local(VN, 2026, 3, 3, 14, 0)
    # The due time moved by exactly the business time paused: 3.5 h on Monday, 2 h on Tuesday.
    paused_for = business_time_between(
        VN_OFFICE, local(VN, 2026, 3, 2, 14), local(VN, 2026, 3, 3, 10)
    )
    assert paused_for == hours(5.5)
    assert due_at(resumed, VN_OFFICE) == add_business_time(
        VN_OFFICE, local(VN, 2026, 3, 2, 16, 30), paused_for
    )
    assert elapsed(resumed, VN_OFFICE, local(VN, 2026, 3, 3, 14)) == hours(4)


def test_pause_and_resume_are_idempotent() -> None:
    timer = start_timer(hours(4), local(VN, 2026, 3, 2, 9))
    paused = pause(timer, local(VN, 2026, 3, 2, 10))
    assert pause(paused, local(VN, 2026, 3, 2, 11)) == paused
    assert resume(timer, local(VN, 2026, 3, 2, 11)) == timer
    assert resume(paused, local(VN, 2026, 3, 2, 10)).pauses == ()  # zero-length: not kept


def test_pause_over_a_weekend_costs_nothing() -> None:
    timer = start_timer(hours(8), local(VN, 2026, 3, 6, 16))
    before = due_at(timer, VN_OFFICE)
    timer = resume(pause(timer, local(VN, 2026, 3, 7, 12)), local(VN, 2026, 3, 9, 8))
    # 1.5 h on Friday, 4 h on Saturday morning, 2.5 h on Monday.
    assert due_at(timer, VN_OFFICE) == before == local(VN, 2026, 3, 9, 10, 30)


def test_retarget_keeps_time_spent_and_pauses() -> None:
    # A normal case (8 h) becomes urgent (2 h) after 1.5 h spent and one pause.
    timer = start_timer(hours(8), local(VN, 2026, 3, 2, 8))
    timer = resume(pause(timer, local(VN, 2026, 3, 2, 9)), local(VN, 2026, 3, 2, 14))
    urgent = retarget(timer, hours(2))
    assert urgent.pauses == timer.pauses
    assert elapsed(urgent, VN_OFFICE, local(VN, 2026, 3, 2, 14, 30)) == hours(1.5)
    assert due_at(urgent, VN_OFFICE) == local(VN, 2026, 3, 2, 15, 0)  # 14:00 + (2 h - 1 h)
    # Lowered below what was spent: due in the past, where the new target was reached.
    tiny = retarget(timer, hours(0.5))
    assert due_at(tiny, VN_OFFICE) == local(VN, 2026, 3, 2, 8, 30)
    assert remaining(tiny, VN_OFFICE, local(VN, 2026, 3, 2, 14)) == -hours(0.5)


def test_a_paused_timer_past_its_target_reports_when_it_was_reached() -> None:
    timer = start_timer(hours(1), local(VN, 2026, 3, 2, 8))
    paused = pause(timer, local(VN, 2026, 3, 2, 10))
    assert due_at(paused, VN_OFFICE) == local(VN, 2026, 3, 2, 9)


def test_timer_round_trips_through_json() -> None:
    timer = start_timer(hours(4), local(VN, 2026, 3, 2, 11, 0))
    timer = pause(
        resume(pause(timer, local(VN, 2026, 3, 2, 14)), local(VN, 2026, 3, 3, 9)),
        local(VN, 2026, 3, 3, 10),
    )
    raw = msgspec.json.encode(timer)
    assert msgspec.json.decode(raw, type=SlaTimer) == timer
    assert b'"pauses":[["2026-03-02T07:00:00Z","2026-03-03T02:00:00Z"]]' in raw


def test_invalid_timers_are_refused() -> None:
    start = datetime(2026, 3, 2, 4, tzinfo=UTC)
    naive = datetime(2026, 3, 2, 4)
    with pytest.raises(ValueError, match="target must not be negative"):
        start_timer(-hours(1), start)
    with pytest.raises(ValueError, match="timezone-aware"):
        start_timer(hours(1), naive)
    with pytest.raises(ValueError, match="in order"):
        SlaTimer(target=hours(1), started_at=start, pauses=(Pause(start - hours(1), start),))
    with pytest.raises(ValueError, match="before the timer last ran"):
        pause(start_timer(hours(1), start), start - hours(1))
    with pytest.raises(ValueError, match="before the pause began"):
        resume(pause(start_timer(hours(1), start), start + hours(1)), start)
    with pytest.raises(ValueError, match="target must not be negative"):
        retarget(start_timer(hours(1), start), -hours(1))
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        msgspec.json.decode(
            b'{"target": "PT1H", "started_at": "2026-03-02T04:00:00"}', type=SlaTimer
        )
    with pytest.raises(msgspec.ValidationError, match="in order"):
        msgspec.json.decode(
            b'{"target": "PT1H", "started_at": "2026-03-02T04:00:00Z",'
            b' "paused_since": "2026-03-01T04:00:00Z"}',
            type=SlaTimer,
        )
