"""Routing settings (admins only): the ordered routing rules and each team's
assignment strategy."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from helpdesk.api.params import ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import RuleIn, RuleOut, RuleUpdate, TeamRoutingIn, TeamRoutingOut


class RoutingRuleController(Controller):
    """``/routing/rules``: rules tried in order on each new case; the first match wins."""

    path = "/routing/rules"
    tags = ["routing"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(422))
    async def create_rule(
        self, principal: NamedDependency[Principal], data: JSONBody[RuleIn]
    ) -> RuleOut:
        """Add a rule; without a ``position`` it goes after every other rule.
        Conditions and actions with unknown keys are refused."""
        return await routing.create_rule(principal, data)

    @get("/", responses=responses())
    async def list_rules(self, principal: NamedDependency[Principal]) -> list[RuleOut]:
        """Every rule, enabled or not, in the order they are tried."""
        return await routing.list_rules(principal)

    @get("/{rule_id:int}", responses=responses(404))
    async def get_rule(self, principal: NamedDependency[Principal], rule_id: ObjectId) -> RuleOut:
        """One rule."""
        return await routing.get_rule(principal, rule_id)

    @patch("/{rule_id:int}", responses=responses(404, 422))
    async def update_rule(
        self,
        principal: NamedDependency[Principal],
        rule_id: ObjectId,
        data: JSONBody[RuleUpdate],
    ) -> RuleOut:
        """Change a rule; ``conditions`` and ``actions`` are replaced whole."""
        return await routing.update_rule(principal, rule_id, data)

    @delete("/{rule_id:int}", responses=responses(404))
    async def delete_rule(self, principal: NamedDependency[Principal], rule_id: ObjectId) -> None:
        """Remove a rule; cases it routed keep its id and name in their audit log."""
        await routing.delete_rule(principal, rule_id)


class TeamRoutingController(Controller):
    """``/teams/{team_id}/routing``: how a team gives its cases to its agents."""

    path = "/teams/{team_id:int}/routing"
    tags = ["routing"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/", responses=responses(404))
    async def get_team_routing(
        self, principal: NamedDependency[Principal], team_id: ObjectId
    ) -> TeamRoutingOut:
        """The team's strategy (manual, round robin, least loaded) and its options."""
        return await routing.get_team_routing(principal, team_id)

    @put("/", responses=responses(404))
    async def set_team_routing(
        self,
        principal: NamedDependency[Principal],
        team_id: ObjectId,
        data: JSONBody[TeamRoutingIn],
    ) -> TeamRoutingOut:
        """Set the team's strategy and options; cases already waiting in its
        queue are then assigned by the routing worker."""
        return await routing.set_team_routing(principal, team_id, data)
