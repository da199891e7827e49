"""Teams and their members.

Concurrency: a change of a team's members locks, on PostgreSQL, the agents it
touches (in id order), then the team (:func:`lock_team`); a change of an
agent's teams locks the agent (:func:`helpdesk.services.agents.lock_agent`).
Either change therefore waits for the other when they touch one membership,
and a version checked after the locks stays true until the commit. On SQLite
the write transactions already run one at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec import UNSET

from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import TeamIn, TeamOut, TeamUpdate
from helpdesk.services import audit, web_sessions
from helpdesk.tables import Agent, Team, TeamMember


async def _members_of(team_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in team_ids}
    if team_ids:
        for row in await TeamMember.select().where(TeamMember.team.is_in(team_ids)):
            result[row["team"]].append(row["agent"])
    return result


def _out(row: dict[str, Any], members: list[int]) -> TeamOut:
    return TeamOut(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        is_default=row["is_default"],
        member_ids=sorted(members),
    )


def version_of(*parts: object) -> str:
    """The version of settings kept without a version column: a digest of
    ``parts`` (what a settings form edits, in a fixed order).

    Two reads give the same version exactly when those parts are equal, so a
    form that carries the version it was shown with can tell whether someone
    changed them since. A change undone before the save is not noticed (the
    form then changes what it was shown anyway).
    """
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()[:16]


async def lock_team(team_id: int, member_ids: Iterable[int] = ()) -> None:
    """Inside a transaction, before changing a team: on PostgreSQL lock its
    current members and ``member_ids`` (the agents, in id order), then the
    team, until the transaction ends. :class:`NotFoundError` when there is no
    such team. On SQLite only the team's existence is checked."""
    if not is_postgres(current_engine()):
        if not await Team.exists().where(Team.id == team_id):
            raise NotFoundError(f"team {team_id} not found")
        return
    current = await TeamMember.select(TeamMember.agent).where(TeamMember.team == team_id)
    agent_ids = sorted({int(r["agent"]) for r in current} | set(member_ids))
    if agent_ids:
        await (
            Agent.select(Agent.id)
            .where(Agent.id.is_in(agent_ids))
            .order_by(Agent.id)
            .lock_rows("NO KEY UPDATE")
        )
    row = await Team.select(Team.id).where(Team.id == team_id).lock_rows("NO KEY UPDATE").first()
    if row is None:
        raise NotFoundError(f"team {team_id} not found")


async def _set_members(team_id: int, member_ids: list[int]) -> None:
    """Make the team's members exactly ``member_ids`` (unknown agents: ValidationError)."""
    wanted = set(member_ids)
    if wanted:
        found = await Agent.select(Agent.id).where(Agent.id.is_in(sorted(wanted)))
        missing = wanted - {r["id"] for r in found}
        if missing:
            raise ValidationError(f"unknown agents: {sorted(missing)}")
    rows = await TeamMember.select(TeamMember.agent).where(TeamMember.team == team_id)
    current = {int(r["agent"]) for r in rows}
    if current - wanted:
        await TeamMember.delete().where(
            (TeamMember.team == team_id) & TeamMember.agent.is_in(sorted(current - wanted))
        )
    if wanted - current:
        await TeamMember.insert(
            *(TeamMember(team=team_id, agent=a) for a in sorted(wanted - current))
        )
    await web_sessions.access_changed("console", current ^ wanted)


async def _clear_other_defaults(team_id: int) -> None:
    await Team.update({Team.is_default: False}).where(
        (Team.id != team_id) & (Team.is_default == True)  # noqa: E712 - Piccolo needs ==
    )


async def create_team(principal: Principal, data: TeamIn) -> TeamOut:
    """Create a team (admins). At most one team is the default queue."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        if await Team.exists().where(Team.name == data.name):
            raise ConflictError(f"a team named {data.name!r} exists")
        rows = await Team.insert(
            Team(name=data.name, description=data.description, is_default=data.is_default)
        )
        team_id = int(rows[0]["id"])
        await _set_members(team_id, data.member_ids)
        if data.is_default:
            await _clear_other_defaults(team_id)
        await audit.record(principal, "team.created", entity="team", entity_id=team_id)
    return await get_team(principal, team_id)


async def update_team(principal: Principal, team_id: int, data: TeamUpdate) -> TeamOut:
    """Change a team; ``member_ids`` replaces the membership."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await lock_team(team_id, [] if data.member_ids is UNSET else data.member_ids)
        values: dict[Any, Any] = {}
        if data.name is not UNSET:
            if await Team.exists().where((Team.name == data.name) & (Team.id != team_id)):
                raise ConflictError(f"a team named {data.name!r} exists")
            values[Team.name] = data.name
        if data.description is not UNSET:
            values[Team.description] = data.description
        if data.is_default is not UNSET:
            values[Team.is_default] = data.is_default
            if data.is_default:
                await _clear_other_defaults(team_id)
        if values:
            await Team.update(values).where(Team.id == team_id)
        if data.member_ids is not UNSET:
            await _set_members(team_id, data.member_ids)
        await audit.record(principal, "team.updated", entity="team", entity_id=team_id)
    return await get_team(principal, team_id)


async def get_team(principal: Principal, team_id: int) -> TeamOut:
    """One team with its members."""
    require(principal, Action.VIEW_DIRECTORY)
    row = await Team.select().where(Team.id == team_id).first()
    if row is None:
        raise NotFoundError(f"team {team_id} not found")
    return _out(row, (await _members_of([team_id]))[team_id])


async def list_teams(principal: Principal) -> list[TeamOut]:
    """Every team, by name (two queries)."""
    require(principal, Action.VIEW_DIRECTORY)
    rows = await Team.select().order_by(Team.name)
    members = await _members_of([r["id"] for r in rows])
    return [_out(r, members[r["id"]]) for r in rows]


async def default_team_id() -> int | None:
    """The team new cases go to when nothing else decides."""
    row = await Team.select(Team.id).where(Team.is_default == True).first()  # noqa: E712
    return int(row["id"]) if row else None
