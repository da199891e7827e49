"""Fixed-window rate limits, shared by every process of a deployment.

In the embedded mode the counters live in this process's memory; in the
scale-out mode they live in Redis (``INCR`` + ``EXPIRE``, keys
``<namespace>:rl:<key>``), so that N web processes enforce one limit
together. Both promise the same: at most ``limit`` hits per key per window of
``seconds``; a window starts at the first hit. Counters are not durable: a
restart forgets them.

While Redis is unreachable the Redis limiter counts in this process's memory
instead (one warning in the log per outage, see :mod:`helpdesk.redis_outage`),
and goes back to Redis once it answers: a request is never refused, nor fails,
because Redis is down. Not promised meanwhile: one limit across processes
(each process enforces the limit on its own hits), nor that hits counted in
memory carry over to Redis afterwards.
"""

from __future__ import annotations

import time
from typing import Protocol

from helpdesk.errors import HelpdeskError
from helpdesk.redis_outage import LoopClients, Outage


class RateLimitedError(HelpdeskError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    code = "rate_limited"
    status = 429
    title = "Too many requests"


class RateLimiter(Protocol):
    """Counts hits per key and window."""

    async def hit(self, key: str, limit: int, seconds: int) -> bool:
        """Count one hit; False when the key is over its limit in this window."""
        ...


class MemoryRateLimiter:
    """Counters in this process (embedded mode)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, seconds: int) -> bool:
        """Count one hit; False when over the limit."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= seconds:
            started, count = now, 0
        self._windows[key] = (started, count + 1)
        if len(self._windows) > 100_000:
            self._forget_expired(now, seconds)
        return count + 1 <= limit

    def _forget_expired(self, now: float, seconds: int) -> None:
        for key, (started, _) in list(self._windows.items()):
            if now - started >= seconds:
                del self._windows[key]


class RedisRateLimiter:
    """Counters in Redis (scale-out mode), in this process's memory while Redis
    is unreachable."""

    def __init__(self, url: str, *, namespace: str = "helpdesk") -> None:
        self._prefix = f"{namespace}:rl:"
        self._clients = LoopClients(url)
        self._local = MemoryRateLimiter()
        self._outage = Outage("rate limits", "counting in this process's memory")

    async def hit(self, key: str, limit: int, seconds: int) -> bool:
        """Count one hit; False when over the limit."""
        return await self._outage.call(
            lambda: self._redis_hit(key, limit, seconds),
            lambda: self._local.hit(key, limit, seconds),
        )

    async def _redis_hit(self, key: str, limit: int, seconds: int) -> bool:
        name = self._prefix + key
        async with self._clients.get().pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count) <= limit

    async def close(self) -> None:
        """Close the running loop's connection (tests; a process simply exits)."""
        await self._clients.close()


class _Configured:
    limiter: RateLimiter = MemoryRateLimiter()


def configure_rate_limiter(limiter: RateLimiter) -> None:
    """Set the process's rate limiter (composition root and tests)."""
    _Configured.limiter = limiter


def create_rate_limiter(redis_url: str | None, *, namespace: str = "helpdesk") -> RateLimiter:
    """Redis counters (keys under ``namespace``) when Redis is configured, else
    in-memory ones."""
    return RedisRateLimiter(redis_url, namespace=namespace) if redis_url else MemoryRateLimiter()


async def check(key: str, limit: int, seconds: int) -> None:
    """Count a hit on ``key``; raise :class:`RateLimitedError` when over the limit."""
    if not await _Configured.limiter.hit(key, limit, seconds):
        raise RateLimitedError("too many attempts, try again later", retry_after=seconds)
