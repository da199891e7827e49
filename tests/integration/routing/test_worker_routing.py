"""Routing through the event reactor, durable jobs and the Dramatiq actors of an
embedded process: new cases are assigned, queues fill as room frees up, and a
job whose message never reached the broker is sent by the relay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from helpdesk import jobs
from helpdesk.domain import Availability, Status
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.runtime import Runtime
from helpdesk.schemas import AgentUpdate, AssignIn, CaseUpdate
from helpdesk.services import agents, cases
from helpdesk.tables import Case
from tests.factories import make_case, make_team
from tests.integration.routing._support import assignee_of, available_agent


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def one_taken_by(case_ids: list[int], agent_id: int) -> Callable[[], Awaitable[bool]]:
    """Check: exactly one of the cases is assigned, to ``agent_id``; the others wait."""

    async def check() -> bool:
        assignees = [await assignee_of(c) for c in case_ids]
        return assignees.count(agent_id) == 1 and assignees.count(None) == len(case_ids) - 1

    return check


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

    # When two cases come in, one goes to a and the other waits (both are routed
    # at once by concurrent jobs, so which one wins the free slot is not fixed)
    cases_in = [(await make_case(team_id=team)).id for _ in range(2)]
    await eventually(one_taken_by(cases_in, a))
    await asyncio.sleep(0.3)
    assert await one_taken_by(cases_in, a)()
    first, second = cases_in if await assignee_of(cases_in[0]) == a else cases_in[::-1]

    # When a solves the case they took, the waiting one is theirs
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


async def test_a_job_that_never_reached_the_broker_is_sent_by_the_relay(
    embedded_runtime: Runtime,
) -> None:
    # Given a team with an available agent, and a process that dies right
    # after its commits (its dispatcher never hands the jobs over)
    team = (await make_team()).id
    a = await available_agent([team])
    await routing.set_team_routing(SYSTEM, team, TeamRoutingIn(strategy=Strategy.ROUND_ROBIN))
    jobs.stop_dispatcher()
    # When a case comes in
    case_id = (await make_case(team_id=team)).id
    # Then its routing job is in the table, and nothing routes it at once
    assert await jobs.pending_jobs() >= 1
    await asyncio.sleep(jobs.GRACE.total_seconds() / 2)
    assert await assignee_of(case_id) is None
    # and the relay sends it within seconds, and the done job is deleted
    await eventually(assigned_to(case_id, a), within=jobs.GRACE.total_seconds() + 5)
    await eventually(lambda: _no_pending_jobs(), within=5)


async def _no_pending_jobs() -> bool:
    return await jobs.pending_jobs() == 0
