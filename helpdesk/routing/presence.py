"""Whether an agent's console is connected, and "away" after a grace period without it.

The console's websocket calls :meth:`PresenceStore.touch` while it is open
(on connect and at each heartbeat). When it closes, :func:`away_after_grace`
waits, then sets an agent who is still ``available`` to ``away`` unless a
console of theirs is connected again by then, to this process or, in the
scale-out mode, to any other (the store is Redis there). Routing then stops
giving them cases and, where a team asks for it, returns their open cases to
the queue.

Not promised: a web process that dies during the grace period forgets to
set the agent away.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis

from helpdesk.domain import Availability
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentUpdate
from helpdesk.services import agents
from helpdesk.tables import Agent

__all__ = [
    "GRACE_SECONDS",
    "MemoryPresenceStore",
    "PresenceStore",
    "RedisPresenceStore",
    "away_after_grace",
    "create_presence_store",
]

GRACE_SECONDS = 60.0
_KEY = "helpdesk:console:"


class PresenceStore(Protocol):
    """Which agents have a console connected right now."""

    async def touch(self, agent_id: int, seconds: float) -> None:
        """The agent is connected; remember it for ``seconds``."""
        ...

    async def is_online(self, agent_id: int) -> bool:
        """Whether a console of the agent touched the store recently."""
        ...


class MemoryPresenceStore:
    """This process's consoles (embedded mode)."""

    def __init__(self) -> None:
        self._until: dict[int, float] = {}

    async def touch(self, agent_id: int, seconds: float) -> None:
        """Remember the agent as connected for ``seconds``."""
        self._until[agent_id] = max(self._until.get(agent_id, 0.0), time.monotonic() + seconds)

    async def is_online(self, agent_id: int) -> bool:
        """Whether the agent was touched within its last period."""
        return self._until.get(agent_id, 0.0) > time.monotonic()


class RedisPresenceStore:
    """Consoles of every web process (scale-out mode): one expiring key per agent."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = aioredis.from_url(self._url)
        return self._clients[loop]

    async def touch(self, agent_id: int, seconds: float) -> None:
        """Set the agent's key to expire in ``seconds``."""
        await self._client().set(f"{_KEY}{agent_id}", "1", px=int(seconds * 1000))

    async def is_online(self, agent_id: int) -> bool:
        """Whether the agent's key exists."""
        return bool(await self._client().exists(f"{_KEY}{agent_id}"))


def create_presence_store(redis_url: str | None) -> PresenceStore:
    """Redis when configured, else this process's memory."""
    return RedisPresenceStore(redis_url) if redis_url else MemoryPresenceStore()


async def away_after_grace(store: PresenceStore, agent_id: int, grace: float) -> bool:
    """After ``grace`` seconds, set the agent away if they are still available and
    no console of theirs is connected; True when this call did."""
    await asyncio.sleep(grace)
    if await store.is_online(agent_id):
        return False
    row = await Agent.select(Agent.availability).where(Agent.id == agent_id).first()
    if row is None or row["availability"] != Availability.AVAILABLE:
        return False
    await agents.update_agent(SYSTEM, agent_id, AgentUpdate(availability=Availability.AWAY))
    return True
