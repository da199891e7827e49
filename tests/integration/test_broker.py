"""Contract of the Dramatiq set-up: async actors, retries and delays on both brokers.

The embedded broker (StubBroker with in-process worker threads) and the Redis
broker run the same tests, with the AsyncIO middleware the helpdesk installs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from tests.conftest import REDIS_URL


@pytest.fixture(params=["embedded", "redis"])
def broker(request: pytest.FixtureRequest, redis_namespace: str) -> Iterator[dramatiq.Broker]:
    if request.param == "embedded":
        instance: dramatiq.Broker = StubBroker()
    else:  # under this run's namespace: its keys are deleted at the end of the run
        namespace = f"{redis_namespace}-broker-{uuid.uuid4().hex[:8]}"
        instance = RedisBroker(url=REDIS_URL, namespace=namespace)
    instance.add_middleware(AsyncIO())
    yield instance
    if isinstance(instance, RedisBroker):
        instance.flush_all()
    instance.close()


def start(broker: dramatiq.Broker) -> dramatiq.Worker:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    return worker


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_async_actor_runs(broker: dramatiq.Broker) -> None:
    seen: list[int] = []
    done = threading.Event()

    async def record(value: int) -> None:
        seen.append(value)
        if len(seen) == 3:
            done.set()

    actor = dramatiq.actor(
        record, broker=broker, actor_name=f"record_{uuid.uuid4().hex[:6]}", queue_name="t"
    )
    worker = start(broker)
    try:
        for value in (1, 2, 3):
            actor.send(value)
        assert done.wait(10), f"only {seen} ran"
    finally:
        worker.stop()
    assert sorted(seen) == [1, 2, 3]


def test_failed_message_is_retried_then_succeeds(broker: dramatiq.Broker) -> None:
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("transient")

    actor = dramatiq.actor(
        flaky,
        broker=broker,
        actor_name=f"flaky_{uuid.uuid4().hex[:6]}",
        queue_name="t",
        max_retries=5,
        min_backoff=10,
        max_backoff=50,
    )
    worker = start(broker)
    try:
        actor.send()
        assert wait_for(lambda: len(attempts) >= 3)
        time.sleep(0.3)
    finally:
        worker.stop()
    assert len(attempts) == 3


def test_delayed_message_waits(broker: dramatiq.Broker) -> None:
    ran_at: list[float] = []

    async def stamp() -> None:
        ran_at.append(time.monotonic())

    actor = dramatiq.actor(
        stamp, broker=broker, actor_name=f"stamp_{uuid.uuid4().hex[:6]}", queue_name="t"
    )
    worker = start(broker)
    try:
        sent = time.monotonic()
        actor.send_with_options(delay=400)
        assert wait_for(lambda: bool(ran_at))
    finally:
        worker.stop()
    assert ran_at[0] - sent >= 0.39
