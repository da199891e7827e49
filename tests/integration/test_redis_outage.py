"""Redis down, then back (empty): what a web process asks of Redis degrades
locally and comes back, with a real ``redis-server`` that the tests kill and
restart (it keeps nothing on disk, so it returns empty).

* rate limits count in memory during the outage, still enforce the limit,
  log one warning, and use Redis again once it answers;
* presence keeps this process's consoles, never raises, and writes to Redis
  again afterwards;
* publishing never raises nor waits; the live-update hub serves old and new
  subscribers from the outbox meanwhile and reconnects afterwards, and starts
  even when Redis is down;
* a hung Redis (frozen with SIGSTOP: connections open, no answers) costs a
  request one socket timeout at most, and a subscription notices it.

Also the helper that cleans a test run's keys from the shared Redis deletes
its namespace and nothing else.

The web process as a whole (web form, console websockets) is in
``test_redis_outage_web.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from helpdesk import events
from helpdesk import pubsub as pubsub_module
from helpdesk.live import LiveConnection, LiveHub
from helpdesk.policy import SYSTEM
from helpdesk.pubsub import RedisPubSub, StreamFrame, Subscription
from helpdesk.ratelimit import RedisRateLimiter
from helpdesk.redis_outage import PROBE_SECONDS
from helpdesk.routing.presence import RedisPresenceStore
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from helpdesk.sla.tracking import track_event
from tests.conftest import EventLog
from tests.factories import make_agent, make_case, make_team
from tests.integration._processes import PrivateRedis, delete_namespace

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)

NAMESPACE = "outage-test"


def warnings_of(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and text in r.getMessage()
    ]


async def wait_probe() -> None:
    """Past the breaker's probe interval: the next call tries Redis again."""
    await asyncio.sleep(PROBE_SECONDS + 0.2)


async def test_rate_limits_count_in_memory_while_redis_is_down_then_in_redis_again(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.redis_outage")
    limiter = RedisRateLimiter(private_redis.url, namespace=NAMESPACE)
    redis = private_redis.client()
    try:
        # Given Redis counts: two hits allowed, the third refused, under the namespace
        assert [await limiter.hit("form:ip:1", 2, 60) for _ in range(3)] == [True, True, False]
        assert redis.get(f"{NAMESPACE}:rl:form:ip:1") == b"3"

        # When Redis dies, every hit still answers, at once, and the limit holds in memory
        await asyncio.to_thread(private_redis.stop)
        started = time.monotonic()
        during = [await limiter.hit("form:ip:2", 5, 60) for _ in range(40)]
        assert time.monotonic() - started < 2.0
        assert during == [True] * 5 + [False] * 35
        # and the outage is logged once, not once per hit
        assert len(warnings_of(caplog, "rate limits: Redis unreachable")) == 1

        # When Redis comes back empty, the counters are in Redis again
        await asyncio.to_thread(private_redis.start)
        await wait_probe()
        assert await limiter.hit("form:ip:3", 5, 60)
        assert redis.get(f"{NAMESPACE}:rl:form:ip:3") == b"1"
        assert any("rate limits: Redis answers again" in r.getMessage() for r in caplog.records)
    finally:
        redis.close()
        await limiter.close()


async def test_a_hung_redis_costs_a_request_a_second_at_most(
    private_redis: PrivateRedis,
) -> None:
    limiter = RedisRateLimiter(private_redis.url, namespace=NAMESPACE)
    try:
        assert await limiter.hit("kb:ip:1", 3, 60)  # connected, counted in Redis
        # When Redis hangs (connections open, no answers)
        private_redis.pause()
        started = time.monotonic()
        assert await limiter.hit("kb:ip:1", 3, 60)  # waited for the socket timeout
        first = time.monotonic() - started
        started = time.monotonic()
        assert [await limiter.hit("kb:ip:1", 3, 60) for _ in range(3)] == [True, True, False]
        after = time.monotonic() - started
    finally:
        private_redis.resume()
        await limiter.close()
    assert first < 1.6
    assert after < 0.2  # the breaker is open: no more waiting until the next probe


async def test_a_subscription_to_a_hung_redis_fails_instead_of_waiting_forever(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub_module, "PING_SECONDS", 0.5)
    monkeypatch.setattr(pubsub_module, "SILENT_SECONDS", 2.0)
    backend = RedisPubSub(private_redis.url, namespace=NAMESPACE)
    try:
        subscription = await backend.subscribe(["case:1"])
        private_redis.pause()
        # A subscriber that hears nothing, not even a pong, learns that Redis is gone
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(drain(subscription), 10)
        assert time.monotonic() - started < 4
        await subscription.close()
        # and subscribing again fails after a bounded wait
        with pytest.raises(TimeoutError):
            await backend.subscribe(["case:1"])
    finally:
        private_redis.resume()
        await backend.close()


async def test_presence_keeps_this_process_consoles_while_redis_is_down(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    here = RedisPresenceStore(private_redis.url, namespace=NAMESPACE)
    elsewhere = RedisPresenceStore(private_redis.url, namespace=NAMESPACE)  # another process
    redis = private_redis.client()
    try:
        # Given presence shared through Redis, under the namespace
        await here.touch(1, 30)
        assert await elsewhere.is_online(1)
        assert redis.exists(f"{NAMESPACE}:console:1")

        # When Redis dies, touching and asking never raise; this process sees its consoles
        await asyncio.to_thread(private_redis.stop)
        await here.touch(2, 30)
        assert await here.is_online(2)
        assert not await here.is_online(3)
        assert not await elsewhere.is_online(2)  # degraded: only Redis knew of other processes
        assert len(warnings_of(caplog, "console presence: Redis unreachable")) == 2  # one a store

        # When Redis comes back empty, the next heartbeat shares presence again
        await asyncio.to_thread(private_redis.start)
        await wait_probe()
        await here.touch(2, 30)
        assert redis.exists(f"{NAMESPACE}:console:2")
        await wait_probe()
        assert await elsewhere.is_online(2)
    finally:
        redis.close()
        await here.close()
        await elsewhere.close()


async def test_publishing_while_redis_is_down_neither_raises_nor_waits(
    private_redis: PrivateRedis,
) -> None:
    backend = RedisPubSub(private_redis.url, namespace=NAMESPACE)
    try:
        subscription = await backend.subscribe(["case:1"])
        await asyncio.to_thread(private_redis.stop)
        # A subscriber learns that its connection is gone
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(drain(subscription), 5)
        await subscription.close()
        started = time.monotonic()
        for seq in range(1, 51):
            await backend.publish(StreamFrame(stream="case:1", seq=seq, type="t", payload={}))
        assert time.monotonic() - started < 1.5

        await asyncio.to_thread(private_redis.start)
        await wait_probe()
        again = await backend.subscribe(["case:1"])
        await backend.publish(StreamFrame(stream="case:1", seq=51, type="t", payload={}))
        async with asyncio.timeout(5):
            async for frame in again:
                assert frame.seq == 51
                break
        await again.close()
    finally:
        await backend.close()


async def drain(subscription: Subscription) -> None:
    async for _ in subscription:
        pass


async def next_messages(connection: LiveConnection, count: int, seconds: float) -> list[Any]:
    got = []
    async with asyncio.timeout(seconds):
        while len(got) < count:
            text = await connection.queue.get()
            assert text is not None
            got.append(json.loads(text))
    return got


async def test_the_hub_serves_from_the_outbox_while_redis_is_down(
    db: EventLog, private_redis: PrivateRedis
) -> None:
    backend = RedisPubSub(private_redis.url, namespace=NAMESPACE)
    events.configure(backend, [], reactors=[track_event])
    hub = LiveHub(backend)
    await hub.start()
    try:
        team = await make_team()
        agent = await make_agent(team_ids=[team.id])
        case = await make_case(team_id=team.id)
        stream = f"case:{case.id}"
        before = LiveConnection(agent)
        await hub.subscribe(before, stream, after=None)
        start = (await next_messages(before, 1, 5))[0]["seq"]

        # When Redis dies and the case changes
        await asyncio.to_thread(private_redis.stop)
        await messages.add_note(SYSTEM, case.id, MessageIn(body="trong lúc mất Redis"))

        # Then the follower gets it from the outbox, and a new client can subscribe
        got = await next_messages(before, 1, 4)
        assert [(m["type"], m["seq"]) for m in got] == [("event", start + 1)]
        during = LiveConnection(agent)
        await hub.subscribe(during, stream, after=start)
        got = await next_messages(during, 2, 4)
        assert [(m["type"], m["seq"]) for m in got] == [
            ("event", start + 1),
            ("subscribed", start + 1),
        ]
        assert not hub.connected

        # When Redis comes back empty, the hub reconnects and both get what follows
        await asyncio.to_thread(private_redis.start)
        await messages.add_note(SYSTEM, case.id, MessageIn(body="Redis đã trở lại"))
        for connection in (before, during):
            got = await next_messages(connection, 1, 10)
            assert [(m["type"], m["seq"]) for m in got] == [("event", start + 2)]
        deadline = time.monotonic() + 10
        while not hub.connected:  # reconnected (the outbox may have been faster)
            assert time.monotonic() < deadline, "the hub never reconnected"
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
        await backend.close()
        events.configure(None)


async def test_the_hub_starts_while_redis_is_down_and_connects_when_it_answers(
    private_redis: PrivateRedis,
) -> None:
    await asyncio.to_thread(private_redis.stop)
    backend = RedisPubSub(private_redis.url, namespace=NAMESPACE)
    hub = LiveHub(backend)
    try:
        await hub.start()  # a web process starts although Redis is down
        assert not hub.connected
        await asyncio.to_thread(private_redis.start)
        deadline = time.monotonic() + 10
        while not hub.connected:
            assert time.monotonic() < deadline, "the hub never connected"
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
        await backend.close()


def test_deleting_a_namespace_deletes_its_keys_and_no_other(private_redis: PrivateRedis) -> None:
    redis = private_redis.client()
    try:
        ours = {f"helpdesk-test-aaa:rl:{n}": 1 for n in range(1200)}
        redis.mset({**ours, "helpdesk-test-aab:rl:x": 1, "helpdesk:rl:x": 1, "x": 1})

        assert delete_namespace(private_redis.url, "helpdesk-test-aaa") == len(ours)

        assert sorted(redis.keys("*")) == [b"helpdesk-test-aab:rl:x", b"helpdesk:rl:x", b"x"]
    finally:
        redis.close()
