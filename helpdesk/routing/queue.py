"""Team queues: waiting cases are assigned as soon as an agent has room.

:func:`assign_waiting` gives a team's waiting cases to its agents with room,
under the team's routing lock (see :mod:`helpdesk.routing._pool`). The
actors of :mod:`helpdesk.routing.actors` call it, through
:func:`refill_after_case` and :func:`after_agent_change`, whenever room may
have appeared: a case solved, closed, unassigned or merged, an agent back,
a team's strategy changed. :func:`requeue_agent_cases` puts an unavailable
agent's cases back in the queues of the teams that ask for it.
"""

from __future__ import annotations

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import Availability, Status
from helpdesk.routing._pool import (
    OPEN_STATUSES,
    record_assignment,
    remember_last_agent,
    team_candidates,
    team_settings,
    waiting_cases,
)
from helpdesk.routing.strategies import Strategy, choose_agent, with_one_more_case
from helpdesk.routing.tables import TeamRouting
from helpdesk.tables import Agent, Case, TeamMember

__all__ = [
    "Assignment",
    "after_agent_change",
    "assign_waiting",
    "refill_after_case",
    "requeue_agent_cases",
]


class Assignment(msgspec.Struct, frozen=True):
    """A case given to an agent by routing."""

    case_id: int
    agent_id: int


async def assign_waiting(team_id: int, *, limit: int = 200) -> list[Assignment]:
    """Give the team's waiting cases (most urgent, then oldest, first) to its
    agents with room, by the team's strategy; return what was assigned.

    Does nothing for a manual team. Cases that need a skill or that nobody
    can take stay waiting; at most ``limit`` waiting cases are looked at.
    """
    if (await team_settings(team_id)).strategy == Strategy.MANUAL:
        return []
    made: list[Assignment] = []
    async with transaction():
        settings = await team_settings(team_id, lock=True)
        if settings.strategy == Strategy.MANUAL:
            return []
        queue = await waiting_cases(team_id, limit)
        candidates = await team_candidates(team_id) if queue else []
        last = settings.last_agent_id
        for case in queue:
            if not any(c.has_room for c in candidates):
                break
            pick = choose_agent(
                settings.strategy,
                candidates,
                last_agent_id=last,
                skill=case.skill or settings.required_skill,
                language=case.language if settings.prefer_case_language else None,
            )
            if pick is None or not await _give(case.id, team_id, pick.agent_id):
                continue
            await record_assignment(case.id, team_id, pick.agent_id, None, settings.strategy)
            candidates = with_one_more_case(candidates, pick.agent_id)
            last = pick.agent_id
            made.append(Assignment(case_id=case.id, agent_id=pick.agent_id))
        if last is not None and last != settings.last_agent_id:
            await remember_last_agent(team_id, last)
    return made


async def _give(case_id: int, team_id: int, agent_id: int) -> bool:
    """Assign a waiting case, if it is still waiting in this team."""
    updated = (
        await Case.update(
            {Case.assignee: agent_id, Case.version: Case.version + 1, Case.updated_at: utcnow()}
        )
        .where(
            (Case.id == case_id)
            & Case.assignee.is_null()
            & (Case.team == team_id)
            & Case.status.is_in(list(OPEN_STATUSES))
        )
        .returning(Case.id)
    )
    return bool(updated)


async def _teams_of(agent_id: int) -> list[int]:
    rows = await TeamMember.select(TeamMember.team).where(TeamMember.agent == agent_id)
    return sorted({int(r["team"]) for r in rows})


async def _is_routable(agent_id: int) -> bool:
    row = await Agent.select(Agent.active, Agent.availability).where(Agent.id == agent_id).first()
    return row is not None and bool(row["active"]) and row["availability"] == Availability.AVAILABLE


async def requeue_agent_cases(agent_id: int) -> list[int]:
    """Put back in the queue the open cases an agent who is no longer available
    (or active) holds in teams that ask for it; return their ids.

    Does nothing while the agent is available: the state is read when this
    runs, not when the change happened, so a quick away-and-back is harmless.
    """
    team_ids = await _teams_of(agent_id)
    if not team_ids or await _is_routable(agent_id):
        return []
    rows = await TeamRouting.select(TeamRouting.team).where(
        TeamRouting.team.is_in(team_ids) & (TeamRouting.requeue_on_unavailable == True)  # noqa: E712
    )
    requeued: list[int] = []
    for team_id in sorted(int(r["team"]) for r in rows):
        async with transaction():
            settings = await team_settings(team_id, lock=True)
            if not settings.requeue_on_unavailable or await _is_routable(agent_id):
                continue
            held = await Case.select(Case.id).where(
                (Case.assignee == agent_id)
                & (Case.team == team_id)
                & Case.status.is_in(list(OPEN_STATUSES))
            )
            for row in held:
                updated = (
                    await Case.update(
                        {Case.assignee: None, Case.version: Case.version + 1,
                         Case.updated_at: utcnow()}
                    )
                    .where((Case.id == row["id"]) & (Case.assignee == agent_id))
                    .returning(Case.id)
                )  # fmt: skip
                if updated:
                    await record_assignment(row["id"], team_id, None, agent_id, "agent_unavailable")
                    requeued.append(int(row["id"]))
    return requeued


async def after_agent_change(agent_id: int) -> list[Assignment]:
    """React to an agent's availability, active flag or capacity changing:
    requeue their cases where the team asks for it, then fill the queues of
    their teams (with them, if they have room, or with the others)."""
    await requeue_agent_cases(agent_id)
    made: list[Assignment] = []
    for team_id in await _teams_of(agent_id):
        made += await assign_waiting(team_id)
    return made


async def refill_after_case(case_id: int, freed_agent_id: int | None = None) -> list[Assignment]:
    """Fill the queues that a change of one case may have unblocked.

    ``freed_agent_id`` lost the case (unassigned or reassigned). Without it,
    a solved or closed case frees its assignee. The teams of the freed agent
    are filled, and the case's own team when the case now waits in it.
    """
    row = await Case.select(Case.team, Case.assignee, Case.status).where(Case.id == case_id).first()
    if row is None:
        return []
    freed = freed_agent_id
    if freed is None and row["status"] in (Status.SOLVED, Status.CLOSED):
        freed = row["assignee"]
    team_ids = set(await _teams_of(freed)) if freed is not None else set()
    if row["team"] is not None and row["assignee"] is None and row["status"] in OPEN_STATUSES:
        team_ids.add(int(row["team"]))
    made: list[Assignment] = []
    for team_id in sorted(team_ids):
        made += await assign_waiting(team_id)
    return made
