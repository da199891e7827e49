"""Pub/sub for live updates: in memory (embedded) or Redis (scale-out).

Both backends carry :class:`StreamFrame` objects for named streams and make
the same promise, and only that one: a subscriber receives the frames
published after it subscribed, while it stays connected, in publish order per
stream. Nothing is stored here; missed frames are read back from the outbox
(:func:`helpdesk.events.events_since`).

The Redis backend publishes on ``<namespace>:stream:<stream>``. While Redis
is unreachable, :meth:`RedisPubSub.publish` drops the frame and returns at
once (one warning in the log per outage, see :mod:`helpdesk.redis_outage`):
the outbox has it, and the live-update hub reads it from there. A
subscription raises ``redis.ConnectionError`` when its connection is lost,
including a connection that stays silent (no answer to a ping) for
:data:`SILENT_SECONDS`, and subscribing fails after :data:`SUBSCRIBE_SECONDS`
(a hung Redis); resubscribing is the subscriber's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError

from helpdesk.redis_outage import LoopClients, Outage

_ALL = "*"  # the memory backend's name for "every stream"
PING_SECONDS = 5.0
"""A subscription silent this long pings Redis, to learn whether it is still there."""
SILENT_SECONDS = 15.0
"""A subscription that hears nothing at all (not even a pong) this long is lost."""
SUBSCRIBE_SECONDS = 3.0
"""How long subscribing (connecting included) may take before it fails."""


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
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[StreamFrame]:
        """Frames until closed; a lost connection to Redis raises ``redis.ConnectionError``."""
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while not self._closed:
            message = await self._pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is None:
                if now - heard > SILENT_SECONDS:
                    raise RedisConnectionError(f"no answer from Redis for {SILENT_SECONDS:.0f} s")
                if now - max(heard, pinged) > PING_SECONDS:
                    pinged = now
                    await self._pubsub.ping()
                continue
            heard = now
            if message.get("type") in ("message", "pmessage"):
                yield _decoder.decode(message["data"])

    async def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()


class RedisPubSub:
    """Redis pub/sub for the scale-out mode: every web process sees every frame.

    redis-py's asyncio connections belong to the loop that opened them, and a
    process may publish from two loops (the web server's and Dramatiq's), so
    each loop gets its own clients: one that fails fast for publishing, one
    without a read timeout for subscriptions.
    """

    def __init__(self, url: str, *, namespace: str = "helpdesk") -> None:
        self._prefix = f"{namespace}:stream:"
        self._publishers = LoopClients(url)
        self._listeners = LoopClients(url, socket_timeout=None)
        self._outage = Outage("live updates", "not publishing (clients catch up from the outbox)")

    async def publish(self, frame: StreamFrame) -> None:
        """Publish ``frame`` on the stream's Redis channel; dropped (and logged once
        per outage) while Redis is unreachable."""
        channel, data = self._prefix + frame.stream, _encoder.encode(frame)
        await self._outage.call(lambda: self._publishers.get().publish(channel, data), _dropped)

    async def subscribe(self, streams: Iterable[str]) -> Subscription:
        """Subscribe to ``streams``; raises when Redis does not take the subscription
        within :data:`SUBSCRIBE_SECONDS`."""
        channels = [self._prefix + name for name in streams]
        return await self._open(lambda pubsub: pubsub.subscribe(*channels))

    async def subscribe_all(self) -> Subscription:
        """Subscribe to every stream (a pattern subscription); raises like :meth:`subscribe`."""
        return await self._open(lambda pubsub: pubsub.psubscribe(self._prefix + "*"))

    async def _open(self, subscribe: Callable[[Any], Awaitable[Any]]) -> Subscription:
        pubsub = self._listeners.get().pubsub()
        try:  # the listening client has no read timeout: bound the connection here
            await asyncio.wait_for(subscribe(pubsub), SUBSCRIBE_SECONDS)
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        """Close the clients of the running loop; those of other loops die with them."""
        await self._publishers.close()
        await self._listeners.close()


async def _dropped() -> int:
    return 0


def create_pubsub(redis_url: str | None, *, namespace: str = "helpdesk") -> PubSub:
    """Redis pub/sub (channels under ``namespace``) when a Redis URL is configured,
    else the in-memory one."""
    return RedisPubSub(redis_url, namespace=namespace) if redis_url else MemoryPubSub()
