"""Rebuilding a case's SLA timers from a history dated in the past (imports, demo data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.db import transaction
from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.sla.replay import replay_case
from helpdesk.tables import AuditEntry, Case, Message
from tests.factories import make_case
from tests.integration.sla._support import make_policy, timers_of

pytestmark = pytest.mark.usefixtures("db")


async def test_a_history_dated_back_gives_the_times_it_shows() -> None:
    # Given a case opened, answered after 30 min, set pending for 2 h, then solved
    await make_policy()  # 24/7: 1 h first response, 8 h resolution
    case = await make_case()
    reply = await messages.reply(SYSTEM, case.id, MessageIn(body="Em chào anh"))
    current = await cases.get_case(SYSTEM, case.id)
    await cases.update_case(
        SYSTEM, case.id, CaseUpdate(version=current.version, status=Status.PENDING)
    )
    current = await cases.get_case(SYSTEM, case.id)
    await cases.update_case(
        SYSTEM, case.id, CaseUpdate(version=current.version, status=Status.SOLVED)
    )
    # and every timestamp rewritten to last week
    opened = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    await Case.update({Case.created_at: opened}).where(Case.id == case.id)
    await Message.update({Message.created_at: opened}).where(Message.case == case.id)
    await Message.update({Message.created_at: opened + timedelta(minutes=30)}).where(
        Message.id == reply.id
    )
    audits = (
        await AuditEntry.select(AuditEntry.id, AuditEntry.changes)
        .where((AuditEntry.case == case.id) & (AuditEntry.action == "case.updated"))
        .order_by(AuditEntry.id)
    )
    for at, row in zip((timedelta(hours=1), timedelta(hours=3)), audits, strict=True):
        await AuditEntry.update({AuditEntry.created_at: opened + at}).where(
            AuditEntry.id == row["id"]
        )

    # When the timers are rebuilt from that history
    async with transaction():
        await replay_case(case.id)

    # Then the response took 30 min and the resolution 1 h of running time (2 h pending)
    timers = await timers_of(case.id)
    assert timers["first_response"]["business_seconds"] == 30 * 60
    assert timers["resolution"]["business_seconds"] == 60 * 60
    assert not timers["resolution"]["active"]
    assert timers["first_response"]["breaches"] == 0
