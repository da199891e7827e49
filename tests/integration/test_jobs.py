"""Durable jobs (helpdesk.jobs): written with the change, run once, re-sent when lost.

On both engines; the broker is the embedded one or a real Redis (the shared
one under this run's namespace, or a private one the test stops and starts).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import dramatiq
import pytest

from helpdesk import jobs
from helpdesk.clock import utcnow
from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.tables import Job
from helpdesk.tasks import setup_broker, start_worker, stop_worker
from tests.conftest import EventLog
from tests.integration._processes import PrivateRedis, delete_namespace


class Probe:
    """A kind of job that records each run, and may fail its first runs."""

    def __init__(self, fail_first: int = 0) -> None:
        self.runs: list[int] = []
        self.fail_first = fail_first
        self.actor = self._declare()

    def _declare(self) -> dramatiq.Actor[..., Any]:
        async def probe(value: int) -> None:
            self.runs.append(value)
            if len(self.runs) <= self.fail_first:
                raise RuntimeError(f"planned failure {len(self.runs)}")

        probe.__name__ = f"probe_{uuid.uuid4().hex[:8]}"
        return jobs.durable_actor("default")(probe)


async def enqueue_values(actor: dramatiq.Actor[..., Any], values: range) -> None:
    async with transaction():
        for value in values:
            jobs.enqueue(actor, value)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def later() -> Any:
    """A relay's "now" for which every job just written is past its grace."""
    return utcnow() + jobs.GRACE + timedelta(seconds=1)


@pytest.fixture
async def embedded(db: EventLog) -> AsyncIterator[dramatiq.Broker]:
    broker = setup_broker(None, current_engine())
    worker = start_worker(broker, 2)
    jobs.start_dispatcher(broker)
    yield broker
    jobs.stop_dispatcher()
    await asyncio.to_thread(stop_worker, worker)


async def test_a_job_is_written_with_its_change_and_not_without(db: EventLog) -> None:
    probe = Probe()

    async def failing_change() -> None:
        async with transaction():
            jobs.enqueue(probe.actor, 1)
            raise RuntimeError("change failed")

    with pytest.raises(RuntimeError, match="change failed"):
        await failing_change()
    assert await Job.count() == 0
    async with transaction():
        jobs.enqueue(probe.actor, 2, run_at=utcnow() + timedelta(hours=1))
    [row] = await Job.select().output(load_json=True)
    assert (row["actor"], row["queue"], row["args"]) == (probe.actor.actor_name, "default", [2])
    assert row["run_at"] is not None


async def test_jobs_run_and_are_deleted_and_a_duplicate_message_runs_nothing(
    embedded: dramatiq.Broker,
) -> None:
    probe = Probe()
    await enqueue_values(probe.actor, range(20))
    await eventually(lambda: _count_is(0))
    assert sorted(probe.runs) == list(range(20))
    # A late duplicate of a finished job's message finds no row and does nothing
    spec = jobs.JobSpec(id=10**9, actor=probe.actor.actor_name, queue="default", args=[99])
    await asyncio.to_thread(jobs.send_job, embedded, spec)
    await asyncio.to_thread(embedded.join, "default", timeout=10_000)
    assert 99 not in probe.runs


async def test_a_failing_job_is_retried_then_given_up_and_kept(
    embedded: dramatiq.Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "MAX_ATTEMPTS", 2)
    retried, doomed = Probe(fail_first=1), Probe(fail_first=10)
    await enqueue_values(retried.actor, range(1))
    await enqueue_values(doomed.actor, range(1))
    await eventually(lambda: _failed_count_is(1), within=20)
    assert retried.runs == [0, 0]  # failed once, then succeeded
    assert doomed.runs == [0, 0]  # two attempts, then given up
    [row] = await Job.select().where(Job.failed_at.is_not_null())
    assert row["actor"] == doomed.actor.actor_name
    assert row["attempts"] == 2
    assert "planned failure 2" in row["last_error"]
    assert await jobs.pending_jobs() == 0
    # and the relay leaves a given-up job alone
    assert await jobs.relay_once(embedded, later()) == 0


async def test_the_relay_sends_jobs_no_process_handed_over(embedded: dramatiq.Broker) -> None:
    probe = Probe()
    jobs.stop_dispatcher()  # as if the process died right after its commit
    await enqueue_values(probe.actor, range(5))
    await asyncio.sleep(0.3)
    assert probe.runs == []
    assert await jobs.relay_once(embedded) == 0  # still within their grace
    assert await jobs.relay_once(embedded, later()) == 5
    await eventually(lambda: _count_is(0))
    assert sorted(probe.runs) == list(range(5))


async def test_the_embedded_relay_leaves_alone_what_the_broker_holds(db: EventLog) -> None:
    # Given jobs handed to the in-process broker, with no worker running yet
    broker = setup_broker(None, current_engine())
    jobs.start_dispatcher(broker)
    probe = Probe()
    await enqueue_values(probe.actor, range(4))
    jobs.stop_dispatcher()
    # Then the relay sends none of them again
    assert await jobs.relay_once(broker, later()) == 0
    # and a worker runs each once
    worker = start_worker(broker, 2)
    try:
        await eventually(lambda: _count_is(0))
    finally:
        await asyncio.to_thread(stop_worker, worker)
    assert sorted(probe.runs) == list(range(4))


async def test_redis_relay_resends_only_what_redis_lost(
    db: EventLog, redis_url: str, redis_namespace: str
) -> None:
    # Given 30 jobs handed to Redis, with no worker running yet
    broker = setup_broker(redis_url, current_engine(), namespace=redis_namespace)
    jobs.start_dispatcher(broker)
    probe = Probe()
    try:
        await enqueue_values(probe.actor, range(30))
        jobs.stop_dispatcher()  # sends everything queued, then stops
        # Then the relay finds every message in Redis and sends nothing twice
        assert await jobs.relay_once(broker, later()) == 0
        # When Redis loses everything (a restart without persistence)
        await asyncio.to_thread(delete_namespace, redis_url, redis_namespace)
        # Then the relay sends each job once more, and only once
        assert await jobs.relay_once(broker, later()) == 30
        assert await jobs.relay_once(broker, later()) == 0
        # and a worker runs each job once
        worker = start_worker(broker, 2)
        try:
            await eventually(lambda: _count_is(0))
        finally:
            await asyncio.to_thread(stop_worker, worker)
        assert sorted(probe.runs) == list(range(30))
    finally:
        jobs.stop_dispatcher()
        broker.close()


async def test_jobs_made_while_redis_is_down_run_when_it_is_back(
    db: EventLog, private_redis: PrivateRedis
) -> None:
    broker = setup_broker(private_redis.url, current_engine(), namespace="outage")
    worker = start_worker(broker, 2)
    jobs.start_dispatcher(broker)
    relay = asyncio.create_task(jobs.relay_forever(broker, interval=0.2))
    probe = Probe()
    try:
        await enqueue_values(probe.actor, range(3))
        await eventually(lambda: _count_is(0))
        # When Redis stops, changes still commit with their jobs
        private_redis.stop()
        await enqueue_values(probe.actor, range(3, 10))
        assert await jobs.pending_jobs() == 7
        await asyncio.sleep(1.0)
        # Then, once Redis is back (empty), every job runs within seconds
        private_redis.start()
        restarted = time.monotonic()
        await eventually(lambda: _count_is(0), within=20)
        assert time.monotonic() - restarted < 10
        assert sorted(set(probe.runs)) == list(range(10))
    finally:
        relay.cancel()
        jobs.stop_dispatcher()
        await asyncio.to_thread(stop_worker, worker)
        broker.close()


async def _count_is(expected: int) -> bool:
    return await Job.count() == expected


async def _failed_count_is(expected: int) -> bool:
    failed = await Job.count().where(Job.failed_at.is_not_null())
    return failed == expected and await jobs.pending_jobs() == 0


@pytest.mark.postgres_only
async def test_one_postgres_process_relays_at_a_time(
    embedded: dramatiq.Broker, database_url: str
) -> None:
    probe = Probe()
    jobs.stop_dispatcher()
    await enqueue_values(probe.actor, range(2))
    other = await asyncpg.connect(database_url)  # another worker process, mid-round
    try:
        async with other.transaction():
            await other.fetchval("SELECT pg_advisory_xact_lock($1)", jobs.RELAY_LOCK_KEY)
            assert await jobs.relay_once(embedded, later()) == 0
        assert await jobs.relay_once(embedded, later()) == 2
    finally:
        await other.close()
    await eventually(lambda: _count_is(0))


async def test_a_job_held_but_stuck_is_sent_again_after_a_while(db: EventLog) -> None:
    # Given a job whose message the broker holds (no worker takes it)
    stalled = setup_broker(None, current_engine())
    jobs.start_dispatcher(stalled)
    probe = Probe()
    await enqueue_values(probe.actor, range(1))
    jobs.stop_dispatcher()
    assert await jobs.relay_once(stalled, later()) == 0
    # Then once it is stale it is sent again, once per stale period
    stale = utcnow() + jobs.STALE_AFTER + timedelta(seconds=1)
    assert await jobs.relay_once(stalled, stale) == 1
    assert await jobs.relay_once(stalled, stale) == 0
    [row] = await Job.select(Job.resent_at)
    assert row["resent_at"] is not None


async def test_a_one_shot_command_runs_the_due_jobs_itself(db: EventLog) -> None:
    # Given due jobs, one that fails, and one due only later (no broker, no worker)
    setup_broker(None, current_engine())
    probe, failing = Probe(), Probe(fail_first=5)
    await enqueue_values(probe.actor, range(3))
    await enqueue_values(failing.actor, range(1))
    async with transaction():
        jobs.enqueue(probe.actor, 99, run_at=utcnow() + timedelta(hours=1))
    # When the command runs them here
    assert await jobs.run_due_here() == 4
    # Then each due job ran once: the good ones are done, the failing one is counted
    assert sorted(probe.runs) == [0, 1, 2]
    assert failing.runs == [0]
    rows = await Job.select(Job.actor, Job.attempts).order_by(Job.id)
    assert [(r["actor"], r["attempts"]) for r in rows] == [
        (failing.actor.actor_name, 1),
        (probe.actor.actor_name, 0),
    ]


async def test_a_stopping_worker_finishes_its_running_job_before_closing_the_pool(
    db: EventLog,
) -> None:
    # Given a worker running a job that still needs the database after a while
    broker = setup_broker(None, current_engine())
    worker = start_worker(broker, 1)
    jobs.start_dispatcher(broker)
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    seen: list[tuple[int, bool]] = []
    engine = current_engine()

    async def slow_job(value: int) -> None:
        loop.call_soon_threadsafe(started.set)
        await asyncio.sleep(1.0)
        pooled = not is_postgres(engine) or engine.pool is not None  # its loop's pool is open
        seen.append((await Job.count(), pooled))

    slow_job.__name__ = f"slow_{uuid.uuid4().hex[:8]}"
    actor = jobs.durable_actor("default")(slow_job)
    await enqueue_values(actor, range(1))
    await asyncio.wait_for(started.wait(), 10)
    # When the worker is stopped mid-job
    jobs.stop_dispatcher()
    await asyncio.to_thread(stop_worker, worker)
    # Then the job finished, its row is deleted, and nothing was counted as failed
    assert seen == [(1, True)]
    assert await Job.count() == 0
