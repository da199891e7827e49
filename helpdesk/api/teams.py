"""Teams: groups of agents, each with its own queue."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from helpdesk.api.auth import invalidate_principals
from helpdesk.api.params import ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.schemas import TeamIn, TeamOut, TeamUpdate
from helpdesk.services import teams


class TeamController(Controller):
    """``/teams``: who works which queue."""

    path = "/teams"
    tags = ["teams"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(409, 422))
    async def create_team(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        data: JSONBody[TeamIn],
    ) -> TeamOut:
        """Create a team (admins only). At most one team is the default queue."""
        result = await teams.create_team(principal, data)
        invalidate_principals(request)
        return result

    @get("/", responses=responses())
    async def list_teams(self, principal: NamedDependency[Principal]) -> list[TeamOut]:
        """Every team with its members, by name."""
        return await teams.list_teams(principal)

    @get("/{team_id:int}", responses=responses(404))
    async def get_team(self, principal: NamedDependency[Principal], team_id: ObjectId) -> TeamOut:
        """One team with its members."""
        return await teams.get_team(principal, team_id)

    @patch("/{team_id:int}", responses=responses(404, 409, 422))
    async def update_team(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        team_id: ObjectId,
        data: JSONBody[TeamUpdate],
    ) -> TeamOut:
        """Change a team (admins only); ``member_ids`` replaces the membership,
        which applies to this process's cached tokens at once."""
        result = await teams.update_team(principal, team_id, data)
        invalidate_principals(request)
        return result
