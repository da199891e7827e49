"""Builders and readers shared by the routing integration tests."""

from __future__ import annotations

from helpdesk.domain import Availability, Status
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import AgentUpdate
from helpdesk.services import agents
from helpdesk.tables import Case
from tests.factories import make_agent, make_team

OPEN = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]


async def available_agent(
    team_ids: list[int],
    *,
    capacity: int = 10,
    languages: list[str] | None = None,
    skills: list[str] | None = None,
) -> int:
    """An active, available agent in ``team_ids``; returns their id."""
    agent = await make_agent(team_ids=team_ids)
    assert agent.id is not None
    await agents.update_agent(
        SYSTEM,
        agent.id,
        AgentUpdate(
            availability=Availability.AVAILABLE,
            capacity=capacity,
            languages=languages if languages is not None else ["vi"],
            skills=skills or [],
        ),
    )
    return agent.id


async def staffed_team(
    size: int,
    strategy: Strategy = Strategy.ROUND_ROBIN,
    *,
    capacity: int = 10,
    **settings: object,
) -> tuple[int, list[int]]:
    """A team of ``size`` available agents and the given routing settings."""
    team = await make_team()
    agent_ids = [await available_agent([team.id], capacity=capacity) for _ in range(size)]
    await routing.set_team_routing(
        SYSTEM,
        team.id,
        TeamRoutingIn(strategy=strategy, **settings),  # type: ignore[arg-type]
    )
    return team.id, agent_ids


async def open_loads(agent_ids: list[int]) -> dict[int, int]:
    """Each agent's open cases (every agent listed, zero included)."""
    rows = await Case.select(Case.assignee).where(
        Case.assignee.is_in(agent_ids) & Case.status.is_in(OPEN)
    )
    counts = dict.fromkeys(agent_ids, 0)
    for row in rows:
        counts[row["assignee"]] += 1
    return counts


async def assignee_of(case_id: int) -> int | None:
    row = await Case.select(Case.assignee).where(Case.id == case_id).first()
    assert row is not None
    return row["assignee"]  # type: ignore[no-any-return]


async def waiting_in(team_id: int) -> list[int]:
    rows = (
        await Case.select(Case.id)
        .where((Case.team == team_id) & Case.assignee.is_null() & Case.status.is_in(OPEN))
        .order_by(Case.id)
    )
    return [r["id"] for r in rows]
