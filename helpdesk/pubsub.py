"""Pub/sub for live updates: in memory (embedded) or Redis (scale-out).

Both backends carry :class:`StreamFrame` objects for named streams and make
the same promise, and only that one: a subscriber receives the frames
published after it subscribed, while it stays connected, in publish order per
stream. Nothing is stored here; missed frames are read back from the outbox
(:func:`helpdesk.events.events_since`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CHANNEL_PREFIX = "helpdesk:stream:"
_ALL = "*"  # the memory backend's name for "every stream"


class StreamFrame(msgspec.Struct, frozen=True):
    """One event as numbered in one stream."""

    stream: str
    seq: int
    type: str
    payload: dict[str, Any]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(StreamFrame)


class Subscription(Protocol):
    """Frames of the subscribed streams, until closed."""

    def __aiter__(self) -> AsyncIterator[StreamFrame]: ...

    async def close(self) -> None: ...


class PubSub(Protocol):
    """A pub/sub backend."""

    async def publish(self, frame: StreamFrame) -> None: ...

    async def subscribe(self, streams: Iterable[str]) -> Subscription: ...

    async def subscribe_all(self) -> Subscription: ...

    async def close(self) -> None: ...


class _QueueSubscription:
    def __init__(self, queue: asyncio.Queue[StreamFrame | None], on_close: Any) -> None:
        self._queue = queue
        self._on_close = on_close

    async def __aiter__(self) -> AsyncIterator[StreamFrame]:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            yield frame

    async def close(self) -> None:
        self._on_close()
        self._queue.put_nowait(None)


class MemoryPubSub:
    """In-process pub/sub for the embedded mode.

    Subscribers on other event loops of the same process are served through
    ``call_soon_threadsafe``, so the Dramatiq worker's loop may publish to the
    web server's subscribers.
    """

    def __init__(self) -> None:
        self._subscribers: dict[
            str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[StreamFrame | None]]]
        ] = {}

    async def publish(self, frame: StreamFrame) -> None:
        """Hand ``frame`` to every current subscriber of its stream (and of all streams)."""
        for name in (frame.stream, _ALL):
            for loop, queue in list(self._subscribers.get(name, ())):
                if loop.is_closed():
                    continue
                loop.call_soon_threadsafe(queue.put_nowait, frame)

    async def subscribe_all(self) -> Subscription:
        """Subscribe to every stream (one per web process: the live-update hub)."""
        return await self.subscribe([_ALL])

    async def subscribe(self, streams: Iterable[str]) -> Subscription:
        """Subscribe to ``streams``; frames published from now on are delivered."""
        queue: asyncio.Queue[StreamFrame | None] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        names = list(streams)
        for name in names:
            self._subscribers.setdefault(name, set()).add(entry)

        def remove() -> None:
            for name in names:
                self._subscribers.get(name, set()).discard(entry)

        return _QueueSubscription(queue, remove)

    async def close(self) -> None:
        """Forget every subscriber."""
        self._subscribers.clear()


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[StreamFrame]:
        """Frames until closed; a lost connection to Redis raises ``redis.ConnectionError``."""
        async for message in self._pubsub.listen():
            if message.get("type") in ("message", "pmessage"):
                yield _decoder.decode(message["data"])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()


class RedisPubSub:
    """Redis pub/sub for the scale-out mode: every web process sees every frame.

    redis-py's asyncio connections belong to the loop that opened them, and a
    process may publish from two loops (the web server's and Dramatiq's), so
    each loop gets its own client.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # A dropped connection (Redis restarted) is retried a few times
            # before a publish gives up; the outbox still has the frame.
            client = aioredis.from_url(
                self._url,
                retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
                retry_on_error=[RedisConnectionError, RedisTimeoutError],
            )
            self._clients[loop] = client
        return client

    async def publish(self, frame: StreamFrame) -> None:
        """Publish ``frame`` on the stream's Redis channel."""
        await self._client().publish(CHANNEL_PREFIX + frame.stream, _encoder.encode(frame))

    async def subscribe(self, streams: Iterable[str]) -> Subscription:
        """Subscribe to ``streams``; returns once Redis confirmed the subscription."""
        pubsub = self._client().pubsub()
        await pubsub.subscribe(*(CHANNEL_PREFIX + name for name in streams))
        return _RedisSubscription(pubsub)

    async def subscribe_all(self) -> Subscription:
        """Subscribe to every stream (a pattern subscription); returns once Redis confirmed."""
        pubsub = self._client().pubsub()
        await pubsub.psubscribe(CHANNEL_PREFIX + "*")
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        """Close the client of the running loop; those of other loops die with them."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def create_pubsub(redis_url: str | None) -> PubSub:
    """Redis pub/sub when a Redis URL is configured, else the in-memory one."""
    return RedisPubSub(redis_url) if redis_url else MemoryPubSub()
