"""The clock walks working periods day by day and skips whole weeks: never minute by minute."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from helpdesk.sla import BusinessCalendar, WeeklyHours, add_business_time, business_time_between
from tests.unit.sla._support import VN, hours, local


def _fresh_vn() -> BusinessCalendar:
    # A calendar no other test built, so its per-date cache starts empty.
    return BusinessCalendar(
        hours=WeeklyHours.build(mon_fri=("08:00-12:00", "13:30-17:30"), sat="08:00-11:59")
    )


def test_a_thousand_business_hours_visit_few_days() -> None:
    calendar = _fresh_vn()
    start = local(VN, 2026, 1, 15, 10)
    due = add_business_time(calendar, start, hours(1000))
    assert business_time_between(calendar, start, due) == hours(1000)
    # 1,000 h is about 23 weeks (160 days); only the holidays, the first days and the last
    # week are compiled: each run of ordinary days is jumped in one step.
    assert (due - start).days > 150
    assert len(calendar._timeline._days) < 25


def test_a_24_7_calendar_skips_years() -> None:
    # Vienna, not Berlin: equal calendars share their cache, and other tests use Berlin.
    calendar = BusinessCalendar.always_open("Europe/Vienna")
    start = local(ZoneInfo("Europe/Vienna"), 2026, 1, 1)
    ten_years = timedelta(days=3653)
    assert add_business_time(calendar, start, ten_years) == start + ten_years
    assert len(calendar._timeline._days) < 30  # the 20 clock changes, and the ends


def test_typical_targets_take_well_under_a_millisecond_once_warm() -> None:
    calendar = _fresh_vn()
    start = local(VN, 2026, 2, 12, 16)
    add_business_time(calendar, start, hours(1000))  # warm the caches for 2026
    rounds = 200
    began = time.perf_counter()
    for _ in range(rounds):
        for target in (1, 4, 8, 24, 40, 1000):
            add_business_time(calendar, start, hours(target))
    per_call = (time.perf_counter() - began) / (rounds * 6)
    # Measured about 5-70 µs per call; the bound is loose for slow, shared CI machines.
    assert per_call < 0.001
