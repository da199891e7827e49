"""Routing through the events listener and the Dramatiq actors of an embedded
process: new cases are assigned, and queues fill as room frees up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from helpdesk.domain import Availability, Status
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.runtime import Runtime, rearm_lost_work
from helpdesk.schemas import AgentUpdate, AssignIn, CaseUpdate
from helpdesk.services import agents, cases
from helpdesk.tables import Agent, Case
from tests.factories import make_case, make_team
from tests.integration.routing._support import assignee_of, available_agent


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def assigned_to(case_id: int, agent_id: int | None) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await assignee_of(case_id) == agent_id

    return check


async def test_worker_assigns_new_cases_and_refills_the_queue(embedded_runtime: Runtime) -> None:
    # Given an embedded process with its worker, and a round-robin team whose
    # one agent has room for one case and whose cases return when they leave
    team = (await make_team()).id
    a = await available_agent([team], capacity=1)
    await routing.set_team_routing(
        SYSTEM,
        team,
        TeamRoutingIn(strategy=Strategy.ROUND_ROBIN, requeue_on_unavailable=True),
    )

    # When two cases come in, the first goes to a and the second waits
    first, second = (await make_case(team_id=team)).id, (await make_case(team_id=team)).id
    await eventually(assigned_to(first, a))
    await asyncio.sleep(0.3)
    assert await assignee_of(second) is None

    # When a solves the first case, the second is theirs
    version = (await cases.get_case(SYSTEM, first)).version
    await cases.update_case(SYSTEM, first, CaseUpdate(version=version, status=Status.SOLVED))
    await eventually(assigned_to(second, a))

    # When a goes away, the case returns to the queue; when b arrives, b gets it
    await agents.update_agent(SYSTEM, a, AgentUpdate(availability=Availability.AWAY))
    await eventually(assigned_to(second, None))
    b = await available_agent([team], capacity=1)  # becoming available fills the queue
    await eventually(assigned_to(second, b))

    # When b gives the case up, it goes straight back to b (the only one with room)
    await cases.assign_case(SYSTEM, second, AssignIn(assignee_id=None))
    await eventually(assigned_to(second, b))


async def test_switching_a_team_to_a_strategy_assigns_its_waiting_cases(
    embedded_runtime: Runtime,
) -> None:
    team = (await make_team()).id  # manual until configured
    a = await available_agent([team])
    waiting = [(await make_case(team_id=team)).id for _ in range(3)]
    await asyncio.sleep(0.3)
    assert [await assignee_of(c) for c in waiting] == [None] * 3
    await routing.set_team_routing(SYSTEM, team, TeamRoutingIn(strategy=Strategy.LEAST_LOADED))
    for case_id in waiting:
        await eventually(assigned_to(case_id, a))


def routed(case_id: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await Case.exists().where((Case.id == case_id) & Case.routed_at.is_not_null())

    return check


async def test_a_lost_refill_is_made_up_by_the_periodic_rearm(embedded_runtime: Runtime) -> None:
    # Given a round-robin team whose one agent is full, with a case waiting
    team = (await make_team()).id
    a = await available_agent([team], capacity=1)
    await routing.set_team_routing(SYSTEM, team, TeamRoutingIn(strategy=Strategy.ROUND_ROBIN))
    first, second = (await make_case(team_id=team)).id, (await make_case(team_id=team)).id
    await eventually(assigned_to(first, a))
    await eventually(routed(second))
    await asyncio.sleep(1.0)  # every queued routing job has run by now
    # When room appears without any event (as if the refill message were lost)
    await Agent.update({Agent.capacity: 2}).where(Agent.id == a)
    await asyncio.sleep(0.3)
    assert await assignee_of(second) is None
    # Then the periodic re-arm fills the queue
    await rearm_lost_work()
    await eventually(assigned_to(second, a))
