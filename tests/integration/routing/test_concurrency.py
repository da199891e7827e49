"""Routing under concurrency (STACK_NOTES pitfall 8): simultaneous cases never
push an agent over capacity, and round-robin stays balanced, on both engines.

On PostgreSQL the choice is made under the team's ``team_routing`` row lock and
the agents' row locks; on SQLite the write transaction runs alone.
"""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.assign import route_case
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.tables import AuditEntry
from tests.factories import make_case, make_team
from tests.integration.routing._support import available_agent, open_loads, staffed_team, waiting_in


async def open_and_route(team_id: int, n: int) -> bool:
    case = await make_case(team_id=team_id, subject=f"Yêu cầu số {n}")
    return await route_case(case.id)


@pytest.mark.parametrize("strategy", [Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED])
async def test_fifty_simultaneous_cases_stay_within_capacity_and_balanced(db, strategy):
    # Given a team of five available agents with room for ten cases each
    team, agents = await staffed_team(5, strategy, capacity=10)

    # When fifty cases are opened and routed at the same moment
    results = await asyncio.gather(*(open_and_route(team, n) for n in range(50)))

    # Then every case is assigned, nobody is over capacity, and the load is even
    assert all(results)
    loads = await open_loads(agents)
    assert sum(loads.values()) == 50
    assert max(loads.values()) <= 10
    assert max(loads.values()) - min(loads.values()) <= 1, loads
    assert await waiting_in(team) == []


async def test_simultaneous_routing_of_opened_cases_queues_the_overflow(db):
    # Given a team of five with room for ten each, and sixty cases already open
    team, agents = await staffed_team(5, Strategy.ROUND_ROBIN, capacity=10)
    case_ids = [(await make_case(team_id=team)).id for _ in range(60)]

    # When all of them are routed at once
    assert all(await asyncio.gather(*(route_case(c) for c in case_ids)))

    # Then each agent has exactly ten, and the other ten cases wait in the queue
    assert await open_loads(agents) == dict.fromkeys(agents, 10)
    assert len(await waiting_in(team)) == 10
    assigned = await AuditEntry.count().where(AuditEntry.action == "case.assigned")
    assert assigned == 50


async def test_two_teams_sharing_agents_never_push_them_over_capacity(db):
    # Given three agents with room for five each, members of two round-robin teams
    first, second = (await make_team()).id, (await make_team()).id
    agents = [await available_agent([first, second], capacity=5) for _ in range(3)]
    for team in (first, second):
        await routing.set_team_routing(SYSTEM, team, TeamRoutingIn(strategy=Strategy.ROUND_ROBIN))

    # When thirty cases arrive at once, half in each team
    routed = await asyncio.gather(
        *(open_and_route(first if n % 2 else second, n) for n in range(30))
    )

    # Then the agents are exactly full and the rest wait
    assert all(routed)
    assert await open_loads(agents) == dict.fromkeys(agents, 5)
    assert len(await waiting_in(first)) + len(await waiting_in(second)) == 15


async def test_routing_one_case_many_times_at_once_routes_it_once(db):
    team, _ = await staffed_team(3)
    case = await make_case(team_id=team)
    results = await asyncio.gather(*(route_case(case.id) for _ in range(8)))
    assert results.count(True) == 1
    for action in ("case.routed", "case.assigned"):
        count = await AuditEntry.count().where(
            (AuditEntry.case == case.id) & (AuditEntry.action == action)
        )
        assert count == 1, action
