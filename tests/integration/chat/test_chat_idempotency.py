"""The chat widget's operations carry an id (SQLite and PostgreSQL): a duplicated or
retried frame, on the same socket or after a reconnection, creates no second case,
request or line, and gets the first answer again."""

from __future__ import annotations

from typing import Any

from helpdesk.tables import Case, Message
from tests.integration.api.conftest import Api
from tests.integration.chat.conftest import next_of, widget
from tests.integration.chat.test_chat_socket import START, hello

START_ID = "start-0123456789abcdef"
LINE_ID = "line-0123456789abcdef"


def lines_of(api: Api, case_id: int) -> list[str]:
    rows = api.run(lambda: Message.select(Message.body_text)
                   .where(Message.case == case_id).order_by(Message.id))  # fmt: skip
    return [row["body_text"] for row in rows]


def case_count(api: Api) -> int:
    count: int = api.run(lambda: Case.count())
    return count


def test_a_duplicated_start_and_line_create_one_chat_and_one_line(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        hello(socket, api)
        # When the start frame comes twice
        socket.send_json({**START, "id": START_ID})
        first = next_of(socket, "started")
        socket.send_json({**START, "id": START_ID})
        second = next_of(socket, "started")
        # Then both answers name the one chat, and echo the operation's id
        assert first["id"] == second["id"] == START_ID
        assert first["chat"]["case_id"] == second["chat"]["case_id"]
        case_id = first["chat"]["case_id"]
        # When a line comes twice
        say: dict[str, Any] = {"op": "say", "text": "Mã đơn là DH-42", "id": LINE_ID}
        socket.send_json(say)
        line = next_of(socket, "line")
        while line.get("id") != LINE_ID:  # the stream may bring the line first
            line = next_of(socket, "line")
        socket.send_json(say)
        again = next_of(socket, "line")
        while again.get("id") != LINE_ID:
            again = next_of(socket, "line")
        # Then it is one line, answered twice with the same line
        assert again["line"] == line["line"]
    assert case_count(api) == 1
    assert lines_of(api, case_id) == [START["message"], "Mã đơn là DH-42"]


def test_a_frame_resent_after_a_reconnection_creates_nothing_more(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        hello(socket, api)
        socket.send_json({**START, "id": START_ID})
        chat = next_of(socket, "started")["chat"]
        socket.send_json({"op": "say", "text": "Còn đó không?", "id": LINE_ID})
        next_of(socket, "line")  # made; then the connection drops before the widget reads it
    # The widget did not see the answer, so it sends the frame again after reconnecting
    with widget(api) as socket:
        hello(socket, api, chat["token"])
        socket.send_json({"op": "say", "text": "Còn đó không?", "id": LINE_ID})
        answer = next_of(socket, "line")
        while answer.get("id") != LINE_ID:
            answer = next_of(socket, "line")
    assert answer["line"]["text"] == "Còn đó không?"
    assert lines_of(api, chat["case_id"]) == [START["message"], "Còn đó không?"]


def test_the_same_id_with_another_text_is_refused(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        hello(socket, api)
        socket.send_json({**START, "id": START_ID})
        case_id = next_of(socket, "started")["chat"]["case_id"]
        socket.send_json({"op": "say", "text": "Một", "id": LINE_ID})
        next_of(socket, "line")
        socket.send_json({"op": "say", "text": "Hai", "id": LINE_ID})
        error = next_of(socket, "error")
        assert error == {
            "type": "error", "code": "idempotency_key_reused", "op": "say", "id": LINE_ID
        }  # fmt: skip
        socket.send_json({"op": "say", "text": "Ba", "id": "too-short"})
        assert next_of(socket, "error")["code"] == "validation_error"
    assert lines_of(api, case_id) == [START["message"], "Một"]


def test_a_duplicated_offline_request_opens_one_case(chat_api: Api) -> None:
    api = chat_api  # no agent available: the widget leaves a web request
    with widget(api) as socket:
        hello(socket, api)
        request = {**START, "op": "request", "id": START_ID}
        socket.send_json(request)
        first = next_of(socket, "request_received")
        socket.send_json(request)
        second = next_of(socket, "request_received")
    assert first["reference"] == second["reference"]
    assert first["id"] == second["id"] == START_ID
    assert case_count(api) == 1
