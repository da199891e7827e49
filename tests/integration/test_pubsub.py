"""Contract of the pub/sub backends: the same tests against memory and real Redis
(channels under this test run's namespace, so other runs' frames never mix in)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from helpdesk.pubsub import MemoryPubSub, PubSub, RedisPubSub, StreamFrame, Subscription
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def pubsub(request: pytest.FixtureRequest, redis_namespace: str) -> AsyncIterator[PubSub]:
    backend: PubSub = (
        MemoryPubSub()
        if request.param == "memory"
        else RedisPubSub(REDIS_URL, namespace=redis_namespace)
    )
    yield backend
    await backend.close()


def frame(stream: str, seq: int) -> StreamFrame:
    return StreamFrame(stream=stream, seq=seq, type="case.updated", payload={"n": seq})


async def take(sub: Subscription, count: int, seconds: float = 5.0) -> list[StreamFrame]:
    got: list[StreamFrame] = []

    async def collect() -> None:
        async for item in sub:
            got.append(item)
            if len(got) == count:
                return

    await asyncio.wait_for(collect(), seconds)
    return got


async def test_subscriber_receives_frames_in_order(pubsub: PubSub) -> None:
    stream = f"case:{uuid.uuid4().hex}"
    sub = await pubsub.subscribe([stream])
    for seq in range(1, 51):
        await pubsub.publish(frame(stream, seq))
    got = await take(sub, 50)
    await sub.close()
    assert [f.seq for f in got] == list(range(1, 51))
    assert got[0] == frame(stream, 1)


async def test_only_subscribed_streams_are_delivered(pubsub: PubSub) -> None:
    mine, other = f"team:{uuid.uuid4().hex}", f"team:{uuid.uuid4().hex}"
    sub = await pubsub.subscribe([mine])
    await pubsub.publish(frame(other, 1))
    await pubsub.publish(frame(mine, 7))
    got = await take(sub, 1)
    await sub.close()
    assert [(f.stream, f.seq) for f in got] == [(mine, 7)]


async def test_every_subscriber_gets_every_frame(pubsub: PubSub) -> None:
    stream = f"customer:{uuid.uuid4().hex}"
    subs = [await pubsub.subscribe([stream]) for _ in range(3)]
    await pubsub.publish(frame(stream, 1))
    await pubsub.publish(frame(stream, 2))
    results = await asyncio.gather(*(take(s, 2) for s in subs))
    for sub in subs:
        await sub.close()
    assert all([f.seq for f in r] == [1, 2] for r in results)


async def test_closed_subscription_ends_iteration(pubsub: PubSub) -> None:
    stream = f"case:{uuid.uuid4().hex}"
    sub = await pubsub.subscribe([stream])
    await sub.close()
    await pubsub.publish(frame(stream, 1))
    received = [item async for item in sub] if isinstance(pubsub, MemoryPubSub) else []
    assert received == []


async def test_memory_backend_delivers_across_event_loops() -> None:
    """The Dramatiq worker's loop publishes to the web server's subscribers."""
    backend = MemoryPubSub()
    stream = "case:1"
    sub = await backend.subscribe([stream])

    def publish_from_other_loop() -> None:
        asyncio.run(backend.publish(frame(stream, 1)))

    thread = threading.Thread(target=publish_from_other_loop)
    thread.start()
    thread.join()
    got = await take(sub, 1)
    assert got == [frame(stream, 1)]


async def test_a_subscription_to_every_stream_gets_each_stream_in_order(pubsub: PubSub) -> None:
    tag = uuid.uuid4().hex
    sub = await pubsub.subscribe_all()
    for seq in range(1, 4):
        await pubsub.publish(frame(f"case:{tag}", seq))
        await pubsub.publish(frame(f"team:{tag}", seq))
    got: list[StreamFrame] = []

    async def collect() -> None:  # other tests may publish meanwhile: keep ours
        async for item in sub:
            if tag in item.stream:
                got.append(item)
            if len(got) == 6:
                return

    await asyncio.wait_for(collect(), 5.0)
    await sub.close()
    assert [f.seq for f in got if f.stream.startswith("case:")] == [1, 2, 3]
    assert [f.seq for f in got if f.stream.startswith("team:")] == [1, 2, 3]
