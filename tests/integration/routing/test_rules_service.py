"""Routing rules and team settings: admins' CRUD, validation and audit."""

from __future__ import annotations

import msgspec
import pytest

from helpdesk.domain import Priority, Role
from helpdesk.errors import NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.rules import RuleActions, RuleConditions
from helpdesk.routing.schemas import RuleIn, RuleUpdate, TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.tables import AuditEntry
from tests.factories import make_agent, make_team


def rule_in(name: str, **fields: object) -> RuleIn:
    return msgspec.convert({"name": name, "actions": {}, **fields}, RuleIn)


async def test_rules_are_listed_in_order_and_appended_without_a_position(db):
    first = await routing.create_rule(SYSTEM, rule_in("a"))
    second = await routing.create_rule(SYSTEM, rule_in("b"))
    early = await routing.create_rule(SYSTEM, rule_in("c", position=0))
    assert (first.position, second.position) == (1, 2)
    assert [r.name for r in await routing.list_rules(SYSTEM)] == ["c", "a", "b"]
    assert early.position == 0


async def test_a_rule_round_trips_its_conditions_and_actions(db):
    team = await make_team()
    conditions = RuleConditions(keywords=["hóa đơn"], languages=["vi"], priorities=[Priority.HIGH])
    actions = RuleActions(team_id=team.id, add_tags=["billing"], required_skill="vat")
    made = await routing.create_rule(
        SYSTEM, RuleIn(name="Hóa đơn", conditions=conditions, actions=actions)
    )
    got = await routing.get_rule(SYSTEM, made.id)
    assert (got.conditions, got.actions) == (conditions, actions)
    assert got.enabled is True
    assert got.created_at.tzinfo is not None


async def test_update_replaces_parts_and_delete_removes(db):
    made = await routing.create_rule(SYSTEM, rule_in("x", conditions={"channels": ["web"]}))
    changed = await routing.update_rule(
        SYSTEM, made.id, RuleUpdate(enabled=False, actions=RuleActions(priority=Priority.LOW))
    )
    assert changed.enabled is False
    assert changed.conditions == RuleConditions(channels=["web"])  # type: ignore[list-item]
    assert changed.actions == RuleActions(priority=Priority.LOW)
    await routing.delete_rule(SYSTEM, made.id)
    with pytest.raises(NotFoundError):
        await routing.get_rule(SYSTEM, made.id)
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.entity == "routing_rule")
        .order_by(AuditEntry.id)
    ]
    assert actions == ["routing_rule.created", "routing_rule.updated", "routing_rule.deleted"]


async def test_actions_must_name_an_existing_team_and_an_active_agent(db):
    with pytest.raises(ValidationError, match="team 999"):
        await routing.create_rule(SYSTEM, rule_in("x", actions={"team_id": 999}))
    gone = await make_agent(active=False)
    with pytest.raises(ValidationError, match="inactive"):
        await routing.create_rule(SYSTEM, rule_in("x", actions={"assignee_id": gone.id}))
    assert await routing.list_rules(SYSTEM) == []


async def test_only_admins_manage_routing(db):
    team = await make_team()
    for role in (Role.AGENT, Role.MANAGER):
        staff = await make_agent(role, team_ids=[team.id])
        with pytest.raises(PermissionDeniedError):
            await routing.create_rule(staff, rule_in("x"))
        with pytest.raises(PermissionDeniedError):
            await routing.list_rules(staff)
        with pytest.raises(PermissionDeniedError):
            await routing.set_team_routing(staff, team.id, TeamRoutingIn())
    admin = await make_agent(Role.ADMIN)
    assert (await routing.create_rule(admin, rule_in("ok"))).name == "ok"


async def test_team_settings_default_to_manual_and_can_be_changed(db):
    team = await make_team()
    assert (await routing.get_team_routing(SYSTEM, team.id)).strategy == Strategy.MANUAL
    data = TeamRoutingIn(
        strategy=Strategy.LEAST_LOADED, required_skill="vat", requeue_on_unavailable=True
    )
    out = await routing.set_team_routing(SYSTEM, team.id, data)
    assert (out.strategy, out.required_skill, out.requeue_on_unavailable) == (
        Strategy.LEAST_LOADED,
        "vat",
        True,
    )
    again = await routing.set_team_routing(SYSTEM, team.id, TeamRoutingIn())
    assert (again.strategy, again.required_skill) == (Strategy.MANUAL, None)
    assert "team.routing_changed" in db.types(f"team:{team.id}")
    with pytest.raises(NotFoundError):
        await routing.get_team_routing(SYSTEM, 999)
