"""A visitor token opens one chat and nothing else."""

from __future__ import annotations

from typing import Any

from helpdesk.channels.chat import read_visitor_token, sign_visitor_token
from tests.integration.api.conftest import Api
from tests.integration.chat.conftest import next_of, widget


def _start(socket: Any, api: Api, email: str, text: str) -> dict[str, Any]:
    socket.send_json({"op": "hello", "token": None, "team": api.team_a, "lang": "vi"})
    next_of(socket, "hello")
    socket.send_json({"op": "start", "name": "Khách", "email": email, "message": text})
    chat: dict[str, Any] = next_of(socket, "started")["chat"]
    return chat


def test_a_visitor_token_cannot_read_another_visitors_chat(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as first:
        mine = _start(first, api, "mot@khach.vn", "Chat của khách một")
    with widget(api) as second:
        theirs = _start(second, api, "hai@khach.vn", "Chat của khách hai")
    secret = api.app.state.settings.secret_key
    case_id, customer_id = read_visitor_token(secret, mine["token"])  # type: ignore[misc]
    # Editing the ids of a genuine token breaks its signature
    payload, _, mac = mine["token"].rpartition(".")
    forged = payload.replace(f".{case_id}.", f".{theirs['case_id']}.") + "." + mac
    # A genuine token for their case with my customer is refused too (not my case)
    mixed = sign_visitor_token(secret, theirs["case_id"], customer_id)
    # Non-ASCII text is refused too, not a crash (compare_digest raises on it)
    accented = mine["token"][:-1] + "é"
    assert read_visitor_token(secret, accented) is None
    for token in (forged, mixed, "v1.1.1.x.y", "", "garbage", accented):
        with widget(api) as socket:
            socket.send_json({"op": "hello", "token": token, "team": api.team_a})
            assert next_of(socket, "hello")["chat"] is None, token


def test_two_chats_of_one_customer_do_not_see_each_others_lines(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as first, widget(api) as second:
        one = _start(first, api, "cung@khach.vn", "Chat thứ nhất")
        two = _start(second, api, "cung@khach.vn", "Chat thứ hai")
        assert "customer_id" not in one  # never told
        assert "customer_id" not in two
        assert one["case_id"] != two["case_id"]
        first.send_json({"op": "say", "text": "Chỉ cho chat một"})
        next_of(first, "line")
        second.send_json({"op": "say", "text": "Chỉ cho chat hai"})
        lines = [next_of(second, "line")["line"]["text"] for _ in range(2)]
        assert lines == ["Chỉ cho chat hai", "Chỉ cho chat hai"]  # the answer, then the event
