"""Durable SLA timers with real workers: a killed worker loses no breach and
doubles none; notifications follow a case that pauses, changes priority and reopens.

Redis keys live under this test run's namespace (emptied before and after the
test by the ``redis_url`` fixture), never in a database of their own that
would be flushed."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from helpdesk import events
from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.domain import Priority, Status
from helpdesk.errors import VersionConflictError
from helpdesk.policy import SYSTEM
from helpdesk.runtime import Runtime
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.sla.policies import Targets
from helpdesk.sla.tracking import track_event
from helpdesk.tables import AuditEntry, OutboxEvent
from helpdesk.tasks import setup_broker
from tests.factories import make_case
from tests.integration._processes import Daemons, helpdesk_env, reset_postgres
from tests.integration.sla._support import as_utc, make_policy, timers_of

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)


async def sla_event_types(case_id: int) -> list[str]:
    rows = (
        await OutboxEvent.select(OutboxEvent.type)
        .where((OutboxEvent.stream == f"case:{case_id}") & OutboxEvent.type.like("case.sla_%"))
        .order_by(OutboxEvent.seq)
    )
    return [row["type"] for row in rows]


async def wait_for(case_id: int, count: int, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while True:
        types = await sla_event_types(case_id)
        if len(types) >= count or time.monotonic() > deadline:
            return types
        await asyncio.sleep(0.1)


def test_a_worker_killed_before_the_deadline_loses_no_breach_and_doubles_none(
    postgres_url: str, redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    # Given a scale-out deployment (PostgreSQL, Redis) with a sweep every second
    reset_postgres(postgres_url)
    env = helpdesk_env(
        postgres_url, tmp_path / "data", redis_url=redis_url, redis_namespace=redis_namespace
    )
    env["HELPDESK_SLA_SWEEP_SECONDS"] = "1"
    daemons = Daemons(tmp_path)
    first = daemons.start("worker1", ["worker", "--threads", "2"], env)
    asyncio.run(_wait_started(first))

    async def scenario() -> tuple[list[str], dict[str, object], int]:
        engine = create_engine(postgres_url)
        bind_engine(engine)
        await start_pool(engine, size=2)
        # this process only sends (the wake-ups), to the workers' namespace
        setup_broker(redis_url, engine, namespace=redis_namespace)
        events.configure(None, reactors=[track_event])
        try:
            # and a case whose first response is at risk after 3 s and due after 6 s
            targets = {p: Targets(first_response=timedelta(seconds=6)) for p in Priority}
            await make_policy(targets, warn_percent=50)
            case = await make_case()
            # When the worker handled the warning, then is killed before the deadline
            assert await wait_for(case.id, 1, within=15) == ["case.sla_at_risk"], first.tail()
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(10)
            daemons.started.remove(first)
            assert await sla_event_types(case.id) == ["case.sla_at_risk"]
            # and a new worker starts
            second = daemons.start("worker2", ["worker", "--threads", "2"], env)
            await _wait_started(second)
            # Then the breach is handled once, by the new worker's sweep
            types = await wait_for(case.id, 2, within=20)
            await asyncio.sleep(3)  # a duplicate (message and sweep both) would show by now
            types = await sla_event_types(case.id)
            row = (await timers_of(case.id))["first_response"]
            audits = await AuditEntry.count().where(
                (AuditEntry.case == case.id) & (AuditEntry.action == "case.sla_breached")
            )
            return types, row, audits
        finally:
            events.configure(None)
            await close_pool(engine)

    try:
        types, row, audits = asyncio.run(scenario())
    finally:
        daemons.assert_all_stopped_cleanly()
    assert types == ["case.sla_at_risk", "case.sla_breached"]
    assert row["breaches"] == 1
    assert audits == 1
    breached_at, due_at = as_utc(row["breached_at"]), as_utc(row["due_at"])
    assert breached_at is not None
    assert due_at is not None
    assert breached_at >= due_at


async def _wait_started(daemon: object) -> None:
    deadline = time.monotonic() + 30
    while " started on " not in daemon.log.read_text(errors="replace"):  # type: ignore[attr-defined]
        assert daemon.process.poll() is None, daemon.tail()  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, daemon.tail()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("db")
async def test_notifications_follow_pause_priority_change_and_reopen(
    embedded_runtime: Runtime,
) -> None:
    # Given normal cases resolved within 3 s (warning at 1.5 s), high ones within 60 s
    await make_policy(
        {
            Priority.NORMAL: Targets(resolution=timedelta(seconds=3)),
            Priority.HIGH: Targets(resolution=timedelta(seconds=60)),
        },
        warn_percent=50,
    )
    case = await make_case(priority=Priority.NORMAL)
    opened = as_utc((await timers_of(case.id))["resolution"]["started_at"])
    assert opened is not None

    # When the case waits on the customer past its original warning time
    await _set(case.id, status=Status.PENDING)
    await asyncio.sleep(2.5)
    # Then nothing was announced while paused
    assert await sla_event_types(case.id) == []

    # When the customer answers (the clock resumes), the warning comes at the new time
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="Gửi anh thông tin"))
    resumed = (await timers_of(case.id))["resolution"]
    warn_at = as_utc(resumed["warn_at"])
    assert warn_at is not None
    assert warn_at >= opened + timedelta(seconds=1.5 + 2.5)
    assert await wait_for(case.id, 1, within=10) == ["case.sla_at_risk"]
    warned = as_utc((await timers_of(case.id))["resolution"]["warned_at"])
    assert warned is not None
    assert timedelta(0) <= warned - warn_at < timedelta(seconds=1)

    # When the priority rises to high before the breach, the breach moves to the new target
    await _set(case.id, priority=Priority.HIGH)
    retargeted = (await timers_of(case.id))["resolution"]
    assert retargeted["warned_at"] is None  # the new warning time is ahead
    due_at = as_utc(retargeted["due_at"])
    assert due_at is not None
    assert due_at > opened + timedelta(seconds=50)
    await asyncio.sleep(2.0)  # past the old due time
    assert await sla_event_types(case.id) == ["case.sla_at_risk"]

    # When the case is solved, then reopened, the clock runs on with time kept
    await _set(case.id, status=Status.SOLVED)
    await asyncio.sleep(0.5)
    await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="Vẫn còn lỗi"))
    reopened = (await timers_of(case.id))["resolution"]
    assert reopened["active"]
    reopened_due = as_utc(reopened["due_at"])
    assert reopened_due is not None
    assert reopened_due - due_at >= timedelta(seconds=0.5)
    assert await sla_event_types(case.id) == ["case.sla_at_risk"]


async def _set(case_id: int, **changes: object) -> None:
    """Change the case as of its current version (routing may change it meanwhile)."""
    for _ in range(10):
        case = await cases.get_case(SYSTEM, case_id)
        try:
            await cases.update_case(SYSTEM, case_id, CaseUpdate(version=case.version, **changes))  # type: ignore[arg-type]
            return
        except VersionConflictError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"case {case_id} kept changing")
