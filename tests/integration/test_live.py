"""The live-update hub: resume from the outbox, gaps filled, permissions,
reload when too far behind, and recovery after a Redis restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpdesk import events
from helpdesk.domain import Role
from helpdesk.errors import NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.live import MAX_BACKLOG, LiveConnection, LiveHub
from helpdesk.policy import SYSTEM, Principal
from helpdesk.pubsub import MemoryPubSub, PubSub, RedisPubSub, StreamFrame
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from helpdesk.sla.tracking import track_event
from tests.conftest import REDIS_URL, EventLog
from tests.factories import customer_principal, make_agent, make_case, make_team
from tests.integration._processes import PrivateRedis


@pytest.fixture(params=["memory", "redis"])
async def pubsub(
    request: pytest.FixtureRequest, db: EventLog, redis_namespace: str
) -> AsyncIterator[PubSub]:
    backend: PubSub = (
        MemoryPubSub()
        if request.param == "memory"
        else RedisPubSub(REDIS_URL, namespace=redis_namespace)
    )
    events.configure(backend, [], reactors=[track_event])
    yield backend
    await backend.close()


@pytest.fixture
async def hub(pubsub: PubSub) -> AsyncIterator[LiveHub]:
    live = LiveHub(pubsub)
    await live.start()
    yield live
    await live.stop()


async def drain(
    connection: LiveConnection, count: int, seconds: float = 5.0
) -> list[dict[str, Any]]:
    """The next ``count`` messages of a connection (fails after ``seconds``)."""
    got = []
    for _ in range(count):
        text = await asyncio.wait_for(connection.queue.get(), seconds)
        assert text is not None
        got.append(json.loads(text))
    return got


def events_of(messages_: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(m["stream"], m["seq"]) for m in messages_ if m["type"] == "event"]


async def note(case_id: int, n: int = 1) -> None:
    for i in range(n):
        await messages.add_note(SYSTEM, case_id, MessageIn(body=f"ghi chú {i}"))


async def test_a_client_resuming_from_a_number_gets_what_it_missed_then_live(
    hub: LiveHub,
) -> None:
    # Given a case with events 1..3 (opened, message, …) that the client saw up to 1
    team = await make_team()
    agent = await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)
    await note(case.id, 2)
    stream = f"case:{case.id}"
    seen_last = await events.last_seq(stream)
    connection = LiveConnection(agent)

    # When it subscribes after 1, and more happens
    await hub.subscribe(connection, stream, after=1)
    await note(case.id)

    # Then it gets 2..last, then the new one, each once and in order
    expected = list(range(2, seen_last + 2))
    got = await drain(connection, len(expected) + 1)
    assert [m["type"] for m in got] == ["event"] * (len(expected) - 1) + ["subscribed", "event"]
    assert [seq for _, seq in events_of(got)] == expected
    assert connection.queue.empty()


async def test_a_gap_in_pub_sub_is_filled_from_the_outbox(hub: LiveHub, pubsub: PubSub) -> None:
    team = await make_team()
    agent = await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)
    stream = f"case:{case.id}"
    connection = LiveConnection(agent)
    await hub.subscribe(connection, stream, after=None)
    start = await events.last_seq(stream)
    assert (await drain(connection, 1))[0]["type"] == "subscribed"

    # When two events are stored but pub/sub loses the first one
    events.configure(None, [], reactors=[track_event])
    await note(case.id)
    events.configure(pubsub, [], reactors=[track_event])
    await note(case.id)

    # Then the client still gets both, in order
    got = await drain(connection, 2)
    assert [seq for _, seq in events_of(got)] == [start + 1, start + 2]


async def test_a_lost_last_frame_arrives_by_the_periodic_check(pubsub: PubSub) -> None:
    hub = LiveHub(pubsub, reconcile_seconds=0.2)
    await hub.start()
    try:
        team = await make_team()
        agent = await make_agent(team_ids=[team.id])
        case = await make_case(team_id=team.id)
        connection = LiveConnection(agent)
        await hub.subscribe(connection, f"case:{case.id}", after=None)
        start = (await drain(connection, 1))[0]["seq"]
        # When pub/sub loses an event and nothing follows it
        events.configure(None, [], reactors=[track_event])
        await note(case.id)
        # Then the hub still delivers it, from the outbox
        got = await drain(connection, 1, seconds=3)
        assert events_of(got) == [(f"case:{case.id}", start + 1)]
    finally:
        await hub.stop()


async def test_too_many_missed_frames_ask_for_a_reload(hub: LiveHub) -> None:
    team = await make_team()
    agent = await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)
    stream = f"case:{case.id}"
    first = await events.last_seq(stream) + 1
    frames = [
        StreamFrame(stream=stream, seq=n, type="case.message_added", payload={})
        for n in range(first, first + MAX_BACKLOG + 10)
    ]
    from helpdesk.tables import EventStream, OutboxEvent

    await OutboxEvent.insert(
        *(OutboxEvent(stream=f.stream, seq=f.seq, type=f.type, payload={}) for f in frames)
    )
    await EventStream.update({EventStream.last_seq: frames[-1].seq}).where(
        EventStream.stream == stream
    )
    connection = LiveConnection(agent)

    await hub.subscribe(connection, stream, after=0)

    got = await drain(connection, 2)
    assert got[0] == {"type": "reload", "stream": stream, "reason": "too_many_missed"}
    assert got[1]["type"] == "subscribed"
    assert got[1]["seq"] == frames[-1].seq


# Each role against each kind of stream: "ok", or the error the client gets. Streams:
# case of team A, team A, team B, team none, own agent, another agent, own customer, another
SUBSCRIPTIONS = {
    "agent_a": ("ok", "ok", "denied", "ok", "ok", "denied", "denied", "denied"),
    "agent_b": ("not_found", "denied", "ok", "ok", "ok", "denied", "denied", "denied"),
    "manager": ("ok", "ok", "ok", "ok", "ok", "denied", "denied", "denied"),
    "admin": ("ok", "ok", "ok", "ok", "ok", "denied", "denied", "denied"),
    "customer": ("denied", "denied", "denied", "denied", "denied", "denied", "ok", "denied"),
}  # fmt: skip


async def test_subscriptions_go_through_the_policy_for_every_role(hub: LiveHub) -> None:
    team_a, team_b = await make_team(), await make_team()
    principals = {
        "agent_a": await make_agent(team_ids=[team_a.id]),
        "agent_b": await make_agent(team_ids=[team_b.id]),
        "manager": await make_agent(Role.MANAGER),
        "admin": await make_agent(Role.ADMIN),
    }
    case = await make_case(team_id=team_a.id)
    other_case = await make_case(team_id=team_b.id)
    principals["customer"] = await customer_principal(case.customer_id)
    someone = await make_agent()

    def streams(principal: Principal) -> list[str]:
        own = principal.id if principal.is_staff else someone.id
        return [
            f"case:{case.id}", f"team:{team_a.id}", f"team:{team_b.id}", "team:none",
            f"agent:{own}", f"agent:{someone.id if principal.is_staff else own}",
            f"customer:{case.customer_id}", f"customer:{other_case.customer_id}",
        ]  # fmt: skip

    async def follow(principal: Principal, stream: str) -> str:
        try:
            await hub.subscribe(LiveConnection(principal), stream, after=None)
        except NotFoundError:
            return "not_found"
        except PermissionDeniedError:
            return "denied"
        return "ok"

    got = {
        role: tuple([await follow(principal, s) for s in streams(principal)])
        for role, principal in principals.items()
    }
    if principals["customer"].is_staff:  # pragma: no cover - a wiring mistake
        raise AssertionError("the customer principal must not be staff")
    assert got == SUBSCRIPTIONS
    with pytest.raises(ValidationError):
        await hub.subscribe(LiveConnection(principals["admin"]), "secrets:1", after=None)


async def test_viewers_of_a_case_see_each_other(hub: LiveHub) -> None:
    team = await make_team()
    lan, minh = await make_agent(team_ids=[team.id]), await make_agent(team_ids=[team.id])
    case = await make_case(team_id=team.id)
    lan_conn, minh_conn = LiveConnection(lan, "Lan"), LiveConnection(minh, "Minh")
    for connection in (lan_conn, minh_conn):
        await hub.subscribe(connection, f"case:{case.id}", after=None)
        await drain(connection, 1)

    await hub.announce(minh_conn, case.id, "typing")

    got = await drain(lan_conn, 1)
    assert got == [
        {
            "type": "presence",
            "case_id": case.id,
            "agent_id": minh.id,
            "name": "Minh",
            "state": "typing",
        }
    ]
    await asyncio.sleep(0.1)
    assert minh_conn.queue.empty()  # not echoed to the typist


# --- Redis restart ------------------------------------------------------------


async def test_live_updates_resume_after_a_redis_restart(
    db: EventLog, private_redis: PrivateRedis
) -> None:
    backend = RedisPubSub(private_redis.url)
    events.configure(backend, [], reactors=[track_event])
    hub = LiveHub(backend)
    await hub.start()
    try:
        team = await make_team()
        agent = await make_agent(team_ids=[team.id])
        case = await make_case(team_id=team.id)
        stream = f"case:{case.id}"
        connection = LiveConnection(agent)
        await hub.subscribe(connection, stream, after=None)
        start_seq = (await drain(connection, 1))[0]["seq"]

        # When Redis goes away, changes happen (their publishing fails), and Redis returns
        await asyncio.to_thread(private_redis.stop)
        await note(case.id, 2)
        await asyncio.to_thread(private_redis.start)

        # Then the hub reconnects, reads what was missed, and live updates resume
        got = await drain(connection, 2, seconds=20)
        assert [seq for _, seq in events_of(got)] == [start_seq + 1, start_seq + 2]
        await note(case.id)
        later = await drain(connection, 1, seconds=10)
        assert [seq for _, seq in events_of(later)] == [start_seq + 3]
        deadline = time.monotonic() + 10
        while hub.reconnects < 1:  # the outbox may have been faster than the reconnection
            assert time.monotonic() < deadline, "the hub never reconnected"
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
        await backend.close()
        events.configure(None)


async def test_colleagues_of_a_sharing_company_follow_its_requests_live(hub: LiveHub) -> None:
    from tests.factories import make_customer, make_organization

    # Given a company that shares its requests, two colleagues, and one of another company
    shared = await make_organization(shared_visibility=True)
    private = await make_organization()
    asker = await make_customer(organization_id=shared.id)
    colleague = await customer_principal((await make_customer(organization_id=shared.id)).id)
    outsider = await customer_principal((await make_customer(organization_id=private.id)).id)
    stream = f"organization:{shared.id}"
    watching = LiveConnection(colleague)
    await hub.subscribe(watching, stream, after=None)
    assert (await drain(watching, 1))[0]["type"] == "subscribed"
    with pytest.raises(PermissionDeniedError):
        await hub.subscribe(LiveConnection(outsider), stream, after=None)
    with pytest.raises(PermissionDeniedError):
        await hub.subscribe(LiveConnection(await make_agent(Role.ADMIN)), stream, after=None)

    # When the colleague's request gets a reply and an internal note
    case = await make_case(customer_id=asker.id)
    await messages.reply(SYSTEM, case.id, MessageIn(body="Chào chị"))
    await note(case.id)

    # Then the colleague's portal hears of the opening and the reply, never the note
    got = []
    while True:
        try:
            got += await drain(watching, 1, seconds=0.5)
        except TimeoutError:
            break
    kinds = [(m["event"], m["payload"].get("kind")) for m in got]
    assert ("case.opened", None) in kinds
    assert ("case.message_added", "reply") in kinds
    assert all(kind != "note" for _, kind in kinds)
    assert all(m["stream"] == stream for m in got)


async def test_a_case_moving_out_of_scope_stops_at_once_on_either_pub_sub(hub: LiveHub) -> None:
    from helpdesk.schemas import CaseUpdate
    from helpdesk.services import cases

    # Given an agent of team A and a manager following a case of team A
    team_a, team_b = await make_team(), await make_team()
    agent = LiveConnection(await make_agent(team_ids=[team_a.id]))
    manager = LiveConnection(await make_agent(Role.MANAGER))
    case = await make_case(team_id=team_a.id)
    stream = f"case:{case.id}"
    for connection in (agent, manager):
        await hub.subscribe(connection, stream, after=None)
        assert (await drain(connection, 1))[0]["type"] == "subscribed"

    # When the case moves to team B, then gets a note
    await cases.update_case(SYSTEM, case.id, CaseUpdate(version=case.version, team_id=team_b.id))
    await note(case.id)

    # Then the agent hears that it left, is unsubscribed, and gets nothing more
    left = await drain(agent, 2)
    assert left[0]["payload"] == {"type": "case.updated", "case_id": case.id,
                                  "version": case.version + 1,
                                  "changes": {"team_id": [team_a.id, team_b.id]}}  # fmt: skip
    assert left[1] == {"type": "unsubscribed", "stream": stream, "code": "permission_denied"}
    kept = await drain(manager, 2)
    assert [m["event"] for m in kept] == ["case.updated", "case.message_added"]
    await asyncio.sleep(0.2)
    assert agent.queue.empty()
