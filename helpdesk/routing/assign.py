"""Routing a new case: its rule, its team, and its first assignment.

:func:`route_case` runs once per new case (the Dramatiq actor
``route_new_case``): the first matching routing rule may set the team,
priority, tags, a needed skill or the assignee; a case still without a team
goes to the default team; then the team's strategy may choose an agent. All of
it happens in one transaction, conditional on ``routed_at`` being empty, so
routing a case twice (a redelivered message, a sweep racing a worker) changes
it once. The case's audit log says which rule fired (``case.routed``).

Choosing and assigning happen under the team's routing lock (see
:mod:`helpdesk.routing._pool`), so concurrent routings never push an agent
over capacity and round-robin stays in turn. Cases nobody can take yet wait
in the team's queue (see :mod:`helpdesk.routing.queue`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import MessageKind
from helpdesk.events import CaseUpdated, case_stream, emit, team_stream
from helpdesk.policy import SYSTEM
from helpdesk.routing._pool import (
    OPEN_STATUSES,
    record_assignment,
    remember_last_agent,
    team_candidates,
    team_settings,
)
from helpdesk.routing.rules import CaseFacts, Rule, first_matching_rule
from helpdesk.routing.services import enabled_rules
from helpdesk.routing.strategies import Strategy, choose_agent
from helpdesk.routing.tables import CaseRouting
from helpdesk.rows import as_utc, json_dict, json_list
from helpdesk.services import audit
from helpdesk.services.teams import default_team_id
from helpdesk.tables import Agent, Case, CaseTag, Message

__all__ = ["route_case"]

_ATTEMPTS = 5
_CASE_COLUMNS = (
    Case.id, Case.subject, Case.status, Case.priority, Case.channel, Case.organization,
    Case.team, Case.assignee, Case.tags, Case.language, Case.version, Case.routed_at,
)  # fmt: skip


class _NewCase(msgspec.Struct, frozen=True, kw_only=True):
    """The columns of a case that routing reads (:data:`_CASE_COLUMNS`)."""

    id: int
    subject: str
    status: str
    priority: str
    channel: str
    organization_id: int | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    language: str
    version: int
    routed_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> _NewCase:
        """The case of a row selected with :data:`_CASE_COLUMNS`."""
        return cls(
            id=row["id"],
            subject=row["subject"],
            status=row["status"],
            priority=row["priority"],
            channel=row["channel"],
            organization_id=row["organization"],
            team_id=row["team"],
            assignee_id=row["assignee"],
            tags=json_list(row["tags"]),
            language=row["language"],
            version=row["version"],
            routed_at=as_utc(row["routed_at"]),
        )


class _Plan(msgspec.Struct, kw_only=True):
    """What routing will do to one new case."""

    rule: Rule | None
    team_id: int | None
    priority: str
    tags: list[str]
    skill: str | None
    assignee_id: int | None = None
    reason: str = ""


async def route_case(case_id: int) -> bool:
    """Route one case; True when this call routed it, False when it was done already
    (or the case does not exist).

    A case changed by someone else between reading and writing (PostgreSQL)
    is routed again from a fresh read, a few times at most.
    """
    for _ in range(_ATTEMPTS):
        routed = await _route_once(case_id)
        if routed is not None:
            return routed
    raise RuntimeError(f"case {case_id} kept changing while being routed")


async def _route_once(case_id: int) -> bool | None:
    async with transaction():
        row = await Case.select(*_CASE_COLUMNS).where(Case.id == case_id).first()
        if row is None or row["routed_at"] is not None:
            return False
        case = _NewCase.from_row(row)
        rules = await enabled_rules()
        rule = first_matching_rule(rules, await _facts(case)) if rules else None
        plan = await _plan(case, rule)
        await _choose(case, plan)
        values: dict[Any, Any] = {
            Case.team: plan.team_id,
            Case.priority: plan.priority,
            Case.tags: plan.tags,
            Case.routed_at: utcnow(),
            Case.version: Case.version + 1,
        }
        if plan.assignee_id is not None:
            values[Case.assignee] = plan.assignee_id
            values[Case.updated_at] = utcnow()
        updated = (
            await Case.update(values)
            .where((Case.id == case_id) & Case.routed_at.is_null() & (Case.version == case.version))
            .returning(Case.id)
        )
        if not updated:  # routed meanwhile (False), or changed meanwhile (None: retry)
            still = await Case.exists().where((Case.id == case_id) & Case.routed_at.is_null())
            return None if still else False
        await _record(case, plan)
    return True


async def _facts(case: _NewCase) -> CaseFacts:
    first = (
        await Message.select(Message.body_text, Message.meta)
        .where((Message.case == case.id) & (Message.kind == MessageKind.CUSTOMER))
        .order_by(Message.id)
        .first()
    )
    meta = json_dict(first["meta"]) if first else {}
    return CaseFacts(
        channel=case.channel,
        mailbox_id=meta.get("mailbox_id"),  # recorded by the email channel
        organization_id=case.organization_id,
        language=case.language or "",
        subject=case.subject,
        body=first["body_text"] if first else "",
        tags=frozenset(case.tags),
        priority=case.priority,
    )


async def _plan(case: _NewCase, rule: Rule | None) -> _Plan:
    actions = rule.actions if rule else None
    team_id = case.team_id
    if actions and actions.team_id is not None:
        team_id = actions.team_id
    if team_id is None:
        team_id = await default_team_id()
    tags = list(case.tags)
    if actions and actions.add_tags:
        tags = sorted(set(tags) | {t.strip().lower() for t in actions.add_tags})
    return _Plan(
        rule=rule,
        team_id=team_id,
        priority=str(actions.priority) if actions and actions.priority else case.priority,
        tags=tags,
        skill=actions.required_skill if actions else None,
    )


async def _choose(case: _NewCase, plan: _Plan) -> None:
    """Set ``plan.assignee_id``: the rule's agent if active, else the team strategy's pick."""
    if case.assignee_id is not None or case.status not in OPEN_STATUSES:
        return
    wanted = plan.rule.actions.assignee_id if plan.rule else None
    if wanted is not None:
        agent = await Agent.select(Agent.active).where(Agent.id == wanted).first()
        if agent is not None and agent["active"]:
            plan.assignee_id, plan.reason = wanted, "rule"
            return
    if plan.team_id is None:
        return
    settings = await team_settings(plan.team_id, lock=True)
    if settings.strategy == Strategy.MANUAL:
        return
    pick = choose_agent(
        settings.strategy,
        await team_candidates(plan.team_id),
        last_agent_id=settings.last_agent_id,
        skill=plan.skill or settings.required_skill,
        language=case.language if settings.prefer_case_language else None,
    )
    if pick is not None:
        plan.assignee_id, plan.reason = pick.agent_id, str(settings.strategy)


async def _record(case: _NewCase, plan: _Plan) -> None:
    case_id = case.id
    old_tags = case.tags
    added = [t for t in plan.tags if t not in old_tags]
    if added:
        await CaseTag.insert(*(CaseTag(case=case_id, tag=t) for t in added))
    await CaseRouting.insert(
        CaseRouting(
            case=case_id,
            rule_id=plan.rule.id if plan.rule else None,
            rule_name=plan.rule.name if plan.rule else "",
            required_skill=plan.skill or "",
        )
    )
    changes: dict[str, list[Any]] = {}
    for field, old, new in (
        ("team_id", case.team_id, plan.team_id),
        ("priority", case.priority, plan.priority),
        ("tags", old_tags, plan.tags),
    ):
        if old != new:
            changes[field] = [old, new]
    rule_info = {"rule_id": plan.rule.id, "rule_name": plan.rule.name} if plan.rule else {}
    await audit.record(
        SYSTEM,
        "case.routed",
        entity="case",
        entity_id=case_id,
        case_id=case_id,
        changes={**rule_info, **changes},
    )
    if changes:
        await emit(
            CaseUpdated(case_id=case_id, version=case.version + 1, changes=changes),
            [case_stream(case_id), team_stream(case.team_id), team_stream(plan.team_id)],
        )
    if plan.assignee_id is not None:
        if plan.reason != "rule" and plan.team_id is not None:
            await remember_last_agent(plan.team_id, plan.assignee_id)
        await record_assignment(case_id, plan.team_id, plan.assignee_id, None, plan.reason)
