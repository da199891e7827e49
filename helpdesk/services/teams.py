"""Teams and their members."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import TeamIn, TeamOut, TeamUpdate
from helpdesk.services import audit
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


async def _set_members(team_id: int, member_ids: list[int]) -> None:
    wanted = sorted(set(member_ids))
    if wanted:
        found = await Agent.select(Agent.id).where(Agent.id.is_in(wanted))
        missing = set(wanted) - {r["id"] for r in found}
        if missing:
            raise ValidationError(f"unknown agents: {sorted(missing)}")
    await TeamMember.delete().where(TeamMember.team == team_id)
    if wanted:
        await TeamMember.insert(*(TeamMember(team=team_id, agent=a) for a in wanted))


async def _clear_other_defaults(team_id: int) -> None:
    await Team.update({Team.is_default: False}).where(Team.id != team_id)


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
        await get_team(principal, team_id)
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
