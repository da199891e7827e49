"""The audit log: one entry per change, with who, what and the old/new values."""

from __future__ import annotations

import pytest

from helpdesk.db import transaction
from helpdesk.domain import Priority, Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn, CaseUpdate, MessageIn
from helpdesk.services import audit, cases, messages
from tests.factories import customer_principal, make_agent, make_case


async def test_every_change_of_a_case_is_audited_in_order(db):
    agent = await make_agent()
    case = await make_case()
    customer = await customer_principal(case.customer_id)
    other = await make_case(customer_id=case.customer_id)

    await cases.assign_case(agent, case.id, AssignIn(assignee_id=agent.id, only_if_unassigned=True))
    await messages.reply(agent, case.id, MessageIn(body="reply"))
    await messages.add_note(agent, case.id, MessageIn(body="note"))
    await messages.add_customer_message(customer, case.id, MessageIn(body="thanks"))
    current = await cases.get_case(SYSTEM, case.id)
    await cases.update_case(
        agent,
        case.id,
        CaseUpdate(version=current.version, status=Status.SOLVED, priority=Priority.HIGH),
    )
    await cases.merge_cases(agent, other.id, case.id)

    history = await audit.case_history(case.id)
    assert [(h.action, h.actor_kind, h.actor_id) for h in history] == [
        ("case.opened", "system", None),
        ("case.assigned", "agent", agent.id),
        ("message.reply", "agent", agent.id),
        ("message.note", "agent", agent.id),
        ("message.customer", "customer", customer.id),
        ("case.updated", "agent", agent.id),
        ("case.merged", "agent", agent.id),
    ]
    assert history[1].changes == {"assignee_id": [None, agent.id]}
    assert history[5].changes == {"status": ["open", "solved"], "priority": ["normal", "high"]}
    assert history[6].changes == {"source_id": other.id, "target_id": case.id}
    assert [h.id for h in history] == sorted(h.id for h in history)
    assert all(h.created_at.tzinfo is not None for h in history)
    # The other case's log is its own
    assert [h.action for h in await audit.case_history(other.id)] == ["case.opened", "case.merged"]


async def test_a_failed_change_leaves_no_audit_entry(db):
    case = await make_case()

    async def reply_then_fail() -> None:
        async with transaction():
            await messages.reply(SYSTEM, case.id, MessageIn(body="x"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await reply_then_fail()
    assert [h.action for h in await audit.case_history(case.id)] == ["case.opened"]
