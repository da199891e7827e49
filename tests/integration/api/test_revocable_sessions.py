"""Sessions end for real: signing out ends every copy of the cookie, "sign out
everywhere" ends every session, and a change of access (signed out, deactivated,
left a team) reaches open websockets at once."""

from __future__ import annotations

import time
from typing import Any

from litestar.exceptions import WebSocketDisconnect

from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentUpdate, MessageIn, TeamUpdate
from helpdesk.services import agents, messages, teams
from tests.integration.api._portal_setup import case_of, new_customer, sign_in
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_live import connect, next_of, session_cookie
from tests.integration.api.test_console_permissions import CSRF


def closed_code(socket: Any) -> int:
    """The close code the server ends ``socket`` with (within a few messages)."""
    try:
        for _ in range(20):
            socket.receive_json()
    except WebSocketDisconnect as closed:
        return int(closed.code)
    raise AssertionError("the socket stayed open")


def page(api: Api, path: str, cookie: str) -> Any:
    """GET ``path`` with exactly this cookie (the client's own jar left aside)."""
    api.client.cookies.clear()
    return api.client.get(path, headers={"cookie": cookie}, follow_redirects=False)


def post_with(api: Api, path: str, cookie: str, form_page: str) -> Any:
    """POST ``path`` as the browser holding ``cookie`` would (CSRF from ``form_page``)."""
    shown = page(api, form_page, cookie)
    token = CSRF.search(shown.text)
    assert token, shown.text[:300]
    api.client.cookies.clear()
    return api.client.post(
        path, data={"_csrf": token.group(1)}, headers={"cookie": cookie}, follow_redirects=False
    )


def test_signing_out_of_the_console_ends_every_copy_of_the_cookie(api: Api) -> None:
    cookie = session_cookie(api, "agent_a")  # a copy, as an attacker would keep it
    assert page(api, "/console/", cookie).status_code == 200
    assert post_with(api, "/console/logout", cookie, "/console/").status_code == 303
    refused = page(api, "/console/", cookie)
    assert refused.status_code == 302
    assert refused.headers["location"].startswith("/console/login")


def test_signing_out_everywhere_ends_the_agents_other_sessions(api: Api) -> None:
    laptop, phone = session_cookie(api, "agent_a"), session_cookie(api, "agent_a")
    other_agent = session_cookie(api, "agent_b")
    assert page(api, "/console/", phone).status_code == 200
    ended = post_with(api, "/console/logout/everywhere", laptop, "/console/")
    assert ended.status_code == 303
    assert page(api, "/console/", laptop).status_code == 302
    assert page(api, "/console/", phone).status_code == 302
    assert page(api, "/console/", other_agent).status_code == 200


def test_a_deactivated_agents_open_console_socket_is_closed_at_once(api: Api) -> None:
    cookie = session_cookie(api, "agent_a")
    with connect(api, cookie) as socket:
        assert socket.receive_json()["type"] == "hello"
        api.run(agents.update_agent, SYSTEM, api.agent_ids["agent_a"], AgentUpdate(active=False))
        started = time.monotonic()
        assert closed_code(socket) == 4401
        assert time.monotonic() - started < 5  # at once, not at the next minute's check


def test_signing_out_closes_the_sessions_open_sockets(api: Api) -> None:
    cookie = session_cookie(api, "agent_a")
    with connect(api, cookie) as socket:
        assert socket.receive_json()["type"] == "hello"
        assert post_with(api, "/console/logout", cookie, "/console/").status_code == 303
        assert closed_code(socket) == 4401


def test_an_agent_removed_from_a_team_stops_receiving_its_events(api: Api) -> None:
    case = api.make_case(api.team_a)
    cookie = session_cookie(api, "agent_a")
    with connect(api, cookie) as socket:
        assert socket.receive_json()["type"] == "hello"
        for stream in (f"team:{api.team_a}", f"case:{case.id}"):
            socket.send_json({"op": "subscribe", "stream": stream, "after": None})
            next_of(socket, "subscribed")
        team = api.run(teams.get_team, SYSTEM, api.team_a)
        left = [m for m in team.member_ids if m != api.agent_ids["agent_a"]]
        api.run(teams.update_team, SYSTEM, api.team_a, TeamUpdate(member_ids=left))
        gone = {next_of(socket, "unsubscribed")["stream"] for _ in range(2)}
        assert gone == {f"team:{api.team_a}", f"case:{case.id}"}
        api.run(messages.add_note, SYSTEM, case.id, MessageIn(body="Sau khi rời nhóm"))
        socket.send_json({"op": "subscribe", "stream": f"case:{case.id}", "after": None})
        refused = next_of(socket, "error")
        assert refused["code"] in ("not_found", "permission_denied")


def test_signing_out_of_the_portal_ends_every_copy_and_everywhere_ends_all(api: Api) -> None:
    customer = new_customer(api)
    case_of(api, customer)
    first, second = sign_in(api, customer), sign_in(api, customer)
    assert page(api, "/support/requests", first).status_code == 200
    assert post_with(api, "/support/logout", first, "/support/requests").status_code == 303
    assert page(api, "/support/requests", first).status_code == 302
    assert page(api, "/support/requests", second).status_code == 200
    third = sign_in(api, customer)
    ended = post_with(api, "/support/logout/everywhere", third, "/support/requests")
    assert ended.status_code == 303
    assert page(api, "/support/requests", second).status_code == 302
    assert page(api, "/support/requests", third).status_code == 302


def test_a_portal_socket_closes_when_its_session_ends(api: Api) -> None:
    customer = new_customer(api)
    cookie = sign_in(api, customer)
    with api.client.websocket_connect("/support/ws", headers={"cookie": cookie}) as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_json({"op": "subscribe", "stream": f"customer:{customer.id}"})
        assert socket.receive_json()["type"] == "subscribed"
        assert post_with(api, "/support/logout", cookie, "/support/requests").status_code == 303
        assert closed_code(socket) == 4401
