"""The database side of assignment: a team's settings (and its lock), its
agents as :class:`Candidate` snapshots, its waiting queue, and recording an
assignment.

Lock order, on PostgreSQL, for every routing transaction: the team's
``team_routing`` row (``FOR UPDATE``), then the team's available agents in id
order (``FOR NO KEY UPDATE``), then the cases. Holding the agents' rows while
their open cases are counted and one is given a case makes the count exact
even when two teams share an agent. On SQLite the ``BEGIN IMMEDIATE`` write
transaction already runs one at a time, and no row lock is taken.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from helpdesk.db import current_engine, is_postgres
from helpdesk.domain import Availability, Priority, Status
from helpdesk.events import CaseAssigned, case_stream, emit, team_stream
from helpdesk.policy import SYSTEM
from helpdesk.routing.strategies import Candidate, Strategy
from helpdesk.routing.tables import CaseRouting, TeamRouting
from helpdesk.services import audit
from helpdesk.services.rows import json_list
from helpdesk.tables import Agent, Case, TeamMember

OPEN_STATUSES: tuple[str, ...] = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class TeamSettings(msgspec.Struct, frozen=True, kw_only=True):
    """A team's routing settings; a team without a ``team_routing`` row is manual."""

    team_id: int
    strategy: Strategy = Strategy.MANUAL
    required_skill: str | None = None
    prefer_case_language: bool = True
    requeue_on_unavailable: bool = False
    last_agent_id: int | None = None


class WaitingCase(msgspec.Struct, frozen=True, kw_only=True):
    """An unassigned open case in a team's queue."""

    id: int
    language: str
    priority: str
    skill: str | None


def settings_from_row(team_id: int, row: dict[str, Any] | None) -> TeamSettings:
    """The settings of a ``team_routing`` row (manual when there is none)."""
    if row is None:
        return TeamSettings(team_id=team_id)
    return TeamSettings(
        team_id=team_id,
        strategy=Strategy(row["strategy"]),
        required_skill=row["required_skill"] or None,
        prefer_case_language=bool(row["prefer_case_language"]),
        requeue_on_unavailable=bool(row["requeue_on_unavailable"]),
        last_agent_id=row["last_agent"],
    )


def _postgres() -> bool:
    return is_postgres(current_engine())


async def team_settings(team_id: int, *, lock: bool = False) -> TeamSettings:
    """The team's settings; with ``lock`` (inside a transaction) its row is locked
    on PostgreSQL until the transaction ends."""
    query = TeamRouting.select().where(TeamRouting.team == team_id)
    if lock and _postgres():
        query = query.lock_rows("UPDATE")
    return settings_from_row(team_id, await query.first())


async def team_candidates(team_id: int) -> list[Candidate]:
    """The team's active, available agents with their open-case counts, by id.

    On PostgreSQL their rows stay locked until the transaction ends; call
    after :func:`team_settings` with ``lock=True``.
    """
    members = await TeamMember.select(TeamMember.agent).where(TeamMember.team == team_id)
    member_ids = sorted({int(r["agent"]) for r in members})
    if not member_ids:
        return []
    query = (
        Agent.select(Agent.id, Agent.capacity, Agent.languages, Agent.skills)
        .where(
            Agent.id.is_in(member_ids)
            & (Agent.active == True)  # noqa: E712 - Piccolo needs ==
            & (Agent.availability == Availability.AVAILABLE)
        )
        .order_by(Agent.id)
    )
    if _postgres():
        query = query.lock_rows("NO KEY UPDATE")
    agents = await query
    if not agents:
        return []
    loads = await open_case_counts([int(a["id"]) for a in agents])
    return [
        Candidate(
            agent_id=int(a["id"]),
            load=loads.get(int(a["id"]), 0),
            capacity=int(a["capacity"]),
            available=True,
            languages=frozenset(json_list(a["languages"])),
            skills=frozenset(json_list(a["skills"])),
        )
        for a in agents
    ]


async def open_case_counts(agent_ids: list[int]) -> dict[int, int]:
    """How many open cases (new, open, pending, on hold) each agent has, in any team."""
    rows = (
        await Case.select(Case.assignee, Count())
        .where(Case.assignee.is_in(agent_ids) & Case.status.is_in(list(OPEN_STATUSES)))
        .group_by(Case.assignee)
    )
    return {int(r["assignee"]): int(r["count"]) for r in rows}


async def waiting_cases(team_id: int, limit: int) -> list[WaitingCase]:
    """Up to ``limit`` of the team's routed, unassigned open cases (the oldest),
    most urgent first, each with the skill its routing rule asked for."""
    rows = (
        await Case.select(Case.id, Case.language, Case.priority)
        .where(
            (Case.team == team_id)
            & Case.assignee.is_null()
            & Case.routed_at.is_not_null()
            & Case.status.is_in(list(OPEN_STATUSES))
        )
        .order_by(Case.id)
        .limit(limit)
    )
    if not rows:
        return []
    skills = {
        int(r["case"]): str(r["required_skill"])
        for r in await CaseRouting.select(CaseRouting.case, CaseRouting.required_skill).where(
            CaseRouting.case.is_in([r["id"] for r in rows]) & (CaseRouting.required_skill != "")
        )
    }
    waiting = [
        WaitingCase(
            id=int(r["id"]),
            language=str(r["language"] or ""),
            priority=str(r["priority"]),
            skill=skills.get(int(r["id"])),
        )
        for r in rows
    ]
    return sorted(waiting, key=lambda c: (PRIORITY_RANK.get(Priority(c.priority), 2), c.id))


async def remember_last_agent(team_id: int, agent_id: int) -> None:
    """Store the round-robin position of the team."""
    await TeamRouting.update({TeamRouting.last_agent: agent_id}).where(TeamRouting.team == team_id)


async def record_assignment(
    case_id: int,
    team_id: int | None,
    agent_id: int | None,
    previous_id: int | None,
    reason: str,
) -> None:
    """Emit ``case.assigned`` and write the audit entry of an assignment routing made."""
    event = CaseAssigned(
        case_id=case_id, assignee_id=agent_id, previous_assignee_id=previous_id, team_id=team_id
    )
    await emit(event, [case_stream(case_id), team_stream(team_id)])
    await audit.record(
        SYSTEM,
        "case.assigned",
        entity="case",
        entity_id=case_id,
        case_id=case_id,
        changes={"assignee_id": [previous_id, agent_id], "reason": reason},
    )
