"""Talking to a Redis that may be down: clients that fail fast, and a breaker
that notices an outage once.

Used by what a web process asks of Redis while serving a request (rate
limits, console presence, publishing live updates). Each keeps a local
fallback and lets an :class:`Outage` decide whether to try Redis:

* while Redis answers, every call goes to Redis;
* the first call that cannot reach it opens the breaker and logs one warning;
  from then on calls skip Redis at once and use the fallback, except one
  probe every :data:`PROBE_SECONDS`;
* the first probe that succeeds closes the breaker and logs that Redis is back.

Promised: a dead Redis costs a call at most :data:`CONNECT_TIMEOUT` (refused
at once when nothing listens) or :data:`SOCKET_TIMEOUT` (a Redis that accepts
but does not answer), and only the probe calls pay it; one warning per outage
and component, not one per call.

Not promised: that Redis still holds anything after an outage (a restarted
Redis may come back empty); each caller says what its fallback means.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = [
    "CONNECT_TIMEOUT",
    "PROBE_SECONDS",
    "SOCKET_TIMEOUT",
    "UNREACHABLE",
    "LoopClients",
    "Outage",
]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 0.5
"""Seconds to open a connection to Redis."""
SOCKET_TIMEOUT = 1.0
"""Seconds to wait for Redis's answer to one command."""
PROBE_SECONDS = 1.0
"""While Redis is known down, how often one call tries it again."""

UNREACHABLE: tuple[type[Exception], ...] = (RedisError, OSError)
"""What a call to an unreachable (or failing) Redis raises: refused, reset,
timed out (``TimeoutError`` is an ``OSError``), loading, read-only, out of memory."""

T = TypeVar("T")


class LoopClients:
    """One client per event loop (redis-py's asyncio connections belong to the
    loop that opened them), with short timeouts and no retries.

    ``socket_timeout=None`` is for pub/sub subscriptions, which wait for
    messages as long as it takes (they check the connection themselves).
    """

    def __init__(self, url: str, *, socket_timeout: float | None = SOCKET_TIMEOUT) -> None:
        self._url = url
        self._socket_timeout = socket_timeout
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def get(self) -> aioredis.Redis:
        """The running loop's client (made on first use)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [old for old in self._clients if old.is_closed()]:
                del self._clients[old]  # loops of finished tests or threads
            client = aioredis.from_url(
                self._url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=self._socket_timeout,
            )
            self._clients[loop] = client
        return client

    async def close(self) -> None:
        """Close the running loop's client; those of other loops die with their loops."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


class Outage:
    """Whether Redis answers, as one component of a process sees it.

    ``component`` and ``fallback`` only make the log lines readable:
    "rate limits: Redis unreachable (…); counting in this process's memory".
    """

    def __init__(
        self, component: str, fallback: str, *, probe_seconds: float = PROBE_SECONDS
    ) -> None:
        self.component = component
        self.fallback = fallback
        self._probe_seconds = probe_seconds
        self._down_since: float | None = None
        self._next_probe = 0.0

    @property
    def down(self) -> bool:
        """True from a failed call until a call succeeds again."""
        return self._down_since is not None

    def should_try(self) -> bool:
        """True unless Redis is known down and the next probe is not due yet."""
        if self._down_since is None:
            return True
        now = time.monotonic()
        if now < self._next_probe:
            return False
        self._next_probe = now + self._probe_seconds
        return True

    def failed(self, error: BaseException) -> None:
        """A call could not reach Redis: open the breaker (logged on the first failure only)."""
        now = time.monotonic()
        self._next_probe = now + self._probe_seconds
        if self._down_since is None:
            self._down_since = now
            logger.warning(
                "%s: Redis unreachable (%s: %s); %s until it answers again",
                self.component, type(error).__name__, error, self.fallback,
            )  # fmt: skip

    def succeeded(self) -> None:
        """A call reached Redis: close the breaker (logged when it was open)."""
        if self._down_since is not None:
            logger.info(
                "%s: Redis answers again after %.1f s; using it again",
                self.component, time.monotonic() - self._down_since,
            )  # fmt: skip
            self._down_since = None

    async def call(
        self, redis_call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        """``redis_call()``, or ``fallback()`` when Redis is known down or does not answer.

        Only :data:`UNREACHABLE` errors fall back; anything else propagates.
        """
        if self.should_try():
            try:
                result = await redis_call()
            except UNREACHABLE as exc:
                self.failed(exc)
            else:
                self.succeeded()
                return result
        return await fallback()
