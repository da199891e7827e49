"""The SLA clocks follow a case through its life, in the same transaction as each change."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from helpdesk.domain import Channel, Priority, Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.sla import services as sla
from helpdesk.sla._store import decode_timer
from helpdesk.sla.policies import PolicyConditions, Targets
from helpdesk.sla.schemas import PolicyUpdate
from helpdesk.sla.tables import CaseSlaTimer
from tests.conftest import EventLog
from tests.factories import make_case
from tests.integration.sla._support import as_utc, make_policy, timers_of

pytestmark = pytest.mark.usefixtures("db")


async def _status(case_id: int, status: Status) -> None:
    case = await cases.get_case(SYSTEM, case_id)
    await cases.update_case(SYSTEM, case_id, CaseUpdate(version=case.version, status=status))


async def test_a_case_without_a_matching_policy_has_no_timers() -> None:
    await make_policy(conditions=PolicyConditions(channels=(Channel.EMAIL,)))
    case = await make_case(channel=Channel.WEB)
    assert await timers_of(case.id) == {}


async def test_opening_starts_first_response_and_resolution_at_creation() -> None:
    policy = await make_policy()
    case = await make_case()

    timers = await timers_of(case.id)

    assert set(timers) == {"first_response", "resolution"}
    first = timers["first_response"]
    assert first["policy_id"] == policy.id
    assert first["active"]
    assert not first["paused"]
    opened = as_utc(first["started_at"])
    assert opened is not None
    assert as_utc(first["due_at"]) == opened + timedelta(hours=1)
    assert as_utc(first["warn_at"]) == opened + timedelta(minutes=48)
    assert as_utc(first["fire_at"]) == as_utc(first["warn_at"])
    assert as_utc(timers["resolution"]["due_at"]) == opened + timedelta(hours=8)


async def test_the_first_matching_policy_wins_and_targets_follow_priority() -> None:
    urgent = Targets(first_response=timedelta(minutes=15), resolution=timedelta(hours=4))
    normal = Targets(first_response=timedelta(hours=4))
    await make_policy(
        {Priority.URGENT: urgent, Priority.NORMAL: normal},
        conditions=PolicyConditions(channels=(Channel.EMAIL,)),
        position=1,
    )
    fallback = await make_policy(position=2)

    by_mail = await make_case(channel=Channel.EMAIL, priority=Priority.URGENT)
    by_api = await make_case(channel=Channel.API, priority=Priority.URGENT)

    mail_timers = await timers_of(by_mail.id)
    assert decode_timer(mail_timers["first_response"]["timer"]).target == timedelta(minutes=15)
    assert (await timers_of(by_api.id))["first_response"]["policy_id"] == fallback.id
    normal_mail = await make_case(channel=Channel.EMAIL, priority=Priority.NORMAL)
    assert set(await timers_of(normal_mail.id)) == {"first_response"}


async def test_a_public_reply_meets_the_first_response_target_but_a_note_does_not() -> None:
    await make_policy()
    case = await make_case()

    await messages.add_note(SYSTEM, case.id, MessageIn(body="internal"))
    assert (await timers_of(case.id))["first_response"]["active"]
    await messages.reply(SYSTEM, case.id, MessageIn(body="Chào anh, em kiểm tra ngay."))

    first = (await timers_of(case.id))["first_response"]
    assert not first["active"]
    assert first["completed_at"] is not None
    assert first["breached_at"] is None
    assert first["fire_at"] is None
    assert 0 <= first["business_seconds"] < 60
    out = await sla.case_sla(SYSTEM, case.id)
    assert {t.metric: t.state for t in out.targets} == {
        "first_response": "met",
        "resolution": "running",
    }


async def test_pending_pauses_every_timer_and_reopening_resumes_with_time_kept() -> None:
    await make_policy()
    case = await make_case()
    due_before = as_utc((await timers_of(case.id))["resolution"]["due_at"])
    assert due_before is not None

    await _status(case.id, Status.PENDING)
    paused = await timers_of(case.id)
    assert all(row["paused"] and row["fire_at"] is None for row in paused.values())
    assert paused["resolution"]["due_at"] is None
    await asyncio.sleep(0.3)
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="Đây ạ"))

    resumed = (await timers_of(case.id))["resolution"]
    assert not resumed["paused"]
    due_after = as_utc(resumed["due_at"])
    assert due_after is not None
    assert due_after - due_before >= timedelta(seconds=0.3)
    assert len(decode_timer(resumed["timer"]).pauses) == 1


async def test_solving_stops_resolution_and_reopening_resumes_it() -> None:
    await make_policy()
    case = await make_case()
    await messages.reply(SYSTEM, case.id, MessageIn(body="Đã xử lý"))
    await _status(case.id, Status.SOLVED)

    solved = (await timers_of(case.id))["resolution"]
    assert not solved["active"]
    assert solved["completed_at"] is not None
    state = {t.metric: t.state for t in (await sla.case_sla(SYSTEM, case.id)).targets}
    assert state["resolution"] == "met"

    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="Vẫn lỗi"))

    reopened = await timers_of(case.id)
    assert reopened["resolution"]["active"]
    assert reopened["resolution"]["completed_at"] is None
    assert reopened["next_response"]["active"]
    assert reopened["next_response"]["cycle"] == 1


async def test_next_response_restarts_for_each_customer_message_after_a_reply() -> None:
    await make_policy()
    case = await make_case()
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="still waiting"))
    assert "next_response" not in await timers_of(case.id)  # first response still runs

    await messages.reply(SYSTEM, case.id, MessageIn(body="reply 1"))
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="question 2"))
    running = (await timers_of(case.id))["next_response"]
    assert running["active"]
    assert running["cycle"] == 1
    await messages.reply(SYSTEM, case.id, MessageIn(body="reply 2"))
    assert not (await timers_of(case.id))["next_response"]["active"]
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="question 3"))

    again = (await timers_of(case.id))["next_response"]
    assert again["active"]
    assert again["cycle"] == 2


async def test_a_priority_change_retargets_and_keeps_time_spent() -> None:
    await make_policy(
        {
            Priority.NORMAL: Targets(resolution=timedelta(hours=8)),
            Priority.URGENT: Targets(resolution=timedelta(hours=2)),
        }
    )
    case = await make_case(priority=Priority.NORMAL)
    before = (await timers_of(case.id))["resolution"]

    await cases.update_case(
        SYSTEM, case.id, CaseUpdate(version=case.version, priority=Priority.URGENT)
    )

    after = (await timers_of(case.id))["resolution"]
    assert after["id"] == before["id"]
    assert as_utc(after["started_at"]) == as_utc(before["started_at"])
    assert as_utc(after["due_at"]) == as_utc(before["started_at"]) + timedelta(hours=2)  # type: ignore[operator]


async def test_a_policy_change_is_followed_by_open_cases(embedded_runtime: object) -> None:
    policy = await make_policy({p: Targets(resolution=timedelta(hours=8)) for p in Priority})
    case = await make_case()
    started = as_utc((await timers_of(case.id))["resolution"]["started_at"])
    assert started is not None

    await sla.update_policy(
        SYSTEM,
        policy.id,
        PolicyUpdate(targets={p: Targets(resolution=timedelta(hours=3)) for p in Priority}),
    )

    for _ in range(100):
        row = (await timers_of(case.id))["resolution"]
        if row["policy_version"] == 2:
            break
        await asyncio.sleep(0.05)
    assert row["policy_version"] == 2
    assert as_utc(row["due_at"]) == started + timedelta(hours=3)


async def test_closing_a_case_without_reply_cancels_its_response_target(db: EventLog) -> None:
    await make_policy()
    case = await make_case()

    await _status(case.id, Status.CLOSED)

    timers = await timers_of(case.id)
    assert not any(row["active"] for row in timers.values())
    states = {t.metric: t.state for t in (await sla.case_sla(SYSTEM, case.id)).targets}
    assert states["first_response"] == "cancelled"
    assert await CaseSlaTimer.count().where(CaseSlaTimer.fire_at.is_not_null()) == 0
