"""Assigning cases, and the "take" race: exactly one winner, the others get 409."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.domain import Status
from helpdesk.errors import (
    AlreadyAssignedError,
    ConflictError,
    InvalidTransitionError,
    ValidationError,
)
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AssignIn, CaseUpdate
from helpdesk.services import audit, cases
from tests.factories import make_agent, make_case, make_team
from tests.integration.services.helpers import outbox


async def take(agent: Principal, case_id: int) -> int:
    out = await cases.assign_case(
        agent, case_id, AssignIn(assignee_id=agent.id, only_if_unassigned=True)
    )
    return out.assignee_id  # type: ignore[return-value]


@pytest.mark.parametrize("takers", [2, 10])
async def test_concurrent_take_has_exactly_one_winner(db, takers):
    # Given an unassigned case and several agents who all see it
    case = await make_case()
    agents = [await make_agent() for _ in range(takers)]

    # When they all take it at the same moment
    results = await asyncio.gather(*(take(a, case.id) for a in agents), return_exceptions=True)

    # Then exactly one wins, every other gets a 409 AlreadyAssignedError
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == takers - 1
    for error in losers:
        assert isinstance(error, AlreadyAssignedError), repr(error)
        assert isinstance(error, ConflictError)
        assert (error.status, error.code) == (409, "already_assigned")

    # And the case, its version, its events and its audit agree on the one winner
    stored = await cases.get_case(SYSTEM, case.id)
    assert stored.assignee_id == winners[0]
    assert stored.version == case.version + 1
    assigned = [t for _, t in await outbox(f"case:{case.id}")].count("case.assigned")
    assert assigned == 1
    assert db.types(f"case:{case.id}").count("case.assigned") == 1
    history = [h for h in await audit.case_history(case.id) if h.action == "case.assigned"]
    assert [h.changes for h in history] == [{"assignee_id": [None, winners[0]]}]


async def test_take_of_an_assigned_case_fails_with_the_current_assignee(db):
    first, second = await make_agent(), await make_agent()
    case = await make_case()
    await take(first, case.id)
    with pytest.raises(AlreadyAssignedError) as raised:
        await take(second, case.id)
    assert raised.value.extra["assignee_id"] == first.id


async def test_repeated_take_by_the_winner_is_a_no_op(db):
    agent = await make_agent()
    case = await make_case()
    await take(agent, case.id)
    version = (await cases.get_case(SYSTEM, case.id)).version
    published = len(db.frames)

    assert await take(agent, case.id) == agent.id
    assert (await cases.get_case(SYSTEM, case.id)).version == version
    assert len(db.frames) == published


async def test_reassign_and_unassign(db):
    team = await make_team()
    first, second = await make_agent(team_ids=[team.id]), await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)

    await cases.assign_case(first, case.id, AssignIn(assignee_id=first.id))
    moved = await cases.assign_case(first, case.id, AssignIn(assignee_id=second.id))
    cleared = await cases.assign_case(second, case.id, AssignIn(assignee_id=None))

    assert moved.assignee_id == second.id
    assert cleared.assignee_id is None
    assigned = [e for e in db.events if type(e).__name__ == "CaseAssigned"]
    assert [(e.previous_assignee_id, e.assignee_id) for e in assigned] == [
        (None, first.id),
        (first.id, second.id),
        (second.id, None),
    ]
    assert db.types(f"team:{team.id}").count("case.assigned") == 3


async def test_cannot_assign_to_unknown_or_inactive_agents(db):
    case = await make_case()
    inactive = await make_agent(active=False)
    for assignee in (9999, inactive.id):
        with pytest.raises(ValidationError):
            await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=assignee))
    assert (await cases.get_case(SYSTEM, case.id)).assignee_id is None


async def test_closed_case_cannot_be_assigned(db):
    agent = await make_agent()
    case = await make_case()
    await cases.update_case(SYSTEM, case.id, CaseUpdate(version=case.version, status=Status.CLOSED))
    with pytest.raises(InvalidTransitionError):
        await take(agent, case.id)


async def test_agent_handing_a_case_away_still_gets_the_result(db):
    # An agent sees the case only because it is theirs; handing it on is allowed
    # and returns the committed case rather than a "not found"
    own_team, other_team = await make_team(), await make_team()
    agent = await make_agent(team_ids=[own_team.id])
    colleague = await make_agent(team_ids=[other_team.id])
    case = await make_case(team_id=other_team.id)
    await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=agent.id))

    out = await cases.assign_case(agent, case.id, AssignIn(assignee_id=colleague.id))

    assert out.assignee_id == colleague.id
