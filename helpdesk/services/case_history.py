"""The history of a case: every change, who made it and when, as typed entries.

Built from what is stored, never from memory:

* the audit log (:mod:`helpdesk.services.audit`): opening, status, priority,
  team, tags and subject changes, assignments (by an agent or by routing,
  with the strategy), routing decisions (the rule that fired), merges, SLA
  warnings and breaches, replies, notes, customer messages and ratings;
* the outbox (``case:N`` stream): status changes that a message made on its
  own (a reply moves a new case to open, a customer's message reopens a
  pending or solved case), which the audit log records only as the message;
* the SLA timers: targets met (completed in time).

Entries carry raw values (statuses, priorities, metrics as stored; teams,
agents and customers by name): wording and time zone are the screen's
business. A change of several fields gives one entry per field. What this
does not promise: the history of a merged case's messages stays with the
case they were written in (the merge itself is in both histories).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from helpdesk.domain import case_reference
from helpdesk.events import case_stream
from helpdesk.policy import Action, Principal, require
from helpdesk.services.lookup import visible_case_row
from helpdesk.services.rows import as_utc, json_dict
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.tables import Agent, AuditEntry, Customer, Message, OutboxEvent, Team

__all__ = ["Actor", "HistoryEntry", "HistoryKind", "case_history"]

_SAME_TRANSACTION = timedelta(seconds=5)
"""How far apart a message's audit entry and the status change it caused may be."""


class HistoryKind(StrEnum):
    """What an entry of the history tells."""

    OPENED = "opened"
    STATUS = "status"
    PRIORITY = "priority"
    TEAM = "team"
    ASSIGNEE = "assignee"
    TAGS = "tags"
    SUBJECT = "subject"
    ROUTED = "routed"
    MERGED_INTO = "merged_into"
    MERGED_FROM = "merged_from"
    SLA_AT_RISK = "sla_at_risk"
    SLA_BREACHED = "sla_breached"
    SLA_MET = "sla_met"
    REPLY = "reply"
    NOTE = "note"
    CUSTOMER_MESSAGE = "customer_message"
    SURVEY = "survey"


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who made a change: an agent or a customer by name, or the system (name "")."""

    kind: str
    name: str = ""


SYSTEM_ACTOR = Actor(kind="system")


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One change of a case. ``old``/``new``: the values before and after (raw
    status or priority values, names of teams and agents, tags joined by
    ", "); ``detail``: the rule, strategy, SLA metric, rating or case number."""

    at: datetime
    kind: HistoryKind
    actor: Actor
    old: str = ""
    new: str = ""
    detail: str = ""


class _Names(msgspec.Struct):
    agents: dict[int, str]
    customers: dict[int, str]
    teams: dict[int, str]
    message_authors: dict[int, int]
    """The customer who wrote each customer message (channels record those as the system)."""

    def of(self, row: dict[str, Any]) -> Actor:
        """Who made the change of an audit row: for a customer's message, its author."""
        if row["action"] == "message.customer" and row["entity_id"] in self.message_authors:
            return self.actor("customer", self.message_authors[row["entity_id"]])
        return self.actor(row["actor_kind"], row["actor_id"])

    def actor(self, kind: str, actor_id: int | None) -> Actor:
        if kind == "agent" and actor_id is not None:
            return Actor(kind="agent", name=self.agents.get(actor_id, f"#{actor_id}"))
        if kind == "customer" and actor_id is not None:
            return Actor(kind="customer", name=self.customers.get(actor_id, f"#{actor_id}"))
        return SYSTEM_ACTOR

    def team(self, team_id: Any) -> str:
        return self.teams.get(int(team_id), f"#{team_id}") if team_id is not None else ""

    def agent(self, agent_id: Any) -> str:
        return self.agents.get(int(agent_id), f"#{agent_id}") if agent_id is not None else ""


async def case_history(principal: Principal, case_id: int) -> list[HistoryEntry]:
    """Every recorded change of a case the principal (a member of staff) may see,
    oldest first. :class:`~helpdesk.errors.NotFoundError` when they may not
    see it, exactly as for the case itself."""
    require(principal, Action.VIEW_DIRECTORY)
    await visible_case_row(principal, case_id)
    audits = (
        await AuditEntry.select()
        .where(AuditEntry.case == case_id)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    names = await _names(audits)
    entries: list[HistoryEntry] = []
    for row in audits:
        entries.extend(_from_audit(row, names))
    entries.extend(await _implicit_status_changes(case_id, audits, names))
    entries.extend(await _sla_met(case_id))
    entries.sort(key=lambda entry: entry.at)
    return entries


async def _names(audits: list[dict[str, Any]]) -> _Names:
    """The names of every agent, customer and team the entries mention (4 queries)."""
    agent_ids: set[int] = set()
    customer_ids: set[int] = set()
    message_ids = [r["entity_id"] for r in audits if r["action"] == "message.customer"]
    authors = await Message.select(Message.id, Message.author_customer).where(
        Message.id.is_in(message_ids or [0]) & Message.author_customer.is_not_null()
    )
    message_authors = {r["id"]: r["author_customer"] for r in authors}
    customer_ids.update(message_authors.values())
    for row in audits:
        if row["actor_id"] is not None:
            (agent_ids if row["actor_kind"] == "agent" else customer_ids).add(row["actor_id"])
        change = json_dict(row["changes"]).get("assignee_id")
        if isinstance(change, list):
            agent_ids.update(int(v) for v in change if isinstance(v, int))
    agents = await Agent.select(Agent.id, Agent.name).where(
        Agent.id.is_in(sorted(agent_ids or {0}))
    )
    customers = await Customer.select(Customer.id, Customer.name).where(
        Customer.id.is_in(sorted(customer_ids or {0}))
    )
    teams = await Team.select(Team.id, Team.name)
    return _Names(
        agents={r["id"]: r["name"] for r in agents},
        customers={r["id"]: r["name"] for r in customers},
        teams={r["id"]: r["name"] for r in teams},
        message_authors=message_authors,
    )


_Make = Callable[..., "HistoryEntry"]

_MESSAGES = {
    "message.reply": HistoryKind.REPLY,
    "message.note": HistoryKind.NOTE,
    "message.customer": HistoryKind.CUSTOMER_MESSAGE,
}
_FIELDS = {
    "status": HistoryKind.STATUS,
    "priority": HistoryKind.PRIORITY,
    "team_id": HistoryKind.TEAM,
    "tags": HistoryKind.TAGS,
    "subject": HistoryKind.SUBJECT,
}


def _from_audit(row: dict[str, Any], names: _Names) -> list[HistoryEntry]:
    """The entries of one audit row (none for actions the history does not show)."""
    at = as_utc(row["created_at"])
    assert at is not None
    actor = names.of(row)
    changes = json_dict(row["changes"])
    action = row["action"]

    def entry(kind: HistoryKind, **values: str) -> HistoryEntry:
        return HistoryEntry(at=at, kind=kind, actor=actor, **values)

    if action in _MESSAGES:
        return [entry(_MESSAGES[action])]
    if action == "case.opened":
        return [entry(HistoryKind.OPENED)]
    if action in ("case.updated", "case.routed"):
        found = _field_changes(changes, names, entry)
        if action == "case.routed":
            found.insert(0, entry(HistoryKind.ROUTED, detail=str(changes.get("rule_name", ""))))
        return found
    if action == "case.assigned":
        old, new = _pair(changes.get("assignee_id"))
        detail = str(changes.get("reason", ""))
        return [
            entry(HistoryKind.ASSIGNEE, old=names.agent(old), new=names.agent(new), detail=detail)
        ]
    if action == "case.merged":
        return [_merge_entry(row["case"], changes, entry)]
    if action in ("case.sla_at_risk", "case.sla_breached"):
        kind = HistoryKind.SLA_AT_RISK if action == "case.sla_at_risk" else HistoryKind.SLA_BREACHED
        return [entry(kind, detail=str(changes.get("metric", "")))]
    if action == "survey.answered":
        return [entry(HistoryKind.SURVEY, detail=str(changes.get("rating", "")))]
    return []


def _pair(value: Any) -> tuple[Any, Any]:
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return None, None


def _field_changes(changes: dict[str, Any], names: _Names, entry: _Make) -> list[HistoryEntry]:
    found: list[HistoryEntry] = []
    for field, kind in _FIELDS.items():
        if field not in changes:
            continue
        old, new = _pair(changes[field])
        if field == "team_id":
            old, new = names.team(old), names.team(new)
        elif field == "tags":
            old, new = ", ".join(old or []), ", ".join(new or [])
        found.append(
            entry(kind, old="" if old is None else str(old), new="" if new is None else str(new))
        )
    return found


def _merge_entry(case_id: int, changes: dict[str, Any], entry: _Make) -> HistoryEntry:
    source, target = changes.get("source_id"), changes.get("target_id")
    if source == case_id and isinstance(target, int):
        return entry(HistoryKind.MERGED_INTO, detail=case_reference(target))
    other = source if isinstance(source, int) else 0
    return entry(HistoryKind.MERGED_FROM, detail=case_reference(other))


async def _implicit_status_changes(
    case_id: int, audits: list[dict[str, Any]], names: _Names
) -> list[HistoryEntry]:
    """Status changes in the outbox that no audited change explains: those a
    message made; the actor is the author of the message audited closest to it."""
    explained: list[tuple[str, str]] = []
    messages: list[tuple[datetime, Actor]] = []
    for row in audits:
        if row["action"] in ("case.updated", "case.routed"):
            old, new = _pair(json_dict(row["changes"]).get("status"))
            if old is not None:
                explained.append((str(old), str(new)))
        elif row["action"] in ("message.customer", "message.reply"):
            at = as_utc(row["created_at"])
            assert at is not None
            messages.append((at, names.of(row)))
    events = (
        await OutboxEvent.select(OutboxEvent.payload, OutboxEvent.created_at)
        .where((OutboxEvent.stream == case_stream(case_id)) & (OutboxEvent.type == "case.updated"))
        .order_by(OutboxEvent.seq)
        .output(load_json=True)
    )
    found: list[HistoryEntry] = []
    for event in events:
        old, new = _pair(json_dict(event["payload"]).get("changes", {}).get("status"))
        if old is None:
            continue
        if (str(old), str(new)) in explained:
            explained.remove((str(old), str(new)))
            continue
        stored = as_utc(event["created_at"])
        assert stored is not None
        at, actor = _closest(messages, stored)
        found.append(
            HistoryEntry(
                at=at,
                kind=HistoryKind.STATUS,
                actor=actor,
                old=str(old),
                new=str(new),
            )
        )
    return found


def _closest(messages: list[tuple[datetime, Actor]], at: datetime) -> tuple[datetime, Actor]:
    """The time and author of the message audited closest to ``at`` (within
    :data:`_SAME_TRANSACTION`), so the change sorts just after its message;
    else ``at`` and the system."""
    near = [(abs(at - when), when, actor) for when, actor in messages]
    near = [item for item in near if item[0] <= _SAME_TRANSACTION]
    if not near:
        return at, SYSTEM_ACTOR
    _, when, actor = min(near, key=lambda item: item[0])
    return when, actor


async def _sla_met(case_id: int) -> list[HistoryEntry]:
    """SLA targets completed without a breach."""
    rows = await CaseSlaTimer.select(CaseSlaTimer.metric, CaseSlaTimer.completed_at).where(
        (CaseSlaTimer.case == case_id)
        & CaseSlaTimer.completed_at.is_not_null()
        & CaseSlaTimer.breached_at.is_null()
    )
    found: list[HistoryEntry] = []
    for row in rows:
        at = as_utc(row["completed_at"])
        if at is not None:
            found.append(
                HistoryEntry(
                    at=at, kind=HistoryKind.SLA_MET, actor=SYSTEM_ACTOR, detail=row["metric"]
                )
            )
    return found
