"""An agent whose console disconnects goes away after the grace period, unless it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpdesk.domain import Availability, Role
from helpdesk.policy import SYSTEM, Principal
from helpdesk.routing.presence import (
    MemoryPresenceStore,
    PresenceStore,
    RedisPresenceStore,
    away_after_grace,
    back_after_absence,
)
from helpdesk.schemas import AgentUpdate
from helpdesk.services import agents
from tests.conftest import REDIS_URL, EventLog
from tests.integration.routing._support import available_agent


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, db: EventLog, redis_namespace: str
) -> AsyncIterator[PresenceStore]:
    if request.param == "memory":
        yield MemoryPresenceStore()
        return
    redis_store = RedisPresenceStore(REDIS_URL, namespace=redis_namespace)
    yield redis_store
    await redis_store.close()


async def availability(agent_id: int) -> str:
    return (await agents.get_agent(SYSTEM, agent_id)).availability


async def test_a_console_gone_for_the_grace_period_makes_the_agent_away(
    store: PresenceStore,
) -> None:
    agent_id = await available_agent([])
    await store.touch(agent_id, seconds=0.05)  # connected, then the heartbeats stop

    assert await away_after_grace(store, agent_id, grace=0.2)

    assert await availability(agent_id) == Availability.AWAY


async def test_a_console_back_within_the_grace_period_keeps_the_agent_available(
    store: PresenceStore,
) -> None:
    agent_id = await available_agent([])
    await store.touch(agent_id, seconds=5)  # reconnected (here or to another web process)

    assert not await away_after_grace(store, agent_id, grace=0.1)

    assert await availability(agent_id) == Availability.AVAILABLE


async def test_an_agent_made_away_by_the_grace_period_is_available_again_on_return(
    store: PresenceStore,
) -> None:
    agent_id = await available_agent([])
    await store.touch(agent_id, seconds=0.05)
    assert await away_after_grace(store, agent_id, grace=0.1)

    assert await back_after_absence(agent_id)  # a console of theirs connected again

    assert await availability(agent_id) == Availability.AVAILABLE
    assert not await back_after_absence(agent_id)  # once


async def test_an_away_the_agent_chose_stays_when_a_console_connects(
    store: PresenceStore,
) -> None:
    agent_id = await available_agent([])
    await store.touch(agent_id, seconds=0.05)
    assert await away_after_grace(store, agent_id, grace=0.1)
    # the agent then chooses "away" themselves: no longer the desk's guess
    the_agent = Principal(kind="agent", id=agent_id, role=Role.AGENT)
    await agents.update_agent(the_agent, agent_id, AgentUpdate(availability=Availability.AWAY))

    assert not await back_after_absence(agent_id)

    assert await availability(agent_id) == Availability.AWAY
