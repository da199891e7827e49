"""SLA for people: calendars and policies (admins), a case's SLA state, the at-risk list.

The calendar services live in :mod:`helpdesk.sla.calendars` and are
re-exported here, so ``helpdesk.sla.services`` stays the one entry point.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import case_reference
from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.services import audit
from helpdesk.services.lookup import visible_case_row
from helpdesk.services.rows import as_utc
from helpdesk.sla._refresh import refresh_cases_later
from helpdesk.sla._store import calendar_for, decode_timer, policy_from_row, utc
from helpdesk.sla.calendars import (
    calendar_users,
    create_calendar,
    delete_calendar,
    list_calendars,
    merge_calendar,
    update_calendar,
)
from helpdesk.sla.clock import elapsed
from helpdesk.sla.schemas import (
    AtRiskItem,
    CaseSlaOut,
    PolicyIn,
    PolicyOut,
    PolicyUpdate,
    TargetState,
)
from helpdesk.sla.tables import CaseSlaTimer, SlaCalendar, SlaPolicy
from helpdesk.tables import Case

__all__ = [
    "calendar_users",
    "case_sla",
    "create_calendar",
    "create_policy",
    "delete_calendar",
    "delete_policy",
    "get_policy",
    "list_at_risk",
    "list_calendars",
    "list_policies",
    "merge_calendar",
    "update_calendar",
    "update_policy",
]


# --- policies --------------------------------------------------------------------


def _policy_out(row: dict[str, Any]) -> PolicyOut:
    rule = policy_from_row(row)
    return PolicyOut(
        id=rule.id,
        name=rule.name,
        position=rule.position,
        enabled=bool(row["enabled"]),
        conditions=rule.conditions,
        targets=rule.targets,
        warn_percent=rule.warn_percent,
        escalation=rule.escalation,
        calendar_id=rule.calendar_id,
        version=rule.version,
        created_at=as_utc(row["created_at"]) or utcnow(),
        updated_at=as_utc(row["updated_at"]) or utcnow(),
    )


async def _policy_row(policy_id: int) -> dict[str, Any]:
    row = await SlaPolicy.select().where(SlaPolicy.id == policy_id).first()
    if row is None:
        raise NotFoundError(f"SLA policy {policy_id} not found")
    return row


async def _check_references(calendar_id: int | None, escalation: Any) -> None:
    from helpdesk.tables import Team

    if calendar_id is not None and not await SlaCalendar.exists().where(
        SlaCalendar.id == calendar_id
    ):
        raise ValidationError(f"calendar {calendar_id} does not exist", field="calendar_id")
    for actions in (escalation.at_risk, escalation.breached):
        team_id = actions.move_to_team_id
        if team_id is not None and not await Team.exists().where(Team.id == team_id):
            raise ValidationError(f"team {team_id} does not exist", field="escalation")


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


async def create_policy(principal: Principal, data: PolicyIn) -> PolicyOut:
    """Add an SLA policy (admins). It applies to cases opened from now on (and
    to cases whose priority changes)."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await _check_references(data.calendar_id, data.escalation)
        position = data.position
        if position is None:
            last = (
                await SlaPolicy.select(SlaPolicy.position)
                .order_by(SlaPolicy.position, ascending=False)
                .first()
            )
            position = int(last["position"]) + 1 if last else 1
        now = utcnow()
        rows = await SlaPolicy.insert(
            SlaPolicy(
                name=data.name,
                position=position,
                enabled=data.enabled,
                conditions=_builtins(data.conditions),
                targets=_builtins(data.targets),
                warn_percent=data.warn_percent,
                escalation=_builtins(data.escalation),
                calendar=data.calendar_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        policy_id = int(rows[0]["id"])
        await audit.record(
            principal, "sla_policy.created", entity="sla_policy", entity_id=policy_id
        )
    return _policy_out(await _policy_row(policy_id))


async def list_policies(principal: Principal) -> list[PolicyOut]:
    """Every policy, in the order they are tried (managers and admins)."""
    require(principal, Action.VIEW_REPORTS)
    rows = await SlaPolicy.select().order_by(SlaPolicy.position, SlaPolicy.id)
    return [_policy_out(row) for row in rows]


async def get_policy(principal: Principal, policy_id: int) -> PolicyOut:
    """One policy (managers and admins)."""
    require(principal, Action.VIEW_REPORTS)
    return _policy_out(await _policy_row(policy_id))


_POLICY_FIELDS = {
    "name": SlaPolicy.name,
    "position": SlaPolicy.position,
    "enabled": SlaPolicy.enabled,
    "conditions": SlaPolicy.conditions,
    "targets": SlaPolicy.targets,
    "warn_percent": SlaPolicy.warn_percent,
    "escalation": SlaPolicy.escalation,
    "calendar_id": SlaPolicy.calendar,
}


async def update_policy(principal: Principal, policy_id: int, data: PolicyUpdate) -> PolicyOut:
    """Change a policy (admins). Its version grows, and after commit the open
    cases it measures are retargeted in the background (time spent is kept)."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        row = await _policy_row(policy_id)
        current = policy_from_row(row)
        await _check_references(
            row["calendar"] if data.calendar_id is UNSET else data.calendar_id,
            current.escalation if data.escalation is UNSET else data.escalation,
        )
        values: dict[Any, Any] = {}
        for name, column in _POLICY_FIELDS.items():
            value = getattr(data, name)
            if value is not UNSET:
                values[column] = _builtins(value)
        if values:
            values[SlaPolicy.version] = SlaPolicy.version + 1
            values[SlaPolicy.updated_at] = utcnow()
            await SlaPolicy.update(values).where(SlaPolicy.id == policy_id)
            await refresh_cases_later(SlaPolicy.id == policy_id)
        await audit.record(
            principal,
            "sla_policy.updated",
            entity="sla_policy",
            entity_id=policy_id,
            changes=_builtins(data),
        )
    return _policy_out(await _policy_row(policy_id))


async def delete_policy(principal: Principal, policy_id: int) -> None:
    """Remove a policy (admins); its open cases fall to the next matching policy."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await _policy_row(policy_id)
        await refresh_cases_later(SlaPolicy.id == policy_id)
        await SlaPolicy.delete().where(SlaPolicy.id == policy_id)
        await audit.record(
            principal, "sla_policy.deleted", entity="sla_policy", entity_id=policy_id
        )


# --- a case's SLA, and the at-risk list -----------------------------------------------


def _state(row: dict[str, Any], now: datetime) -> str:
    if not row["active"]:
        if row["completed_at"] is None:
            return "cancelled"
        return "missed" if row["breached_at"] is not None else "met"
    if row["breached_at"] is not None:
        return "breached"
    if row["warned_at"] is not None:
        return "at_risk"
    return "paused" if row["paused"] else "running"


async def case_sla(principal: Principal, case_id: int) -> CaseSlaOut:
    """The SLA targets of a case the principal may see, in the calendar's time zone."""
    await visible_case_row(principal, case_id)
    rows = await CaseSlaTimer.select().where(CaseSlaTimer.case == case_id).order_by(CaseSlaTimer.id)
    now = utcnow()
    targets: list[TargetState] = []
    zone_name = "Asia/Ho_Chi_Minh"
    for row in rows:
        calendar = await calendar_for(row["calendar_id"])
        zone_name, zone = calendar.timezone, calendar.zone
        timer = decode_timer(row["timer"])
        completed = utc(row["completed_at"])
        spent = elapsed(timer, calendar, completed or now)

        def local(value: Any, zone: Any = zone) -> datetime | None:
            moment = utc(value)
            return moment.astimezone(zone) if moment else None

        targets.append(
            TargetState(
                metric=row["metric"],
                state=_state(row, now),
                policy_id=row["policy_id"],
                target=timer.target,
                started_at=timer.started_at.astimezone(zone),
                due_at=local(row["due_at"]),
                warn_at=local(row["warn_at"]),
                remaining=timer.target - spent,
                remaining_seconds=int((timer.target - spent).total_seconds()),
                elapsed=spent,
                paused=bool(row["paused"]),
                at_risk=row["warned_at"] is not None,
                breached=row["breached_at"] is not None,
                breaches=row["breaches"],
                completed_at=local(row["completed_at"]),
                cycle=row["cycle"],
            )
        )
    return CaseSlaOut(case_id=case_id, timezone=zone_name, targets=targets)


async def list_at_risk(
    principal: Principal, team_id: int | None = None, limit: int = 100
) -> list[AtRiskItem]:
    """Open cases with a target at risk or breached, soonest due first, within
    the principal's scope (optionally one team)."""
    require(principal, Action.WORK_CASES)
    condition: Any = (
        (CaseSlaTimer.active == True)  # noqa: E712 - Piccolo needs ==
        & (CaseSlaTimer.paused == False)  # noqa: E712
        & CaseSlaTimer.warned_at.is_not_null()
    )
    if team_id is not None:
        condition = condition & (CaseSlaTimer.case.team == team_id)
    scope = case_scope(principal).where()
    if scope is not None:
        condition = condition & _on_case(scope)
    c = CaseSlaTimer.case
    rows = (
        await CaseSlaTimer.select(
            c.id,
            c.subject,
            c.priority,
            c.status,
            c.team,
            c.assignee,
            CaseSlaTimer.metric,
            CaseSlaTimer.due_at,
            CaseSlaTimer.breached_at,
        )
        .where(condition)
        .order_by(CaseSlaTimer.due_at)
        .limit(limit)
    )
    return [
        AtRiskItem(
            case_id=r["case.id"],
            reference=case_reference(r["case.id"]),
            subject=r["case.subject"],
            priority=r["case.priority"],
            status=r["case.status"],
            team_id=r["case.team"],
            assignee_id=r["case.assignee"],
            metric=r["metric"],
            due_at=utc(r["due_at"]),
            breached=r["breached_at"] is not None,
        )
        for r in rows
    ]


def _on_case(scope: Any) -> Any:
    """A scope clause on ``cases`` re-expressed through the timer's ``case`` join."""
    return CaseSlaTimer.case.id.is_in(Case.select(Case.id).where(scope))
