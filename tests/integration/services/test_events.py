"""The outbox: per-stream numbering, catching up, and nothing escaping a rollback."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable

import pytest

from helpdesk import events
from helpdesk.db import transaction
from helpdesk.domain import Priority, Status
from helpdesk.events import CaseUpdated, decode_event, emit, events_since, last_seq
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn, CaseCreate, CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.tables import Case, EventStream, Message, OutboxEvent
from tests.factories import customer_principal, make_agent, make_case, make_team
from tests.integration.services.helpers import outbox, outbox_count


class AbortedError(Exception):
    """Raised by a test after service calls succeeded, inside the same transaction."""


async def then_abort(*calls: Callable[[], Awaitable[object]]) -> list[object]:
    """Run ``calls`` in one transaction, then fail it; return what the calls returned."""
    results: list[object] = []

    async def run() -> None:
        async with transaction():
            for call in calls:
                results.append(await call())
            raise AbortedError

    with pytest.raises(AbortedError):
        await run()
    return results


async def assert_every_stream_gapless() -> None:
    rows = await OutboxEvent.select(OutboxEvent.stream, OutboxEvent.seq)
    by_stream: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_stream[row["stream"]].append(row["seq"])
    counters = {r["stream"]: r["last_seq"] for r in await EventStream.select()}
    assert set(by_stream) == set(counters)
    for stream, seqs in by_stream.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), stream
        assert counters[stream] == len(seqs), stream


async def test_every_change_is_numbered_gaplessly_in_its_streams(db):
    # Given a case that goes through a typical life
    team = await make_team()
    agent = await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)
    customer = await customer_principal(case.customer_id)
    await cases.assign_case(agent, case.id, AssignIn(assignee_id=agent.id))
    await messages.reply(agent, case.id, MessageIn(body="Em đang kiểm tra"))
    await messages.add_note(agent, case.id, MessageIn(body="nội bộ"))
    current = await cases.get_case(agent, case.id)
    current = await cases.update_case(
        agent, case.id, CaseUpdate(version=current.version, status=Status.PENDING)
    )
    await messages.add_customer_message(customer, case.id, MessageIn(body="Cảm ơn"))

    # Then the case stream tells all of it, numbered 1, 2, 3… in order
    assert await outbox(f"case:{case.id}") == [
        (1, "case.message_added"),
        (2, "case.opened"),
        (3, "case.assigned"),
        (4, "case.message_added"),
        (5, "case.updated"),
        (6, "case.message_added"),
        (7, "case.updated"),
        (8, "case.message_added"),
        (9, "case.updated"),
    ]
    # And what was published after commit is exactly what was stored
    published = [(f.seq, f.type) for f in db.frames if f.stream == f"case:{case.id}"]
    assert published == await outbox(f"case:{case.id}")
    await assert_every_stream_gapless()


async def test_events_since_returns_what_a_subscriber_missed(db):
    case = await make_case()
    stream = f"case:{case.id}"
    seen = await last_seq(stream)
    await messages.reply(SYSTEM, case.id, MessageIn(body="one"))
    await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=(await make_agent()).id))

    missed = await events_since(stream, seen)

    assert [(f.seq, f.type) for f in missed] == [
        (seen + 1, "case.message_added"),
        (seen + 2, "case.updated"),
        (seen + 3, "case.assigned"),
    ]
    assert missed == [f for f in db.frames if f.stream == stream and f.seq > seen]
    assert await events_since(stream, await last_seq(stream)) == []
    assert [f.seq for f in await events_since(stream, 0, limit=2)] == [1, 2]
    assert await last_seq("case:999999") == 0
    assert isinstance(decode_event(missed[-1].payload), events.CaseAssigned)


async def test_a_rolled_back_case_leaves_no_trace(db):
    # When a service call succeeds inside a transaction that then fails
    [ghost] = await then_abort(
        lambda: cases.open_case(
            SYSTEM, CaseCreate(subject="ghost", body="…", customer_email="ghost@example.vn")
        )
    )
    assert ghost.id == 1

    # Then no case, no message, no outbox row, no counter; nothing published
    assert await Case.count() == 0
    assert await Message.count() == 0
    assert await outbox_count() == 0
    assert await EventStream.count() == 0
    assert db.frames == []
    assert db.events == []


async def test_a_rolled_back_change_consumes_no_sequence_number(db):
    case = await make_case()
    stream = f"case:{case.id}"
    before = await last_seq(stream)
    published = len(db.frames)

    await then_abort(
        lambda: messages.reply(SYSTEM, case.id, MessageIn(body="never sent")),
        lambda: cases.update_case(SYSTEM, case.id, CaseUpdate(version=2, priority=Priority.HIGH)),
    )

    assert await last_seq(stream) == before
    assert len(db.frames) == published
    assert (await cases.get_case(SYSTEM, case.id)).version == case.version
    await messages.reply(SYSTEM, case.id, MessageIn(body="sent"))
    assert [seq for seq, _ in await outbox(stream)] == list(range(1, before + 3))


async def test_emit_outside_a_transaction_is_refused_before_writing(db):
    with pytest.raises(RuntimeError):
        await emit(CaseUpdated(case_id=1, version=1, changes={}), ["case:1"])
    assert await outbox_count() == 0


async def test_concurrent_writers_get_distinct_gapless_numbers(db):
    # Given one team queue that ten new cases and ten notes write to at once
    team = await make_team()
    busy = await make_case(team_id=team.id)
    before = await last_seq(f"team:{team.id}")

    await asyncio.gather(
        *(make_case(team_id=team.id) for _ in range(10)),
        *(messages.add_note(SYSTEM, busy.id, MessageIn(body=f"n{i}")) for i in range(10)),
    )

    # Then each event got its own number, and the numbers have no gap
    seqs = [seq for seq, _ in await outbox(f"team:{team.id}")]
    assert seqs == list(range(1, before + 10 * 2 + 10 + 1))
    published = sorted(f.seq for f in db.frames if f.stream == f"team:{team.id}")
    assert published == seqs
    await assert_every_stream_gapless()


async def test_opposite_team_moves_at_once_do_not_deadlock(db):
    # Cases move from team A to B and from B to A at the same moment: every
    # transaction takes the counters of both team streams
    a, b = await make_team(), await make_team()
    there = [await make_case(team_id=a.id) for _ in range(6)]
    back = [await make_case(team_id=b.id) for _ in range(6)]

    results = await asyncio.gather(
        *(cases.update_case(SYSTEM, c.id, CaseUpdate(version=1, team_id=b.id)) for c in there),
        *(cases.update_case(SYSTEM, c.id, CaseUpdate(version=1, team_id=a.id)) for c in back),
        return_exceptions=True,
    )

    assert [type(r).__name__ for r in results] == ["CaseOut"] * 12
    await assert_every_stream_gapless()


async def test_listener_failure_does_not_stop_publishing(db):
    calls = []

    async def broken(event: events.Event) -> None:
        raise ValueError("listener bug")

    async def healthy(event: events.Event) -> None:
        calls.append(event)

    events.configure(events._Bus.pubsub, [broken, healthy])
    case = await make_case()
    assert [type(e).__name__ for e in calls] == ["MessageAdded", "CaseOpened"]
    assert db.types(f"case:{case.id}") == ["case.message_added", "case.opened"]
