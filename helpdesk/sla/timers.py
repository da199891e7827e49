"""Durable SLA timers: firing warnings and breaches exactly once, and the sweep.

A timer's next deadline is its ``fire_at`` column (see
:mod:`helpdesk.sla.tables`). Two things make the engine act on it:

* a wake-up job (``wake``, :mod:`helpdesk.sla.actors`; durable, see
  :mod:`helpdesk.jobs`) for the instant, recorded when the deadline is near
  (:data:`~helpdesk.sla.tracking.ARM_HORIZON`);
* the periodic :func:`sweep`, which arms deadlines that came near and fires
  any deadline overdue by more than :data:`GRACE` (a wake-up that failed).

Firing is a conditional update on the row's ``version``, so a deadline seen
by a message, a duplicate message and the sweep at once is handled once: the
event, the audit entry and the escalation actions are written in the same
transaction as the mark (``warned_at`` / ``breached_at``).

Cost: both the sweep and the firing read ``fire_at`` ranges through its
index: work grows with the number of deadlines near or overdue, never with
the number of open cases.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import Priority, Role, Status
from helpdesk.errors import HelpdeskError
from helpdesk.events import SlaAtRisk, SlaBreached, agent_stream, case_stream, emit, team_stream
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn, CaseUpdate
from helpdesk.services import audit
from helpdesk.services.cases import assign_case, update_case
from helpdesk.sla._store import TimerRow, calendar_for, policy_from_row, schedule, utc
from helpdesk.sla.policies import EscalationActions, PolicyRule, raised_priority
from helpdesk.sla.tables import CaseSlaTimer, SlaPolicy
from helpdesk.sla.tracking import ARM_HORIZON, arm_fire_at, arm_wake_ups
from helpdesk.tables import Agent, Case, TeamMember

__all__ = ["GRACE", "SweepResult", "fire_due", "fire_timer", "sweep"]

logger = logging.getLogger(__name__)

GRACE = timedelta(seconds=2)
"""How late a deadline may be before the sweep fires it itself."""

_BATCH = 200


class _AlertedCase(msgspec.Struct, frozen=True, kw_only=True):
    """The columns of a case that a deadline's escalation reads."""

    id: int
    team_id: int | None
    assignee_id: int | None
    priority: str
    status: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> _AlertedCase:
        """The case of a row with those columns."""
        return cls(
            id=row["id"],
            team_id=row["team"],
            assignee_id=row["assignee"],
            priority=row["priority"],
            status=row["status"],
        )


class SweepResult(msgspec.Struct, kw_only=True):
    """What one sweep did."""

    armed: int = 0
    fired: int = 0


async def fire_due(now: datetime | None = None, limit: int = _BATCH) -> int:
    """Fire every timer whose deadline has come (up to ``limit`` per call
    round, repeated until none is left); the number fired by this call."""
    now = now or utcnow()
    fired = 0
    while True:
        ids = await _due_ids(now, limit)
        round_fired = 0
        for timer_id in ids:
            if await fire_timer(timer_id, now):
                round_fired += 1
        fired += round_fired
        if len(ids) < limit or round_fired == 0:
            return fired


async def _due_ids(before: datetime, limit: int) -> list[int]:
    rows = (
        await CaseSlaTimer.select(CaseSlaTimer.id)
        .where(CaseSlaTimer.fire_at <= before)
        .order_by(CaseSlaTimer.fire_at)
        .limit(limit)
    )
    return [int(row["id"]) for row in rows]


async def fire_timer(timer_id: int, now: datetime | None = None) -> bool:
    """Handle the deadline of one timer if it has come; True when this call did.

    Marks the warning (``case.sla_at_risk``) or the breach
    (``case.sla_breached``; a breach found late also counts as the warning),
    emits the event, audits it and runs the policy's escalation actions, all
    in one transaction conditional on the row's version. False when the row
    is gone, inactive, not due yet, or was changed meanwhile (whoever changed
    it rescheduled it).
    """
    now = now or utcnow()
    async with transaction():
        found = await CaseSlaTimer.select().where(CaseSlaTimer.id == timer_id).first()
        row = TimerRow.from_row(found) if found is not None else None
        fire_at = row.fire_at if row else None
        if row is None or not row.active or fire_at is None or fire_at > now:
            return False
        breach = row.breached_at is None and (row.due_at or now) <= now
        values = await _marked(row, now, breach=breach)
        updated = (
            await CaseSlaTimer.update(values)
            .where((CaseSlaTimer.id == timer_id) & (CaseSlaTimer.version == row.version))
            .returning(CaseSlaTimer.id)
        )
        if not updated:
            return False
        await _announce(row, breach=breach)
    return True


async def _marked(row: TimerRow, now: datetime, *, breach: bool) -> dict[Any, Any]:
    """The row's columns after its warning (or breach) was handled."""
    warned_at = row.warned_at or now
    breached_at = now if breach else row.breached_at
    plan = schedule(
        row.timer,
        await calendar_for(row.calendar_id),
        row.warn_percent,
        warned=True,
        breached=breached_at is not None,
    )
    return {
        CaseSlaTimer.warned_at: warned_at,
        CaseSlaTimer.breached_at: breached_at,
        CaseSlaTimer.breaches: CaseSlaTimer.breaches + (1 if breach else 0),
        CaseSlaTimer.fire_at: plan.fire_at,
        CaseSlaTimer.armed_for: arm_fire_at(plan.fire_at),
        CaseSlaTimer.version: CaseSlaTimer.version + 1,
        CaseSlaTimer.updated_at: now,
    }


async def _announce(row: TimerRow, *, breach: bool) -> None:
    """Event, audit entry and escalation actions of a handled deadline."""
    found = (
        await Case.select(Case.id, Case.team, Case.assignee, Case.priority, Case.status)
        .where(Case.id == row.case_id)
        .first()
    )
    if found is None:
        return
    case = _AlertedCase.from_row(found)
    policy = await _policy(row.policy_id)
    actions = EscalationActions()
    if policy is not None:
        actions = policy.escalation.breached if breach else policy.escalation.at_risk
    notified = await _notified(case) if actions.notify else []
    kind = SlaBreached if breach else SlaAtRisk
    due = row.due_at
    event = kind(
        case_id=case.id,
        metric=row.metric,
        due_at=due.isoformat() if due else "",
        team_id=case.team_id,
        assignee_id=case.assignee_id,
        notified_agent_ids=notified,
    )
    streams = [case_stream(case.id), team_stream(case.team_id)]
    await emit(event, streams + [agent_stream(agent_id) for agent_id in notified])
    await audit.record(
        SYSTEM,
        "case.sla_breached" if breach else "case.sla_at_risk",
        entity="case",
        entity_id=case.id,
        case_id=case.id,
        changes={"metric": row.metric, "due_at": event.due_at},
    )
    await _escalate(case, actions)


async def _policy(policy_id: int | None) -> PolicyRule | None:
    """The enabled policy ``policy_id`` (None when gone or disabled)."""
    if policy_id is None:
        return None
    row = (
        await SlaPolicy.select()
        .where((SlaPolicy.id == policy_id) & (SlaPolicy.enabled == True))  # noqa: E712
        .first()
    )
    return policy_from_row(row) if row else None


async def _notified(case: _AlertedCase) -> list[int]:
    """The assignee and the active managers (and admins) of the case's team."""
    ids: set[int] = {case.assignee_id} if case.assignee_id is not None else set()
    if case.team_id is not None:
        rows = await TeamMember.select(TeamMember.agent).where(
            (TeamMember.team == case.team_id)
            & TeamMember.agent.role.is_in([Role.MANAGER, Role.ADMIN])
            & (TeamMember.agent.active == True)  # noqa: E712 - Piccolo needs ==
        )
        ids |= {int(row["agent"]) for row in rows}
    if ids:
        active = await Agent.select(Agent.id).where(
            Agent.id.is_in(list(ids)) & (Agent.active == True)  # noqa: E712
        )
        ids = {int(row["id"]) for row in active}
    return sorted(ids)


async def _escalate(case: _AlertedCase, actions: EscalationActions) -> None:
    """Raise the priority and/or move the case to another team, as the system."""
    if case.status in (Status.SOLVED, Status.CLOSED):
        return
    if not actions.raise_priority and actions.move_to_team_id is None:
        return
    version = await Case.select(Case.version).where(Case.id == case.id).first()
    change = CaseUpdate(version=version["version"] if version else 0)
    if actions.raise_priority and raised_priority(case.priority) != case.priority:
        change.priority = Priority(raised_priority(case.priority))
    if actions.move_to_team_id is not None and actions.move_to_team_id != case.team_id:
        change.team_id = actions.move_to_team_id
    try:
        await update_case(SYSTEM, case.id, change)
        if change.team_id is not msgspec.UNSET and case.assignee_id is not None:
            await assign_case(SYSTEM, case.id, AssignIn(assignee_id=None))
    except HelpdeskError:  # e.g. the escalation team was deleted: the event still stands
        logger.exception("SLA escalation of case %s failed", case.id)


async def sweep(now: datetime | None = None, horizon: timedelta | None = None) -> SweepResult:
    """Arm the deadlines that came near, and fire those overdue by more than :data:`GRACE`.

    Safe to run from several processes at once (arming twice only sends a
    duplicate wake-up; firing is conditional).
    """
    now = now or utcnow()
    result = SweepResult()
    result.fired = await fire_due(now - GRACE)
    result.armed = await _arm_near(now + (horizon or ARM_HORIZON))
    return result


async def _arm_near(until: datetime) -> int:
    """Mark the unarmed deadlines before ``until`` as armed, with a wake-up job
    per distinct instant in the same transaction; the number of instants."""
    async with transaction():
        rows = await CaseSlaTimer.raw(
            "SELECT id, fire_at FROM case_sla_timers WHERE fire_at <= {} "
            "AND (armed_for IS NULL OR armed_for <> fire_at) ORDER BY fire_at LIMIT 5000",
            until,
        )
        ids = [int(row["id"]) for row in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("{}" for _ in chunk)
            await CaseSlaTimer.raw(
                f"UPDATE case_sla_timers SET armed_for = fire_at WHERE id IN ({marks})",  # noqa: S608
                *chunk,
            )
        moments = sorted({m for m in (utc(row["fire_at"]) for row in rows) if m is not None})
        arm_wake_ups(moments)
    return len(moments)
