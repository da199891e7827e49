"""Whether an agent's console is connected, and "away" after a grace period without it.

The console's websocket calls :meth:`PresenceStore.touch` while it is open
(on connect and at each heartbeat). When it closes, :func:`away_after_grace`
waits, then sets an agent who is still ``available`` to ``away`` unless a
console of theirs is connected again by then, to this process or, in the
scale-out mode, to any other (the store is Redis there). When a console of
an agent made away that way connects again, :func:`back_after_absence` makes
them available again; an "away" the agent chose stays. Routing then stops
giving them cases and, where a team asks for it, returns their open cases to
the queue.

In the scale-out mode each agent has one expiring key,
``<namespace>:console:<agent id>``. Every touch is also remembered in this
process's memory, and an agent counts as online when either says so. So while
Redis is unreachable presence degrades to this process's consoles (one
warning in the log per outage, see :mod:`helpdesk.redis_outage`) and never
raises into the websocket; a Redis that comes back empty is filled again by
the next heartbeats, and meanwhile this process still sees its own consoles.

Not promised: a web process that dies during the grace period forgets to
set the agent away; while Redis is down, consoles connected to *other* web
processes are not seen, so an agent whose last console here closes may be
set away although another process still serves one of theirs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from helpdesk.db import transaction
from helpdesk.domain import Availability
from helpdesk.policy import SYSTEM
from helpdesk.redis_outage import LoopClients, Outage
from helpdesk.schemas import AgentUpdate
from helpdesk.services import agents
from helpdesk.tables import Agent

__all__ = [
    "GRACE_SECONDS",
    "MemoryPresenceStore",
    "PresenceStore",
    "RedisPresenceStore",
    "away_after_grace",
    "back_after_absence",
    "create_presence_store",
]

GRACE_SECONDS = 60.0


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
    """Consoles of every web process (scale-out mode): one expiring key per agent,
    plus this process's own consoles in memory (the view kept while Redis is down)."""

    def __init__(self, url: str, *, namespace: str = "helpdesk") -> None:
        self._prefix = f"{namespace}:console:"
        self._clients = LoopClients(url)
        self._local = MemoryPresenceStore()
        self._outage = Outage("console presence", "seeing this process's consoles only")

    async def touch(self, agent_id: int, seconds: float) -> None:
        """Remember the agent here, and set their key to expire in ``seconds``."""
        await self._local.touch(agent_id, seconds)
        key = f"{self._prefix}{agent_id}"
        await self._outage.call(
            lambda: self._clients.get().set(key, "1", px=int(seconds * 1000)), _nothing
        )

    async def is_online(self, agent_id: int) -> bool:
        """Whether a console of this process touched the agent recently, or the
        agent's key exists (not asked while Redis is known down)."""
        if await self._local.is_online(agent_id):
            return True
        key = f"{self._prefix}{agent_id}"
        return bool(await self._outage.call(lambda: self._clients.get().exists(key), _zero))

    async def close(self) -> None:
        """Close the running loop's connection (tests; a process simply exits)."""
        await self._clients.close()


async def _nothing() -> None:
    return None


async def _zero() -> int:
    return 0


def create_presence_store(redis_url: str | None, *, namespace: str = "helpdesk") -> PresenceStore:
    """Redis (keys under ``namespace``) when configured, else this process's memory."""
    return (
        RedisPresenceStore(redis_url, namespace=namespace) if redis_url else MemoryPresenceStore()
    )


async def away_after_grace(store: PresenceStore, agent_id: int, grace: float) -> bool:
    """After ``grace`` seconds, set the agent away if they are still available and
    no console of theirs is connected; True when this call did. The agent is
    marked as made away by the desk (``auto_away``), so :func:`back_after_absence`
    may undo it."""
    await asyncio.sleep(grace)
    if await store.is_online(agent_id):
        return False
    async with transaction():
        if await _availability(agent_id) != (Availability.AVAILABLE, False):
            return False
        await agents.update_agent(SYSTEM, agent_id, AgentUpdate(availability=Availability.AWAY))
        await Agent.update({Agent.auto_away: True}).where(Agent.id == agent_id)
    return True


async def back_after_absence(agent_id: int) -> bool:
    """A console of the agent connected: if the grace period (not the agent)
    had set them away, make them available again; True when this call did."""
    async with transaction():
        if await _availability(agent_id) != (Availability.AWAY, True):
            return False
        await agents.update_agent(
            SYSTEM, agent_id, AgentUpdate(availability=Availability.AVAILABLE)
        )
    return True


async def _availability(agent_id: int) -> tuple[str, bool] | None:
    """The agent's availability and whether the desk chose it (None: no such agent)."""
    row = (
        await Agent.select(Agent.availability, Agent.auto_away).where(Agent.id == agent_id).first()
    )
    return None if row is None else (row["availability"], bool(row["auto_away"]))
