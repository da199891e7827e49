"""Through the real websockets (``/console/ws``, ``/support/ws``): a change of
rights stops the very next frame of a stream the person may no longer see.

Each test ends with a sentinel: an event on a stream the person still follows,
published after the frame that must not arrive. The hub hands frames on in
the order it gets them, so once the sentinel is read, the dropped frame can
never come."""

from __future__ import annotations

from typing import Any

from helpdesk.db import transaction
from helpdesk.domain import Role
from helpdesk.events import MessageAdded, emit
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentUpdate, CaseUpdate, MessageIn, OrganizationUpdate
from helpdesk.services import agents, cases, customers, messages, organizations
from tests.integration.api._portal_setup import case_of, new_customer, new_organization, sign_in
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_live import connect, next_of, session_cookie


async def _sentinel(stream: str) -> None:
    async with transaction():
        await emit(MessageAdded(case_id=0, message_id=0, kind="note"), [stream])


def until_sentinel(socket: Any, stream: str) -> list[dict[str, Any]]:
    """Every message up to the sentinel event on ``stream`` (pings left out)."""
    seen: list[dict[str, Any]] = []
    for _ in range(100):
        message: dict[str, Any] = socket.receive_json()
        if message["type"] == "ping":
            continue
        sentinel = message["type"] == "event" and message["stream"] == stream
        if sentinel and message["payload"].get("case_id") in (0, None):
            return seen
        seen.append(message)
    raise AssertionError(f"no sentinel on {stream}: {seen}")


def subscribe(socket: Any, *streams: str) -> None:
    for stream in streams:
        socket.send_json({"op": "subscribe", "stream": stream})
        assert next_of(socket, "subscribed")["stream"] == stream


def test_a_case_moving_to_another_team_ends_its_stream_for_the_old_teams_agent(
    api: Api,
) -> None:
    case = api.make_case(api.team_a)
    agent = api.agent_ids["agent_a"]
    with connect(api, session_cookie(api, "agent_a")) as socket:
        assert socket.receive_json()["type"] == "hello"
        subscribe(socket, f"case:{case.id}", f"agent:{agent}")
        current = api.run(cases.get_case, SYSTEM, case.id)
        moved = CaseUpdate(version=current.version, subject="Bí mật", team_id=api.team_b)
        api.run(cases.update_case, SYSTEM, case.id, moved)
        api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Ghi chú của nhóm B"))
        api.run(_sentinel, f"agent:{agent}")
        seen = until_sentinel(socket, f"agent:{agent}")
    assert [(m["type"], m.get("event")) for m in seen] == [
        ("event", "case.updated"),
        ("unsubscribed", None),
    ]
    assert seen[0]["payload"]["changes"] == {"team_id": [api.team_a, api.team_b]}
    assert seen[1] == {
        "type": "unsubscribed",
        "stream": f"case:{case.id}",
        "code": "permission_denied",
    }


def test_a_manager_made_an_agent_stops_getting_another_teams_case_at_once(api: Api) -> None:
    case = api.make_case(api.team_b)
    manager = api.agent_ids["manager"]
    with connect(api, session_cookie(api, "manager")) as socket:
        assert socket.receive_json()["type"] == "hello"
        subscribe(socket, f"case:{case.id}", f"team:{api.team_b}", f"agent:{manager}")
        api.run(agents.update_agent, SYSTEM, manager, AgentUpdate(role=Role.AGENT))
        api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Sau khi đổi vai trò"))
        api.run(_sentinel, f"agent:{manager}")
        seen = until_sentinel(socket, f"agent:{manager}")
    assert [m for m in seen if m["type"] == "event" and m["stream"] != f"agent:{manager}"] == []
    left = {m["stream"] for m in seen if m["type"] == "unsubscribed"}
    assert left == {f"case:{case.id}", f"team:{api.team_b}"}
    assert {m["code"] for m in seen if m["type"] == "unsubscribed"} == {"permission_denied"}


def test_a_colleague_stops_following_an_organization_that_stops_sharing(api: Api) -> None:
    organization = new_organization(api, shared=True)
    asker = new_customer(api, organization=organization)
    colleague = new_customer(api, organization=organization)
    case = case_of(api, asker)
    cookie = sign_in(api, colleague)
    with api.client.websocket_connect("/support/ws", headers={"cookie": cookie}) as socket:
        assert socket.receive_json()["type"] == "hello"
        subscribe(socket, f"organization:{organization}", f"customer:{colleague.id}")
        api.run(organizations.update_organization, SYSTEM, organization,
                OrganizationUpdate(shared_visibility=False))  # fmt: skip
        api.run(messages.reply, SYSTEM, case.id, MessageIn(body="Trả lời sau khi ngừng chia sẻ"))
        api.run(_sentinel, f"customer:{colleague.id}")
        seen = until_sentinel(socket, f"customer:{colleague.id}")
    assert [m for m in seen if m["type"] == "event"] == []
    assert seen == [
        {
            "type": "unsubscribed",
            "stream": f"organization:{organization}",
            "code": "permission_denied",
        }
    ]


def test_a_merged_customer_leaves_their_old_stream_and_acts_as_the_target(api: Api) -> None:
    source, target = new_customer(api), new_customer(api)
    case = case_of(api, target)
    cookie = sign_in(api, source)
    with api.client.websocket_connect("/support/ws", headers={"cookie": cookie}) as socket:
        assert socket.receive_json()["type"] == "hello"
        subscribe(socket, f"customer:{source.id}")
        api.run(customers.merge_customers, SYSTEM, source.id, target.id, [source.id, target.id])
        assert next_of(socket, "unsubscribed") == {
            "type": "unsubscribed",
            "stream": f"customer:{source.id}",
            "code": "permission_denied",
        }
        api.run(_sentinel, f"customer:{source.id}")  # a late frame of the old stream
        subscribe(socket, f"customer:{target.id}")
        api.run(messages.reply, SYSTEM, case.id, MessageIn(body="Chào anh"))
        event = next_of(socket, "event")
    assert (event["stream"], event["payload"]["case_id"]) == (f"customer:{target.id}", case.id)
