"""Rebuilding a case's SLA timers from its stored history.

For cases whose history was written with other timestamps than "now": data
imported from another helpdesk, the demo data (played now, then dated back),
or cases opened before any policy existed. The timers are dropped and the
case's life is played again in time order, with the same reactions as live
tracking: the opening, each public reply and later customer message, and each
status change recorded in the audit log.

Not replayed: priority changes (the case's current priority is used from the
start) and policy edits made since. Run inside a transaction.
"""

from __future__ import annotations

from datetime import datetime

from helpdesk.domain import MessageKind, Status
from helpdesk.services.rows import json_dict
from helpdesk.sla._store import utc
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.sla.tracking import customer_wrote, start_case, status_changed, stop_timers
from helpdesk.tables import AuditEntry, Case, Message

__all__ = ["replay_case"]

_RESPONSES = ("first_response", "next_response")


async def replay_case(case_id: int) -> None:
    """Drop the case's SLA timers and rebuild them from its messages and audit log."""
    case = await Case.select(Case.id, Case.created_at).where(Case.id == case_id).first()
    if case is None:
        return
    await CaseSlaTimer.delete().where(CaseSlaTimer.case == case_id)
    opened = utc(case["created_at"])
    assert opened is not None
    await start_case(case_id, opened, status=Status.NEW)
    replied, status = False, Status.NEW
    for at, kind, change in await _history(case_id, opened):
        if kind == MessageKind.REPLY:
            replied = True
            await stop_timers(case_id, _RESPONSES, at, responded=True)
        elif kind == MessageKind.CUSTOMER:
            await customer_wrote(case_id, at, replied=replied)
            if status in (Status.PENDING, Status.SOLVED):  # a customer's message reopens
                await status_changed(case_id, status, Status.OPEN, at)
                status = Status.OPEN
        elif change is not None:
            old, new = Status(change[0]), Status(change[1])
            await status_changed(case_id, old, new, at)
            status = new


Step = tuple[datetime, str, list[str] | None]


async def _history(case_id: int, opened: datetime) -> list[Step]:
    """The case's replies, later customer messages and audited status changes
    (``[old, new]``), oldest first."""
    steps: list[Step] = []
    messages = (
        await Message.select(Message.id, Message.kind, Message.created_at)
        .where((Message.case == case_id) & (Message.kind != MessageKind.NOTE))
        .order_by(Message.id)
    )
    for index, row in enumerate(messages):
        at = utc(row["created_at"]) or opened
        if index == 0 and row["kind"] == MessageKind.CUSTOMER:
            continue  # the opening message
        steps.append((at, row["kind"], None))
    audits = (
        await AuditEntry.select(AuditEntry.changes, AuditEntry.created_at)
        .where((AuditEntry.case == case_id) & (AuditEntry.action == "case.updated"))
        .order_by(AuditEntry.id)
    )
    for row in audits:
        change = json_dict(row["changes"]).get("status")
        if change:
            at = utc(row["created_at"]) or opened
            steps.append((at, "status", list(change)))
    order = {MessageKind.CUSTOMER.value: 0, MessageKind.REPLY.value: 1, "status": 2}
    steps.sort(key=lambda step: (step[0], order[step[1]]))
    return steps
