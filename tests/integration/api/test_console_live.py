"""The console's websocket: signed-in agents only, subscriptions through the policy,
resume from a number, presence between two agents."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from helpdesk.policy import SYSTEM
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in


def session_cookie(api: Api, role: str) -> str:
    console_sign_in(api, role)
    cookie = api.client.cookies.get("hd_console")
    assert cookie
    api.client.cookies.clear()
    return f"hd_console={cookie}"


def connect(api: Api, cookie: str, **headers: str) -> Any:
    return api.client.websocket_connect("/console/ws", headers={"cookie": cookie, **headers})


def next_of(socket: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (pings and others skipped)."""
    for _ in range(50):
        message: dict[str, Any] = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_a_socket_without_a_session_is_refused(api: Api) -> None:
    api.client.cookies.clear()
    with pytest.raises(WebSocketDisconnect) as refused, connect(api, "hd_console=forged.value"):
        pass
    assert refused.value.code == 4401


def test_a_socket_from_another_site_is_refused(api: Api) -> None:
    cookie = session_cookie(api, "agent_a")
    with (
        pytest.raises(WebSocketDisconnect),
        connect(api, cookie, origin="https://evil.example") as socket,
    ):
        socket.receive_json()


def test_an_agent_follows_a_case_live_and_resumes_from_a_number(api: Api) -> None:
    case = api.make_case(api.team_a)
    cookie = session_cookie(api, "agent_a")
    with connect(api, cookie) as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_json({"op": "subscribe", "stream": f"case:{case.id}", "after": None})
        now = next_of(socket, "subscribed")["seq"]
        api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Ghi chú mới"))
        event = next_of(socket, "event")
        assert (event["stream"], event["seq"], event["event"]) == (
            f"case:{case.id}",
            now + 1,
            "case.message_added",
        )
    # Disconnected, more happens; on reconnecting from the last number, nothing is missed
    api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Trong lúc mất kết nối"))
    api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Thêm một ghi chú"))
    with connect(api, cookie) as socket:
        socket.send_json({"op": "subscribe", "stream": f"case:{case.id}", "after": now + 1})
        missed = [next_of(socket, "event")["seq"] for _ in range(2)]
        assert missed == [now + 2, now + 3]
        assert next_of(socket, "subscribed")["seq"] == now + 3


def test_a_subscription_outside_the_agents_scope_is_an_error_not_a_leak(api: Api) -> None:
    case = api.make_case(api.team_a)
    cookie = session_cookie(api, "agent_b")
    with connect(api, cookie) as socket:
        socket.send_json({"op": "subscribe", "stream": f"case:{case.id}", "after": 0})
        error = next_of(socket, "error")
        assert error["code"] == "not_found"
        socket.send_json({"op": "subscribe", "stream": f"team:{api.team_a}", "after": 0})
        assert next_of(socket, "error")["code"] == "permission_denied"
        socket.send_json({"op": "nonsense"})
        assert next_of(socket, "error")["code"] == "bad_message"


def test_two_agents_on_one_case_see_each_other_typing(api: Api) -> None:
    case = api.make_case(api.team_a)
    lan, manager = session_cookie(api, "agent_a"), session_cookie(api, "manager")
    with connect(api, lan) as lan_socket, connect(api, manager) as manager_socket:
        for socket in (lan_socket, manager_socket):
            socket.send_json({"op": "subscribe", "stream": f"case:{case.id}", "after": None})
            next_of(socket, "subscribed")
        manager_socket.send_json({"op": "presence", "case_id": case.id, "state": "typing"})
        seen = next_of(lan_socket, "presence")
        assert seen["state"] == "typing"
        assert seen["agent_id"] == api.agent_ids["manager"]
        assert seen["case_id"] == case.id


def test_the_case_page_names_its_stream_for_the_live_script(api: Api) -> None:
    case = api.make_case(api.team_a)
    console_sign_in(api, "agent_a")
    page = api.client.get(f"/console/cases/{case.id}")
    assert f"case:{case.id}" in page.text
    assert 'src="/static/console/live.js"' in page.text
    queue = api.client.get("/console/queues/team")
    assert f"team:{api.team_a}" in queue.text
    assert f"team:{api.team_b}" not in queue.text
