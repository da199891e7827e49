"""Fixed-window rate limits, shared by every process of a deployment.

In the embedded mode the counters live in this process's memory; in the
scale-out mode they live in Redis (``INCR`` + ``EXPIRE``), so that N web
processes enforce one limit together. Both promise the same: at most
``limit`` hits per key per window of ``seconds``; a window starts at the first
hit. Counters are not durable: a restart forgets them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis

from helpdesk.errors import HelpdeskError


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
    """Counters in Redis (scale-out mode); one client per event loop."""

    def __init__(self, url: str, prefix: str = "helpdesk:rl:") -> None:
        self._url = url
        self._prefix = prefix
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = aioredis.from_url(self._url)
        return self._clients[loop]

    async def hit(self, key: str, limit: int, seconds: int) -> bool:
        """Count one hit; False when over the limit."""
        name = self._prefix + key
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count) <= limit


class _Configured:
    limiter: RateLimiter = MemoryRateLimiter()


def configure_rate_limiter(limiter: RateLimiter) -> None:
    """Set the process's rate limiter (composition root and tests)."""
    _Configured.limiter = limiter


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    """Redis counters when Redis is configured, else in-memory ones."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


async def check(key: str, limit: int, seconds: int) -> None:
    """Count a hit on ``key``; raise :class:`RateLimitedError` when over the limit."""
    if not await _Configured.limiter.hit(key, limit, seconds):
        raise RateLimitedError("too many attempts, try again later", retry_after=seconds)
