"""Benchmark: SLA deadlines among 100,000 open cases with running clocks.

Loads ``--cases`` open cases straight into a fresh database, each with a
running resolution timer due days ahead, plus ``--rate`` x ``--duration``
first-response timers (already warned, never armed: as if set long ago) whose
deadlines fall at a steady ``--rate`` per second, starting ``--lead`` seconds
after the worker starts. Then it runs the worker and prints:

* the delay from each deadline to its ``case.sla_breached`` event (outbox
  ``created_at``): p50, p99, max, and how many deadlines were missed or doubled;
* the cost of one sweep (median of 20), with 10,000 and with all open timers:
  the sweep reads only the deadlines near or overdue (index on ``fire_at``),
  so the two figures should be alike;
* the worker's memory (resident set, current and peak).

    python bench/sla_timers.py                  # SQLite, embedded worker in this process
    python bench/sla_timers.py --db postgres    # PostgreSQL + Redis, `helpdesk worker` process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bulk import load_cases
from _stack import Stack, add_stack_options, percentile

from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.runtime import build_runtime
from helpdesk.settings import load_settings
from helpdesk.sla.timers import sweep

TIMER_COLUMNS = (
    "case", "metric", "policy_id", "policy_version", "calendar_id", "warn_percent", "timer",
    "active", "paused", "started_at", "due_at", "warn_at", "warned_at", "breached_at",
    "completed_at", "business_seconds", "breaches", "cycle", "fire_at", "armed_for", "version",
    "updated_at",
)  # fmt: skip


CALENDAR_24_7 = {
    "hours": {
        day: [{"start": "00:00", "end": "24:00"}]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
    "timezone": "UTC",
    "country": None,
    "official_makeup_days": False,
}


def timer_row(case_id: int, metric: str, due: datetime, target: timedelta, warned: bool) -> tuple:
    """One running timer of a 24/7 calendar, due at ``due``."""
    started = due - target
    warn = started + target * 80 // 100
    timer = {"target": f"PT{int(target.total_seconds())}S", "started_at": started.isoformat(),
             "pauses": [], "paused_since": None}  # fmt: skip
    return (
        case_id, metric, 1, 1, 1, 80, json.dumps(timer), True, False, started, due, warn,
        warn if warned else None, None, None, None, 0, 1, due if warned else warn, None, 1,
        datetime.now(UTC),
    )  # fmt: skip


def insert_timers(database_url: str, rows: list[tuple]) -> None:
    """Bulk-insert timer rows (and the 24/7 calendar and policy they refer to)."""
    calendar = json.dumps(CALENDAR_24_7)
    now = datetime.now(UTC)
    if database_url.startswith("sqlite"):
        path = unquote(database_url[len("sqlite:///") :])
        with sqlite3.connect(path, timeout=30) as db:
            db.execute(
                "INSERT OR IGNORE INTO sla_calendars (id, name, definition, created_at, updated_at)"
                " VALUES (1, '24/7', ?, ?, ?)", (calendar, str(now), str(now)),
            )  # fmt: skip
            marks = ", ".join("?" for _ in TIMER_COLUMNS)
            cols = ", ".join(f'"{c}"' for c in TIMER_COLUMNS)
            db.executemany(
                f"INSERT INTO case_sla_timers ({cols}) VALUES ({marks})",
                ([str(v) if isinstance(v, datetime) else v for v in row] for row in rows),
            )
            db.execute("ANALYZE")
        db.close()
        return

    async def load() -> None:
        db = await asyncpg.connect(database_url)
        try:
            await db.execute(
                "INSERT INTO sla_calendars (id, name, definition, created_at, updated_at) "
                "VALUES (1, '24/7', $1, $2, $2) ON CONFLICT DO NOTHING", calendar, now,
            )  # fmt: skip
            await db.copy_records_to_table(
                "case_sla_timers", records=rows, columns=list(TIMER_COLUMNS)
            )
            await db.execute("ANALYZE")
        finally:
            await db.close()

    asyncio.run(load())


def prepare(database_url: str, cases: int) -> None:
    """All cases open, in no team's queue of a worker, under one 24/7 policy."""
    sql = (
        "UPDATE cases SET status = 'open', solved_at = NULL, closed_at = NULL",
        "INSERT INTO sla_policies (id, name, position, enabled, conditions, targets, "
        "warn_percent, escalation, calendar, version, created_at, updated_at) VALUES "
        "(1, 'bench', 1, false, '{}', '{}', 80, '{}', NULL, 1, '2026-01-01', '2026-01-01')",
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(unquote(database_url[len("sqlite:///") :])) as db:
            for statement in sql:
                db.execute(statement)
        db.close()
    else:

        async def run() -> None:
            db = await asyncpg.connect(database_url)
            try:
                for statement in sql:
                    await db.execute(statement)
            finally:
                await db.close()

        asyncio.run(run())


async def sweep_cost(database_url: str, repeat: int = 20) -> float:
    """Median milliseconds of one sweep (nothing near: the cost of looking)."""
    engine = create_engine(database_url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        far = datetime.now(UTC) - timedelta(days=1)  # as if run a day ago: nothing is near
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            await sweep(now=far, horizon=timedelta(minutes=5))
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)
    finally:
        await close_pool(engine)


def memory_kib(pid: int | str = "self") -> tuple[int, int]:
    """(resident, peak resident) KiB of a process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


async def breach_delays(
    database_url: str, crossing: dict[int, datetime]
) -> tuple[list[float], int]:
    """Delays (ms) from each deadline to its first breach event, and the number of extra events."""
    engine = create_engine(database_url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        from helpdesk.sla._store import utc
        from helpdesk.tables import OutboxEvent

        rows = await OutboxEvent.select(OutboxEvent.stream, OutboxEvent.created_at).where(
            (OutboxEvent.type == "case.sla_breached") & OutboxEvent.stream.like("case:%")
        )
    finally:
        await close_pool(engine)
    first: dict[int, datetime] = {}
    extra = 0
    for row in rows:
        case_id = int(row["stream"].split(":")[1])
        created = utc(row["created_at"])
        assert created is not None
        if case_id in first:
            extra += 1
            created = min(created, first[case_id])
        first[case_id] = created
    delays = [(first[c] - due).total_seconds() * 1000 for c, due in crossing.items() if c in first]
    return delays, extra


async def run_embedded(env: dict[str, str], until: datetime) -> tuple[int, int]:
    """The embedded worker (and its sweeper) in this process until ``until``; its memory."""
    runtime = build_runtime(load_settings(env))
    await runtime.start(run_worker=True)
    try:
        await asyncio.sleep((until - datetime.now(UTC)).total_seconds())
        return memory_kib()
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_options(parser)
    parser.add_argument("--cases", type=int, default=100_000, help="open cases (default 100000)")
    parser.add_argument("--rate", type=float, default=20.0, help="deadlines per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of deadlines")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds before the first")
    args = parser.parse_args()
    with Stack(args) as stack:
        url = stack.database_url
        print(f"sla_timers: {stack.describe()}, {args.cases:,} open cases")
        took = load_cases(url, args.cases, first_agent=2)
        prepare(url, args.cases)
        now = datetime.now(UTC)
        background = [
            timer_row(c, "resolution", now + timedelta(days=5, seconds=c * 17 % 2_000_000),
                      timedelta(days=7), warned=False)
            for c in range(1, args.cases + 1)
        ]  # fmt: skip
        small = min(10_000, args.cases)
        insert_timers(url, background[:small])
        cost_small = asyncio.run(sweep_cost(url))
        insert_timers(url, background[small:])
        cost_all = asyncio.run(sweep_cost(url))
        print(f"  loaded in {took:.1f} s; sweep cost: {cost_small:.2f} ms with {small:,} open "
              f"timers, {cost_all:.2f} ms with {args.cases:,} (median of 20)")  # fmt: skip
        count = int(args.rate * args.duration)
        start = datetime.now(UTC) + timedelta(seconds=args.lead)
        step = args.cases // max(count, 1)
        crossing = {1 + n * step: start + timedelta(seconds=n / args.rate) for n in range(count)}
        insert_timers(
            url,
            [timer_row(c, "first_response", due, timedelta(hours=1), warned=True)
             for c, due in crossing.items()],
        )  # fmt: skip
        until = max(crossing.values()) + timedelta(seconds=10)
        if stack.mode == "embedded":
            rss, peak = asyncio.run(run_embedded(stack.env, until))
        else:
            stack._spawn("worker", ["worker"])
            worker_pid = stack.server_pids[-1]
            while datetime.now(UTC) < until:
                time.sleep(0.5)
            rss, peak = memory_kib(worker_pid)
        delays, extra = asyncio.run(breach_delays(url, crossing))
        missed = count - len(delays)
        print(f"  {count} deadlines at {args.rate:g}/s: breach event delay p50 "
              f"{percentile(delays, 0.50):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms, "
              f"max {max(delays):.0f} ms; missed {missed}, doubled {extra}")  # fmt: skip
        where = "this process (embedded)" if stack.mode == "embedded" else "worker process"
        print(
            f"  worker memory ({where}): {rss / 1024:.0f} MiB resident, peak {peak / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
