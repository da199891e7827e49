"""Warnings and breaches fire exactly once, with their escalation actions; the sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from helpdesk.domain import Priority, Role
from helpdesk.events import SlaAtRisk, SlaBreached
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn
from helpdesk.services import cases
from helpdesk.sla._store import decode_timer
from helpdesk.sla.policies import Escalation, EscalationActions, Targets
from helpdesk.sla.timers import fire_due, fire_timer, sweep
from helpdesk.tables import AuditEntry, OutboxEvent
from tests.conftest import EventLog
from tests.factories import make_agent, make_case, make_team
from tests.integration.sla._support import as_utc, make_policy, timers_of


async def _assigned_case() -> tuple[int, int, int, int]:
    """A case of a team, assigned to an agent; the team also has a manager.
    Returns (case id, team id, agent id, manager id)."""
    team = await make_team()
    agent = await make_agent(team_ids=[team.id])
    manager = await make_agent(Role.MANAGER, team_ids=[team.id])
    await make_agent(team_ids=[team.id])  # a colleague, not notified
    case = await make_case(team_id=team.id)
    assert agent.id is not None
    assert manager.id is not None
    await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=agent.id))
    return case.id, team.id, agent.id, manager.id


async def test_the_warning_then_the_breach_fire_once_each(db: EventLog) -> None:
    await make_policy()
    case_id, team_id, agent_id, manager_id = await _assigned_case()
    first = (await timers_of(case_id))["first_response"]
    warn_at, due_at = as_utc(first["warn_at"]), as_utc(first["due_at"])
    assert warn_at is not None
    assert due_at is not None

    assert not await fire_timer(first["id"], warn_at - timedelta(seconds=1))
    assert await fire_timer(first["id"], warn_at)
    assert not await fire_timer(first["id"], warn_at + timedelta(seconds=1))
    warned = (await timers_of(case_id))["first_response"]
    assert as_utc(warned["fire_at"]) == due_at
    assert await fire_timer(first["id"], due_at)
    assert not await fire_timer(first["id"], due_at + timedelta(hours=1))

    sla_events = [e for e in db.events if isinstance(e, SlaAtRisk | SlaBreached)]
    assert [type(e) for e in sla_events] == [SlaAtRisk, SlaBreached]
    assert sla_events[1].notified_agent_ids == sorted([agent_id, manager_id])
    assert sla_events[1].metric == "first_response"
    streams = {f.stream for f in db.frames if f.type == "case.sla_breached"}
    assert streams == {
        f"case:{case_id}",
        f"team:{team_id}",
        f"agent:{agent_id}",
        f"agent:{manager_id}",
    }
    breached = (await timers_of(case_id))["first_response"]
    assert breached["breaches"] == 1
    assert breached["fire_at"] is None
    audit = await AuditEntry.select(AuditEntry.action).where(AuditEntry.case == case_id)
    actions = [row["action"] for row in audit]
    assert actions.count("case.sla_at_risk") == 1
    assert actions.count("case.sla_breached") == 1


async def test_a_deadline_found_late_is_one_breach_without_a_separate_warning(
    db: EventLog,
) -> None:
    await make_policy()
    case = await make_case()
    due_at = as_utc((await timers_of(case.id))["first_response"]["due_at"])
    assert due_at is not None

    fired = await fire_due(due_at + timedelta(minutes=5))

    assert fired == 1  # the resolution target warns only after 6 h 24 min
    types = [f.type for f in db.frames if f.stream == f"case:{case.id}" and "sla" in f.type]
    assert types == ["case.sla_breached"]
    assert (await timers_of(case.id))["first_response"]["warned_at"] is not None


async def test_concurrent_firing_of_one_deadline_handles_it_once(db: EventLog) -> None:
    await make_policy()
    case = await make_case()
    row = (await timers_of(case.id))["first_response"]
    due_at = as_utc(row["due_at"])
    assert due_at is not None

    results = await asyncio.gather(*(fire_timer(row["id"], due_at) for _ in range(10)))

    assert results.count(True) == 1
    breaches = await OutboxEvent.count().where(
        (OutboxEvent.type == "case.sla_breached") & (OutboxEvent.stream == f"case:{case.id}")
    )
    assert breaches == 1


async def test_breach_escalation_raises_priority_and_moves_to_another_team(
    db: EventLog,
) -> None:
    escalation_team = await make_team()
    targets = {
        Priority.NORMAL: Targets(first_response=timedelta(hours=1)),
        Priority.HIGH: Targets(first_response=timedelta(hours=3)),
    }
    await make_policy(
        targets,
        escalation=Escalation(
            breached=EscalationActions(raise_priority=True, move_to_team_id=escalation_team.id)
        ),
    )
    case_id, _, _, _ = await _assigned_case()
    due_at = as_utc((await timers_of(case_id))["first_response"]["due_at"])
    assert due_at is not None

    assert await fire_timer((await timers_of(case_id))["first_response"]["id"], due_at)

    case = await cases.get_case(SYSTEM, case_id)
    assert case.priority == Priority.HIGH
    assert case.team_id == escalation_team.id
    assert case.assignee_id is None
    first = (await timers_of(case_id))["first_response"]
    assert decode_timer(first["timer"]).target == timedelta(hours=3)  # the high target
    assert first["breaches"] == 1
    assert first["breached_at"] is None  # the new deadline is still ahead
    assert as_utc(first["fire_at"]) is not None


async def test_the_sweep_arms_near_deadlines_and_fires_overdue_ones(db: EventLog) -> None:
    await make_policy(warn_percent=90)
    case = await make_case()
    first = (await timers_of(case.id))["first_response"]
    assert first["armed_for"] is None  # 54 min away: beyond the arming horizon
    fire_at = as_utc(first["fire_at"])
    assert fire_at is not None

    result = await sweep(now=fire_at - timedelta(minutes=3))
    assert result.armed == 1
    assert result.fired == 0
    assert as_utc((await timers_of(case.id))["first_response"]["armed_for"]) == fire_at
    again = await sweep(now=fire_at - timedelta(minutes=3))
    assert again.armed == 0

    late = await sweep(now=fire_at + timedelta(seconds=10))
    assert late.fired == 1
    assert (await timers_of(case.id))["first_response"]["warned_at"] is not None


@pytest.mark.usefixtures("db")
async def test_the_worker_wakes_at_the_deadline_without_a_sweep(embedded_runtime: object) -> None:
    policy_targets = {p: Targets(first_response=timedelta(seconds=2)) for p in Priority}
    await make_policy(policy_targets, warn_percent=50)
    case = await make_case()

    types: list[str] = []
    for _ in range(80):
        rows = await OutboxEvent.select(OutboxEvent.type).where(
            OutboxEvent.stream == f"case:{case.id}"
        )
        types = [row["type"] for row in rows if "sla" in row["type"]]
        if len(types) == 2:
            break
        await asyncio.sleep(0.1)
    assert types == ["case.sla_at_risk", "case.sla_breached"]
    row = (await timers_of(case.id))["first_response"]
    breached_at, due_at = as_utc(row["breached_at"]), as_utc(row["due_at"])
    assert breached_at is not None
    assert due_at is not None
    assert timedelta(0) <= breached_at - due_at < timedelta(seconds=1)
