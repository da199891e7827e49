"""Routing settings for admins: the ordered rules and each team's assignment strategy.

A team's settings form (the team, its members and how it assigns cases) is
saved by one call, in one transaction: :func:`create_team_with_routing` or
:func:`update_team_with_routing` (the latter only while the form's
:func:`team_settings_version` is current).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import NotFoundError, ValidationError, VersionConflictError
from helpdesk.events import TeamRoutingChanged, emit, team_stream
from helpdesk.policy import Action, Principal, require
from helpdesk.routing._pool import settings_from_row, team_settings
from helpdesk.routing.rules import Rule, RuleActions, RuleConditions
from helpdesk.routing.schemas import RuleIn, RuleOut, RuleUpdate, TeamRoutingIn, TeamRoutingOut
from helpdesk.routing.tables import RoutingRule, TeamRouting
from helpdesk.schemas import TeamIn, TeamOut, TeamUpdate
from helpdesk.services import audit, teams
from helpdesk.services.rows import as_utc, json_dict
from helpdesk.tables import Agent, Team

__all__ = [
    "create_rule",
    "create_team_with_routing",
    "delete_rule",
    "enabled_rules",
    "get_rule",
    "get_team_routing",
    "list_rules",
    "rule_from_row",
    "set_team_routing",
    "team_settings_version",
    "update_rule",
    "update_team_with_routing",
]


def _parts(row: dict[str, Any]) -> tuple[RuleConditions, RuleActions]:
    conditions = msgspec.convert(json_dict(row["conditions"]), RuleConditions)
    actions = msgspec.convert(json_dict(row["actions"]), RuleActions)
    return conditions, actions


def rule_from_row(row: dict[str, Any]) -> Rule:
    """The :class:`Rule` of a ``routing_rules`` row."""
    conditions, actions = _parts(row)
    return Rule(
        id=row["id"],
        name=row["name"],
        position=row["position"],
        enabled=bool(row["enabled"]),
        conditions=conditions,
        actions=actions,
    )


def _out(row: dict[str, Any]) -> RuleOut:
    conditions, actions = _parts(row)
    created, updated = as_utc(row["created_at"]), as_utc(row["updated_at"])
    assert created is not None
    assert updated is not None
    return RuleOut(
        id=row["id"],
        name=row["name"],
        position=row["position"],
        enabled=bool(row["enabled"]),
        conditions=conditions,
        actions=actions,
        created_at=created,
        updated_at=updated,
    )


async def enabled_rules() -> list[Rule]:
    """The enabled rules in the order they are tried (no permission check: for routing)."""
    rows = (
        await RoutingRule.select()
        .where(RoutingRule.enabled == True)  # noqa: E712 - Piccolo needs ==
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [rule_from_row(row) for row in rows]


async def _check_actions(actions: RuleActions) -> None:
    if actions.team_id is not None and not await Team.exists().where(Team.id == actions.team_id):
        raise ValidationError(f"team {actions.team_id} does not exist")
    if actions.assignee_id is not None:
        agent = await Agent.select(Agent.active).where(Agent.id == actions.assignee_id).first()
        if agent is None or not agent["active"]:
            raise ValidationError(f"agent {actions.assignee_id} does not exist or is inactive")


def _encode(value: msgspec.Struct) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result


async def _row(rule_id: int) -> dict[str, Any]:
    row = await RoutingRule.select().where(RoutingRule.id == rule_id).first()
    if row is None:
        raise NotFoundError(f"routing rule {rule_id} not found")
    return row


async def create_rule(principal: Principal, data: RuleIn) -> RuleOut:
    """Add a rule (admins). Without a position it goes after every other rule."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await _check_actions(data.actions)
        position = data.position
        if position is None:
            last = (
                await RoutingRule.select(RoutingRule.position)
                .order_by(RoutingRule.position, ascending=False)
                .first()
            )
            position = (int(last["position"]) + 1) if last else 1
        now = utcnow()
        rows = await RoutingRule.insert(
            RoutingRule(
                name=data.name,
                position=position,
                enabled=data.enabled,
                conditions=_encode(data.conditions),
                actions=_encode(data.actions),
                created_at=now,
                updated_at=now,
            )
        )
        rule_id = int(rows[0]["id"])
        await audit.record(
            principal, "routing_rule.created", entity="routing_rule", entity_id=rule_id
        )
    return _out(await _row(rule_id))


async def list_rules(principal: Principal) -> list[RuleOut]:
    """Every rule, enabled or not, in the order they are tried (admins)."""
    require(principal, Action.ADMINISTER)
    rows = await RoutingRule.select().order_by(RoutingRule.position, RoutingRule.id)
    return [_out(row) for row in rows]


async def get_rule(principal: Principal, rule_id: int) -> RuleOut:
    """One rule (admins)."""
    require(principal, Action.ADMINISTER)
    return _out(await _row(rule_id))


async def update_rule(principal: Principal, rule_id: int, data: RuleUpdate) -> RuleOut:
    """Change a rule (admins); ``conditions`` and ``actions`` are replaced whole."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await _row(rule_id)
        values: dict[Any, Any] = {}
        if data.name is not UNSET:
            values[RoutingRule.name] = data.name
        if data.position is not UNSET:
            values[RoutingRule.position] = data.position
        if data.enabled is not UNSET:
            values[RoutingRule.enabled] = data.enabled
        if data.conditions is not UNSET:
            values[RoutingRule.conditions] = _encode(data.conditions)
        if data.actions is not UNSET:
            await _check_actions(data.actions)
            values[RoutingRule.actions] = _encode(data.actions)
        if values:
            values[RoutingRule.updated_at] = utcnow()
            await RoutingRule.update(values).where(RoutingRule.id == rule_id)
        changes = {str(column._meta.name): value for column, value in values.items()}
        changes.pop("updated_at", None)
        await audit.record(
            principal,
            "routing_rule.updated",
            entity="routing_rule",
            entity_id=rule_id,
            changes=msgspec.to_builtins(changes),
        )
    return _out(await _row(rule_id))


async def delete_rule(principal: Principal, rule_id: int) -> None:
    """Remove a rule (admins). Cases it routed keep its id and name in their record."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        row = await _row(rule_id)
        await RoutingRule.delete().where(RoutingRule.id == rule_id)
        await audit.record(
            principal,
            "routing_rule.deleted",
            entity="routing_rule",
            entity_id=rule_id,
            changes={"name": row["name"]},
        )


async def _ensure_team(team_id: int) -> None:
    if not await Team.exists().where(Team.id == team_id):
        raise NotFoundError(f"team {team_id} not found")


def _team_out(team_id: int, row: dict[str, Any] | None) -> TeamRoutingOut:
    settings = settings_from_row(team_id, row)
    return TeamRoutingOut(
        team_id=team_id,
        strategy=settings.strategy,
        required_skill=settings.required_skill,
        prefer_case_language=settings.prefer_case_language,
        requeue_on_unavailable=settings.requeue_on_unavailable,
        last_agent_id=settings.last_agent_id,
    )


async def get_team_routing(principal: Principal, team_id: int) -> TeamRoutingOut:
    """A team's assignment settings (admins); a team never configured is manual."""
    require(principal, Action.ADMINISTER)
    await _ensure_team(team_id)
    row = await TeamRouting.select().where(TeamRouting.team == team_id).first()
    return _team_out(team_id, row)


async def set_team_routing(
    principal: Principal, team_id: int, data: TeamRoutingIn
) -> TeamRoutingOut:
    """Set how a team assigns its cases (admins).

    After commit a ``team.routing_changed`` event lets the routing worker
    assign the cases already waiting in the team's queue. The round-robin
    position is kept.
    """
    require(principal, Action.ADMINISTER)
    values = {
        "strategy": str(data.strategy),
        "required_skill": data.required_skill or "",
        "prefer_case_language": data.prefer_case_language,
        "requeue_on_unavailable": data.requeue_on_unavailable,
    }
    async with transaction():
        await _ensure_team(team_id)
        columns = ", ".join(f'"{name}"' for name in values)
        updates = ", ".join(f'"{name}" = excluded."{name}"' for name in values)
        await TeamRouting.raw(
            f'INSERT INTO "team_routing" ("team", {columns}, "updated_at") '  # noqa: S608 - our column names
            "VALUES ({}, {}, {}, {}, {}, {}) "
            f'ON CONFLICT ("team") DO UPDATE SET {updates}, "updated_at" = excluded."updated_at"',
            team_id,
            *values.values(),
            utcnow(),
        )
        await audit.record(
            principal, "team.routing_updated", entity="team", entity_id=team_id, changes=values
        )
        await emit(
            TeamRoutingChanged(team_id=team_id, strategy=data.strategy), [team_stream(team_id)]
        )
    row = await TeamRouting.select().where(TeamRouting.team == team_id).first()
    return _team_out(team_id, row)


# --- a team with its routing: the administrator's form --------------------------------


def team_settings_version(team: TeamOut, routing: TeamRoutingOut) -> str:
    """The version of what a team's settings form edits: name, description,
    default flag, members and the routing settings (not the round-robin
    position, which moves with every assignment)."""
    return teams.version_of(
        team.name,
        team.description,
        team.is_default,
        team.member_ids,
        routing.strategy,
        routing.required_skill,
        routing.prefer_case_language,
        routing.requeue_on_unavailable,
    )


async def create_team_with_routing(
    principal: Principal, data: TeamIn, routing: TeamRoutingIn
) -> tuple[TeamOut, TeamRoutingOut]:
    """Create a team with its members and how it assigns cases (admins).

    One transaction: when any part is refused (a name in use, an unknown
    agent) no team is left behind.
    """
    require(principal, Action.ADMINISTER)
    async with transaction():
        team = await teams.create_team(principal, data)
        settings = await set_team_routing(principal, team.id, routing)
    return await teams.get_team(principal, team.id), settings


async def update_team_with_routing(
    principal: Principal,
    team_id: int,
    data: TeamUpdate,
    routing: TeamRoutingIn,
    *,
    version: str,
) -> tuple[TeamOut, TeamRoutingOut]:
    """Change a team, its members and how it assigns cases (admins), if
    ``version`` (the :func:`team_settings_version` the form was shown with)
    is still current.

    One transaction: a stale version (:class:`VersionConflictError`, with
    ``current_version``), a name in use, an unknown agent or any other
    refusal changes nothing. On PostgreSQL the locks are taken in the
    routing order (the team's routing row, then agents by id, then the team)
    before the version is checked, so nothing slips in between.
    """
    require(principal, Action.ADMINISTER)
    members = [] if data.member_ids is UNSET else data.member_ids
    async with transaction():
        await team_settings(team_id, lock=True)
        await teams.lock_team(team_id, members)
        current = team_settings_version(
            await teams.get_team(principal, team_id), await get_team_routing(principal, team_id)
        )
        if version != current:
            raise VersionConflictError(
                f"team {team_id} was changed since the form was shown", current_version=current
            )
        await teams.update_team(principal, team_id, data)
        settings = await set_team_routing(principal, team_id, routing)
    return await teams.get_team(principal, team_id), settings
