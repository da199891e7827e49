"""Every live frame is authorised at delivery against the principal's current
rights: a change of rights stops the very next frame, for every stream kind.

Driven through the real hub (:class:`~helpdesk.live.LiveHub` on the memory
pub/sub), with a driver per connection that re-reads the rights when told to,
as the websocket loop does (:meth:`~helpdesk.live.LiveHub.recheck`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from helpdesk import events
from helpdesk.db import transaction
from helpdesk.domain import Role
from helpdesk.errors import AuthenticationError, HelpdeskError
from helpdesk.events import MessageAdded, access_stream, emit
from helpdesk.live import LiveConnection, LiveHub
from helpdesk.policy import SYSTEM, Principal
from helpdesk.pubsub import MemoryPubSub
from helpdesk.schemas import AgentUpdate, CaseUpdate, OrganizationUpdate, TeamUpdate
from helpdesk.services import agents, cases, customers, organizations, teams
from helpdesk.sla.tracking import track_event
from tests.conftest import EventLog
from tests.factories import (
    customer_principal,
    make_agent,
    make_case,
    make_customer,
    make_organization,
    make_team,
)

ROLES = ("agent_a", "agent_b", "manager", "admin", "customer", "colleague")
"""An agent of team A (the case's team), of team B, a manager, an admin, the
case's customer, and a colleague of theirs (their organization shares)."""
STREAMS = ("case", "team", "agent", "customer", "organization")
"""The case's stream, team A's, the person's own agent stream (another agent's
for a customer), their own customer stream (the case customer's for staff),
and the organization's."""

# Whether the next event after the change reaches each (role, stream):
# "yes", "no" (dropped, the stream left with permission_denied, or the socket
# ended), or "-" (the subscription was refused before the change).
_ = "-"
BASELINE = {
    "agent_a": ("yes", "yes", "yes", _, _),
    "agent_b": (_, _, "yes", _, _),
    "manager": ("yes", "yes", "yes", _, _),
    "admin": ("yes", "yes", "yes", _, _),
    "customer": (_, _, _, "yes", "yes"),
    "colleague": (_, _, _, "yes", "yes"),
}
AFTER = {
    # the case moves from team A to team B
    "case_moved": {**BASELINE, "agent_a": ("no", "yes", "yes", _, _)},
    # agent A leaves team A
    "removed_from_team": {**BASELINE, "agent_a": ("no", "no", "yes", _, _)},
    # the manager becomes an agent of no team; the admin becomes a manager
    "role_downgraded": {**BASELINE, "manager": ("no", "no", "yes", _, _)},
    # agent A is deactivated: their socket ends
    "deactivated": {**BASELINE, "agent_a": ("no", "no", "no", _, _)},
    # the organization stops sharing its requests
    "sharing_off": {
        **BASELINE,
        "customer": (_, _, _, "yes", "no"),
        "colleague": (_, _, _, "yes", "no"),
    },
    # the colleague is merged into the case's customer: they act as the target
    "customer_merged": {**BASELINE, "colleague": (_, _, _, "no", "yes")},
    # the case is merged into a case of team B: it stays in team A, closed
    "case_merged": BASELINE,
}  # fmt: skip


@pytest.fixture
async def hub(db: EventLog) -> AsyncIterator[LiveHub]:
    backend = MemoryPubSub()
    events.configure(backend, [], reactors=[track_event])
    live = LiveHub(backend)
    await live.start()
    yield live
    await live.stop()
    await backend.close()


@dataclass
class World:
    team_a: int
    team_b: int
    organization: int
    principals: dict[str, Principal]
    case_id: int
    other_case_id: int
    team_b_case_id: int
    resolvers: dict[str, Callable[[], Awaitable[Principal | None]]] = field(default_factory=dict)

    def stream(self, role: str, kind: str) -> str:
        """The stream of ``kind`` that ``role`` tries to follow."""
        me = self.principals[role]
        if kind == "case":
            return f"case:{self.case_id}"
        if kind == "team":
            return f"team:{self.team_a}"
        if kind == "agent":
            return f"agent:{me.id if me.is_staff else self.principals['agent_a'].id}"
        if kind == "customer":
            return f"customer:{self.principals['customer' if me.is_staff else role].id}"
        return f"organization:{self.organization}"


def _agent_resolver(agent_id: int) -> Callable[[], Awaitable[Principal | None]]:
    async def resolve() -> Principal | None:
        try:
            return await agents.principal_for_agent(agent_id)
        except AuthenticationError:
            return None

    return resolve


def _customer_resolver(customer_id: int) -> Callable[[], Awaitable[Principal | None]]:
    async def resolve() -> Principal | None:
        return await customers.principal_for_customer(customer_id)

    return resolve


async def make_world() -> World:
    team_a, team_b = await make_team(), await make_team()
    organization = await make_organization(shared_visibility=True)
    owner = await make_customer(organization_id=organization.id)
    colleague = await make_customer(organization_id=organization.id)
    principals = {
        "agent_a": await make_agent(team_ids=[team_a.id]),
        "agent_b": await make_agent(team_ids=[team_b.id]),
        "manager": await make_agent(Role.MANAGER),
        "admin": await make_agent(Role.ADMIN),
        "customer": await customer_principal(owner.id),
        "colleague": await customer_principal(colleague.id),
    }
    case = await make_case(team_id=team_a.id, customer_id=owner.id)
    other = await make_case(team_id=team_a.id)
    in_team_b = await make_case(team_id=team_b.id, customer_id=owner.id)
    world = World(team_a.id, team_b.id, organization.id, principals, case.id, other.id,
                  in_team_b.id)  # fmt: skip
    for role, principal in principals.items():
        assert principal.id is not None
        world.resolvers[role] = (
            _agent_resolver(principal.id)
            if principal.is_staff
            else _customer_resolver(principal.id)
        )
    return world


async def change_rights(change: str, world: World) -> None:
    """Make ``change`` through the domain services, as an admin would."""
    p = world.principals
    if change == "case_moved":
        case = await cases.get_case(SYSTEM, world.case_id)
        await cases.update_case(SYSTEM, case.id, CaseUpdate(version=case.version,
                                                            team_id=world.team_b))  # fmt: skip
    elif change == "removed_from_team":
        team = await teams.get_team(SYSTEM, world.team_a)
        members = [m for m in team.member_ids if m != p["agent_a"].id]
        await teams.update_team(SYSTEM, world.team_a, TeamUpdate(member_ids=members))
    elif change == "role_downgraded":
        assert p["manager"].id is not None
        assert p["admin"].id is not None
        await agents.update_agent(SYSTEM, p["manager"].id, AgentUpdate(role=Role.AGENT))
        await agents.update_agent(SYSTEM, p["admin"].id, AgentUpdate(role=Role.MANAGER))
    elif change == "deactivated":
        assert p["agent_a"].id is not None
        await agents.update_agent(SYSTEM, p["agent_a"].id, AgentUpdate(active=False))
    elif change == "sharing_off":
        await organizations.update_organization(
            SYSTEM, world.organization, OrganizationUpdate(shared_visibility=False)
        )
    elif change == "customer_merged":
        source, target = p["colleague"].id, p["customer"].id
        assert source is not None
        assert target is not None
        await customers.merge_customers(SYSTEM, source, target, confirm_customers=[source, target])
    elif change == "case_merged":
        await cases.merge_cases(SYSTEM, world.case_id, world.team_b_case_id)
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(change)


REREAD_DELAY = 0.3
"""How long a driver takes to re-read rights: longer than the next event takes
to arrive, so that the next event is always judged before the new rights are
known (the hub must hold it, not send it on the old rights)."""


async def drive(hub: LiveHub, connection: LiveConnection, resolve: Any) -> None:
    """What the websocket loop does: re-read the rights whenever told to (slowly)."""
    while not connection.closed:
        await connection.access_changed.wait()
        await asyncio.sleep(REREAD_DELAY)
        if not await hub.recheck(connection, resolve):
            return


def texts(connection: LiveConnection) -> list[dict[str, Any]]:
    """Everything queued so far (the queue is emptied)."""
    got: list[dict[str, Any]] = []
    while not connection.queue.empty():
        text = connection.queue.get_nowait()
        if text is not None:
            got.append(json.loads(text))
    return got


async def settle(hub: LiveHub, connections: list[LiveConnection]) -> None:
    """Let the hub dispatch what was published and the drivers re-read rights."""
    for _ in range(100):
        await asyncio.sleep(0.02)
        if not any(c.suspended or c.access_changed.is_set() for c in connections if not c.closed):
            await asyncio.sleep(0.05)
            return
    raise AssertionError("the connections never settled")


async def probe(world: World, streams: list[str]) -> None:
    """The next event on each stream (one event, stored and published per stream)."""
    async with transaction():
        event = MessageAdded(case_id=world.other_case_id, message_id=0, kind="reply")
        await emit(event, sorted(set(streams)))


@pytest.mark.parametrize("change", list(AFTER))
async def test_the_next_event_after_a_change_of_rights_follows_the_new_rights(
    hub: LiveHub, change: str
) -> None:
    # Given every role trying to follow every kind of stream, each on its own socket
    world = await make_world()
    sockets: dict[tuple[str, str], LiveConnection] = {}
    before: dict[str, tuple[str, ...]] = {}
    for role, principal in world.principals.items():
        face = "console" if principal.is_staff else "portal"
        row = []
        for kind in STREAMS:
            connection = LiveConnection(principal)
            assert principal.id is not None
            hub.watch_access(connection, access_stream(face, principal.id))
            try:
                await hub.subscribe(connection, world.stream(role, kind), after=None)
            except HelpdeskError:
                row.append(_)
                hub.unwatch_access(connection)
                continue
            row.append("yes")
            sockets[role, kind] = connection
        before[role] = tuple(row)
    assert before == BASELINE
    drivers = [
        asyncio.create_task(drive(hub, c, world.resolvers[role]))
        for (role, _k), c in sockets.items()
    ]
    try:
        await settle(hub, list(sockets.values()))
        for connection in sockets.values():
            texts(connection)

        # When the rights change, and the very next event follows on every stream
        await change_rights(change, world)
        marks = {s: await events.last_seq(s) for s in {world.stream(r, k) for r, k in sockets}}
        await probe(world, list(marks))
        await settle(hub, list(sockets.values()))

        # Then it reaches exactly those who may see it now
        got: dict[str, tuple[str, ...]] = {}
        for role in ROLES:
            row = []
            for kind in STREAMS:
                socket = sockets.get((role, kind))
                if socket is None:
                    row.append(_)
                    continue
                stream = world.stream(role, kind)
                messages = texts(socket)
                delivered = any(
                    m["type"] == "event" and m["stream"] == stream and m["seq"] > marks[stream]
                    for m in messages
                )
                left = [m for m in messages if m["type"] == "unsubscribed"]
                if not delivered:  # told once, or the socket ended
                    assert socket.closed or left == [
                        {"type": "unsubscribed", "stream": stream, "code": "permission_denied"}
                    ], (role, kind, messages)
                row.append("yes" if delivered else "no")
            got[role] = tuple(row)
        assert got == AFTER[change]
    finally:
        for task in drivers:
            task.cancel()
        await asyncio.gather(*drivers, return_exceptions=True)


async def test_a_held_frame_waits_for_the_rights_to_be_read_again(hub: LiveHub) -> None:
    # Given agent A following team A, with no driver re-reading their rights yet
    world = await make_world()
    agent = world.principals["agent_a"]
    assert agent.id is not None
    connection = LiveConnection(agent)
    hub.watch_access(connection, access_stream("console", agent.id))
    await hub.subscribe(connection, f"team:{world.team_a}", after=None)
    await settle(hub, [connection])
    texts(connection)

    # When they leave team A and team A's queue moves on
    await change_rights("removed_from_team", world)
    await probe(world, [f"team:{world.team_a}"])
    await asyncio.sleep(0.2)

    # Then nothing of team A is queued until the rights are read, and then never
    assert connection.suspended
    assert texts(connection) == []
    assert await hub.recheck(connection, world.resolvers["agent_a"])
    assert texts(connection) == [
        {"type": "unsubscribed", "stream": f"team:{world.team_a}", "code": "permission_denied"}
    ]


async def test_a_case_leaving_a_team_is_told_without_its_other_changes(hub: LiveHub) -> None:
    # Given agent A and the manager following the case and team A, agent B team B
    world = await make_world()
    p = world.principals
    follow = {
        ("agent_a", "case"): f"case:{world.case_id}",
        ("agent_a", "team"): f"team:{world.team_a}",
        ("manager", "case"): f"case:{world.case_id}",
        ("manager", "team"): f"team:{world.team_a}",
        ("agent_b", "team"): f"team:{world.team_b}",
    }
    sockets = {key: LiveConnection(p[key[0]]) for key in follow}
    for key, stream in follow.items():
        await hub.subscribe(sockets[key], stream, after=None)
    await settle(hub, list(sockets.values()))
    for connection in sockets.values():
        texts(connection)

    # When the case gets a new subject and moves to team B in one change
    case = await cases.get_case(SYSTEM, world.case_id)
    await cases.update_case(
        SYSTEM, case.id, CaseUpdate(version=case.version, subject="Bí mật", team_id=world.team_b)
    )
    await cases.update_case(SYSTEM, case.id, CaseUpdate(version=case.version + 1, tags=["vip"]))
    await settle(hub, list(sockets.values()))
    got = {key: texts(connection) for key, connection in sockets.items()}

    # Then agent A learns only that it left (case stream: then unsubscribed, nothing more)
    moved = [world.team_a, world.team_b]
    leaving = {"type": "case.updated", "case_id": case.id, "version": case.version + 1,
               "changes": {"team_id": moved}}  # fmt: skip
    assert [(m["type"], m.get("payload")) for m in got["agent_a", "case"]] == [
        ("event", leaving),
        ("unsubscribed", None),
    ]
    assert [m["payload"] for m in got["agent_a", "team"]] == [leaving]
    # and those who still see it get everything
    for key in (("manager", "case"), ("agent_b", "team")):
        changes = [m["payload"]["changes"] for m in got[key] if m["type"] == "event"]
        assert changes[0] == {"subject": [case.subject, "Bí mật"], "team_id": moved}
        assert "tags" in changes[-1]
    assert got["manager", "team"][0]["payload"]["changes"]["subject"][1] == "Bí mật"
    assert len(got["manager", "team"]) == 1  # the tags were changed in team B
