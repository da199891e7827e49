"""Assignment strategies against the database: turn, load, capacity, language,
availability, waiting queues and requeueing."""

from __future__ import annotations

from helpdesk.domain import Availability, Priority, Status
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.assign import route_case
from helpdesk.routing.queue import (
    after_agent_change,
    assign_waiting,
    refill_after_case,
    requeue_agent_cases,
)
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import AgentUpdate, AssignIn, CaseUpdate, TeamUpdate
from helpdesk.services import agents, audit, cases, teams
from tests.factories import make_case, make_team
from tests.integration.routing._support import (
    assignee_of,
    available_agent,
    open_loads,
    staffed_team,
    waiting_in,
)

ENGLISH = "Hello, I cannot log in to my account."


async def routed_case(team_id: int, **fields: object) -> int:
    case = await make_case(team_id=team_id, **fields)  # type: ignore[arg-type]
    assert await route_case(case.id)
    return case.id


async def solve(case_id: int) -> None:
    current = await cases.get_case(SYSTEM, case_id)
    await cases.update_case(
        SYSTEM, case_id, CaseUpdate(version=current.version, status=Status.SOLVED)
    )


async def test_round_robin_takes_turns_and_keeps_its_place_in_the_database(db):
    team, (a, b, c) = await staffed_team(3)
    got = [await assignee_of(await routed_case(team)) for _ in range(4)]
    assert got == [a, b, c, a]
    assert (await routing.get_team_routing(SYSTEM, team)).last_agent_id == a
    history = await audit.case_history(await routed_case(team))
    assert history[-1].changes == {"assignee_id": [None, b], "reason": "round_robin"}


async def test_least_loaded_counts_open_cases_in_every_team(db):
    team, (a, b) = await staffed_team(2, Strategy.LEAST_LOADED)
    elsewhere = await make_team()
    for _ in range(2):  # a already works two cases of another team
        busy = await make_case(team_id=elsewhere.id)
        await cases.assign_case(SYSTEM, busy.id, AssignIn(assignee_id=a))
    solved = await make_case(team_id=elsewhere.id)  # solved cases do not count
    await cases.assign_case(SYSTEM, solved.id, AssignIn(assignee_id=b))
    await solve(solved.id)
    got = [await assignee_of(await routed_case(team)) for _ in range(4)]
    assert got == [b, b, a, b]
    assert await open_loads([a, b]) == {a: 3, b: 3}


async def test_a_case_goes_to_an_agent_who_speaks_its_language_when_one_has_room(db):
    team = (await make_team()).id
    await routing.set_team_routing(SYSTEM, team, TeamRoutingIn(strategy=Strategy.ROUND_ROBIN))
    english = await available_agent([team], languages=["en"], capacity=1)
    vietnamese = await available_agent([team], languages=["vi"])
    first_en = await routed_case(team, subject="Login", body=ENGLISH)
    first_vi = await routed_case(team)
    second_en = await routed_case(team, subject="Login", body=ENGLISH)  # English agent is full
    assert [await assignee_of(c) for c in (first_en, first_vi, second_en)] == [
        english,
        vietnamese,
        vietnamese,
    ]


async def test_language_is_ignored_when_the_team_says_so(db):
    team, (a, b) = await staffed_team(2, prefer_case_language=False)
    await agents.update_agent(SYSTEM, a, AgentUpdate(languages=["en"]))
    got = [await assignee_of(await routed_case(team)) for _ in range(2)]
    assert got == [a, b]


async def test_only_active_available_agents_get_cases(db):
    team, (a, b, c) = await staffed_team(3)
    await agents.update_agent(SYSTEM, a, AgentUpdate(availability=Availability.AWAY))
    await agents.update_agent(SYSTEM, b, AgentUpdate(active=False))
    got = {await assignee_of(await routed_case(team)) for _ in range(3)}
    assert got == {c}


async def test_a_team_skill_restricts_who_gets_its_cases(db):
    team, plain = await staffed_team(2, required_skill="legal")
    lawyer = await available_agent([team], skills=["legal"], capacity=1)
    first = await routed_case(team)
    second = await routed_case(team)
    assert await assignee_of(first) == lawyer
    assert await assignee_of(second) is None  # waits for the one agent with the skill
    assert plain


async def test_a_full_team_queues_cases_and_fills_as_room_frees_up(db):
    # Given two agents with room for one case each, and four cases
    team, (a, b) = await staffed_team(2, capacity=1)
    ids = [await routed_case(team) for _ in range(3)]
    urgent = await routed_case(team, priority=Priority.URGENT)
    assert [await assignee_of(i) for i in ids[:2]] == [a, b]
    assert await waiting_in(team) == [ids[2], urgent]
    assert await assign_waiting(team) == []  # nobody has room

    # When a's case is solved
    await solve(ids[0])
    made = await refill_after_case(ids[0])

    # Then the most urgent waiting case goes to a, and the other still waits
    assert [(m.case_id, m.agent_id) for m in made] == [(urgent, a)]
    assert await waiting_in(team) == [ids[2]]
    assert await open_loads([a, b]) == {a: 1, b: 1}


async def test_an_unassigned_case_frees_room_for_the_queue(db):
    team, (a,) = await staffed_team(1, capacity=1)
    first, second = await routed_case(team), await routed_case(team)
    await cases.assign_case(SYSTEM, first, AssignIn(assignee_id=None))
    made = await refill_after_case(first, freed_agent_id=a)
    assert [(m.case_id, m.agent_id) for m in made] == [(first, a)]
    assert await waiting_in(team) == [second]


async def test_an_agent_coming_back_gets_the_waiting_cases(db):
    team, (a, b) = await staffed_team(2, Strategy.LEAST_LOADED, capacity=2)
    for agent in (a, b):
        await agents.update_agent(SYSTEM, agent, AgentUpdate(availability=Availability.AWAY))
    ids = [await routed_case(team) for _ in range(3)]
    assert await waiting_in(team) == ids
    await agents.update_agent(SYSTEM, b, AgentUpdate(availability=Availability.AVAILABLE))
    made = await after_agent_change(b)
    assert [m.agent_id for m in made] == [b, b]
    assert await waiting_in(team) == [ids[2]]
    assert "agent.availability_changed" in db.types(f"team:{team}")


async def test_an_unavailable_agent_returns_cases_when_the_team_asks_for_it(db):
    # Given a team that requeues, where a and b have two cases each (one of a's solved)
    team, (a, b) = await staffed_team(2, requeue_on_unavailable=True)
    mine = [await routed_case(team) for _ in range(4)]  # a, b, a, b
    await solve(mine[0])
    # and a team that does not requeue, where a has a case too
    keep, (c,) = await staffed_team(1)
    await teams.update_team(SYSTEM, keep, TeamUpdate(member_ids=[c, a]))
    kept = (await make_case(team_id=keep)).id
    await cases.assign_case(SYSTEM, kept, AssignIn(assignee_id=a))
    assert await requeue_agent_cases(a) == []  # still available: nothing happens

    # When a goes offline
    await agents.update_agent(SYSTEM, a, AgentUpdate(availability=Availability.OFFLINE))
    made = await after_agent_change(a)

    # Then a's open case of the requeueing team goes back to the queue and on to b
    assert [(m.case_id, m.agent_id) for m in made] == [(mine[2], b)]
    assert await assignee_of(mine[0]) == a  # solved: stays
    assert await assignee_of(kept) == a  # the other team keeps its cases with a
    history = await audit.case_history(mine[2])
    reasons = [h.changes.get("reason") for h in history if h.action == "case.assigned"]
    assert reasons == ["round_robin", "agent_unavailable", "round_robin"]
