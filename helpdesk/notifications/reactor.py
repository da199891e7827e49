"""The event reactor that writes notifications, inside the change's transaction.

:func:`notify_on_event` runs just before a transaction's events are stored
(see :func:`helpdesk.events.configure`), so a notification exists exactly when
the change it tells of committed. What each event gives:

* ``case.assigned``: the new assignee (unless they assigned it themselves);
* ``case.message_added`` by the customer: the assignee; an unassigned chat's
  team; nobody for another unassigned case (the opening message of a case is
  not a reply);
* ``case.message_added``, an internal note: each agent it ``@mentions``;
* ``case.opened`` on the chat channel: the members of the chat's team (of the
  default team for a chat without one);
* ``case.sla_at_risk`` / ``case.sla_breached``: the agents the SLA engine
  notified (the assignee and the managers of the case's team).

Never the agent who acted; only agents who may see the case
(:func:`helpdesk.policy.case_scope`); each agent's choices per kind decide
whether the row is written (shown in the console, then pushed live as an
``agent.notification`` event on their own stream) and whether a mail job is
recorded (:mod:`helpdesk.notifications.mail`). One event notifies one agent
at most once: the row's ``(agent, dedupe_key)`` is unique.
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpdesk import jobs
from helpdesk.clock import utcnow
from helpdesk.domain import Channel, MessageKind, Role
from helpdesk.events import (
    CaseAssigned,
    CaseOpened,
    Event,
    MessageAdded,
    NotificationCreated,
    SlaAtRisk,
    SlaBreached,
    agent_stream,
    emit,
    pending_payloads,
)
from helpdesk.notifications.kinds import DEFAULTS, Choice, Kind
from helpdesk.notifications.mail import send_notification_mail
from helpdesk.notifications.mentions import Candidate, find_mentions
from helpdesk.notifications.tables import Notification, NotificationSetting
from helpdesk.policy import Principal, case_scope
from helpdesk.tables import Agent, AuditEntry, Case, Message, Team, TeamMember

__all__ = ["Draft", "notify_on_event"]

EXCERPT = 140
SUBJECT = 120


class Draft(msgspec.Struct, frozen=True, kw_only=True):
    """A notification to write, once its recipients are checked."""

    agent_id: int
    kind: Kind
    case_id: int
    actor_id: int | None
    params: dict[str, str]
    dedupe_key: str


async def notify_on_event(event: Event) -> None:
    """Reactor: write the notifications ``event`` calls for (see the module)."""
    match event:
        case CaseAssigned():
            await _assigned(event)
        case MessageAdded(kind=MessageKind.CUSTOMER):
            await _customer_wrote(event)
        case MessageAdded(kind=MessageKind.NOTE):
            await _note(event)
        case CaseOpened(channel=Channel.CHAT):
            await _chat_waiting(event)
        case SlaAtRisk() | SlaBreached():
            await _sla(event)


# --- who is told what ----------------------------------------------------------


async def _case(case_id: int) -> dict[str, Any] | None:
    return (
        await Case.select(
            Case.id, Case.team, Case.assignee, Case.customer, Case.organization,
            Case.subject, Case.channel, Case.version,
        )
        .where(Case.id == case_id)
        .first()
    )  # fmt: skip


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


async def _assigned(event: CaseAssigned) -> None:
    case = await _case(event.case_id)
    if case is None or event.assignee_id is None or case["assignee"] != event.assignee_id:
        return  # unassigned, or reassigned again in the same transaction
    draft = Draft(
        agent_id=event.assignee_id, kind=Kind.ASSIGNED, case_id=event.case_id,
        actor_id=event.actor_id, params={"subject": _short(case["subject"], SUBJECT)},
        dedupe_key=f"assigned:{event.case_id}:{event.previous_assignee_id}>{event.assignee_id}"
        f":{case['version']}",
    )  # fmt: skip
    await deliver(case, [draft])


async def _customer_wrote(event: MessageAdded) -> None:
    opening = any(
        p.get("type") == "case.opened" and p.get("case_id") == event.case_id
        for p in pending_payloads()
    )
    case = None if opening else await _case(event.case_id)
    if case is None:
        return  # the opening message of a case is no reply
    if case["assignee"] is not None:
        recipients = [int(case["assignee"])]
    elif case["channel"] == Channel.CHAT and (team_id := await _chat_team(case)) is not None:
        recipients = await _team_members(team_id)
    else:
        return
    actor = await _staff_author(event.message_id)
    params = {"subject": _short(case["subject"], SUBJECT)}
    drafts = [
        Draft(agent_id=agent_id, kind=Kind.CUSTOMER_REPLIED, case_id=event.case_id,
              actor_id=actor, params=params, dedupe_key=f"message:{event.message_id}")
        for agent_id in recipients
    ]  # fmt: skip
    await deliver(case, drafts)


async def _staff_author(message_id: int) -> int | None:
    """The agent who recorded a customer's message on their behalf (a phone call), if any."""
    row = (
        await AuditEntry.select(AuditEntry.actor_id)
        .where(
            (AuditEntry.entity == "message")
            & (AuditEntry.entity_id == message_id)
            & (AuditEntry.actor_kind == "agent")
        )
        .first()
    )
    return int(row["actor_id"]) if row and row["actor_id"] is not None else None


async def _note(event: MessageAdded) -> None:
    message = (
        await Message.select(Message.author_agent, Message.body_text)
        .where(Message.id == event.message_id)
        .first()
    )
    if message is None or "@" not in message["body_text"]:
        return
    rows = await Agent.select(Agent.id, Agent.name, Agent.email).where(Agent.active == True)  # noqa: E712
    mentioned = find_mentions(message["body_text"], [Candidate(**row) for row in rows])
    case = await _case(event.case_id)
    if not mentioned or case is None:
        return
    params = {"excerpt": _short(message["body_text"], EXCERPT)}
    drafts = [
        Draft(agent_id=agent_id, kind=Kind.MENTIONED, case_id=event.case_id,
              actor_id=message["author_agent"], params=params,
              dedupe_key=f"mention:{event.message_id}")
        for agent_id in sorted(mentioned)
    ]  # fmt: skip
    await deliver(case, drafts)


async def _chat_waiting(event: CaseOpened) -> None:
    case = await _case(event.case_id)
    team_id = await _chat_team(case) if case is not None else None
    if case is None or team_id is None or case["assignee"] is not None:
        return
    team = await Team.select(Team.name).where(Team.id == team_id).first()
    params = {"subject": _short(case["subject"], SUBJECT), "team": team["name"] if team else ""}
    drafts = [
        Draft(agent_id=agent_id, kind=Kind.CHAT_WAITING, case_id=event.case_id, actor_id=None,
              params=params, dedupe_key=f"chat:{event.case_id}")
        for agent_id in await _team_members(team_id)
    ]  # fmt: skip
    await deliver(case, drafts)


async def _chat_team(case: dict[str, Any]) -> int | None:
    """The team a chat waits in: its own, else the default queue's team (a chat
    started without a team is in the triage queue, which the default team works)."""
    if case["team"] is not None:
        return int(case["team"])
    row = await Team.select(Team.id).where(Team.is_default == True).first()  # noqa: E712
    return int(row["id"]) if row else None


async def _sla(event: SlaAtRisk | SlaBreached) -> None:
    case = await _case(event.case_id)
    if case is None or not event.notified_agent_ids:
        return
    kind = Kind.SLA_BREACHED if isinstance(event, SlaBreached) else Kind.SLA_AT_RISK
    params = {"metric": event.metric, "subject": _short(case["subject"], SUBJECT)}
    drafts = [
        Draft(agent_id=agent_id, kind=kind, case_id=event.case_id, actor_id=None,
              params=params, dedupe_key=f"{kind}:{event.case_id}:{event.metric}:{event.due_at}")
        for agent_id in event.notified_agent_ids
    ]  # fmt: skip
    await deliver(case, drafts)


async def _team_members(team_id: int) -> list[int]:
    rows = await TeamMember.select(TeamMember.agent).where(TeamMember.team == team_id)
    return sorted({int(row["agent"]) for row in rows})


# --- writing -------------------------------------------------------------------


async def deliver(case: dict[str, Any], drafts: list[Draft]) -> list[int]:
    """Write the drafts that pass (not the actor's own, an active agent who may
    see ``case``), as each recipient chose; the ids of the rows written."""
    drafts = [d for d in drafts if d.agent_id != d.actor_id]
    if not drafts:
        return []
    principals = await _principals({d.agent_id for d in drafts})
    allowed = [
        d for d in drafts
        if d.agent_id in principals and case_scope(principals[d.agent_id]).allows(case)
    ]  # fmt: skip
    choices = await choices_of({d.agent_id for d in allowed})
    written: list[int] = []
    for draft in allowed:
        in_console, by_email = choices.get((draft.agent_id, draft.kind), DEFAULTS[draft.kind])
        if in_console:
            notification_id = await _insert(draft)
            if notification_id is None:
                continue  # this event notified this agent already
            written.append(notification_id)
            await emit(
                NotificationCreated(notification_id=notification_id, agent_id=draft.agent_id,
                                    kind=draft.kind, case_id=draft.case_id),
                [agent_stream(draft.agent_id)],
            )  # fmt: skip
        if by_email:
            jobs.enqueue(
                send_notification_mail, draft.agent_id, str(draft.kind), draft.case_id,
                draft.actor_id, draft.params, draft.dedupe_key,
            )  # fmt: skip
    return written


async def _principals(agent_ids: set[int]) -> dict[int, Principal]:
    """The principals of the active agents among ``agent_ids``, with their teams."""
    ids = sorted(agent_ids)
    rows = await Agent.select(Agent.id, Agent.role).where(
        Agent.id.is_in(ids) & (Agent.active == True)  # noqa: E712
    )
    teams: dict[int, set[int]] = {}
    for row in await TeamMember.select(TeamMember.agent, TeamMember.team).where(
        TeamMember.agent.is_in(ids)
    ):
        teams.setdefault(int(row["agent"]), set()).add(int(row["team"]))
    return {
        int(row["id"]): Principal(
            kind="agent", id=int(row["id"]), role=Role(row["role"]),
            team_ids=frozenset(teams.get(int(row["id"]), ())),
        )
        for row in rows
    }  # fmt: skip


async def choices_of(agent_ids: set[int]) -> dict[tuple[int, str], Choice]:
    """The stored choices of ``agent_ids`` by (agent, kind); absent ones are the defaults."""
    if not agent_ids:
        return {}
    rows = await NotificationSetting.select().where(
        NotificationSetting.agent.is_in(sorted(agent_ids))
    )
    return {
        (int(row["agent"]), row["kind"]): (bool(row["in_console"]), bool(row["by_email"]))
        for row in rows
    }


async def _insert(draft: Draft) -> int | None:
    """Insert one row; None when ``(agent, dedupe_key)`` exists already."""
    rows = await Notification.raw(
        "INSERT INTO notifications (agent, kind, \"case\", actor, params, dedupe_key, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (agent, dedupe_key) DO NOTHING RETURNING id",
        draft.agent_id, str(draft.kind), draft.case_id, draft.actor_id,
        msgspec.json.encode(draft.params).decode(), draft.dedupe_key[:200], utcnow(),
    )  # fmt: skip
    return int(rows[0]["id"]) if rows else None
