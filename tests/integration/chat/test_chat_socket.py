"""The chat widget's socket against the real app (SQLite and PostgreSQL): a chat is
a case on the chat channel, lines are messages, replies and typing are live both
ways, notes never reach the visitor, visitors come back to their chat, and with no
one available the widget leaves a web request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import agents, cases, messages
from helpdesk.tables import Case, Message
from tests.integration.api._portal_setup import delivered_text
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_live import session_cookie
from tests.integration.chat.conftest import make_available, next_of, widget

START = {"op": "start", "name": "Nguyễn Văn An", "email": "an@khach.vn",
         "message": "Xin chào, tôi cần hỗ trợ về đơn hàng"}  # fmt: skip


def hello(socket: Any, api: Api, token: str | None = None, lang: str = "vi") -> dict[str, Any]:
    socket.send_json({"op": "hello", "token": token, "team": api.team_a, "lang": lang})
    return next_of(socket, "hello")


def start(socket: Any, api: Api, **fields: str) -> dict[str, Any]:
    hello(socket, api)
    socket.send_json({**START, **fields})
    chat: dict[str, Any] = next_of(socket, "started")["chat"]
    return chat


def confirm_link(api: Api) -> str:
    """Use the last verification link mailed (as its reader would: open, then click);
    the page of the click."""
    mails = api.run(
        lambda: (
            OutboundMail.select(OutboundMail.id)
            .where(OutboundMail.kind == "chat_verify")
            .order_by(OutboundMail.id)
        )
    )
    sent = delivered_text(api, mails[-1])  # the row holds a placeholder, the mail the link
    path = re.search(r"https?://[^/\s]+(/chat/verify/\S+)", sent)
    assert path is not None
    assert api.client.get(path.group(1)).status_code == 200
    answer = api.client.post(path.group(1))
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def agent(api: Api, role: str = "agent_a") -> Any:
    return api.run(agents.principal_for_agent, api.agent_ids[role])


def test_a_chat_opens_a_case_on_the_chat_channel_and_its_lines_are_messages(
    chat_api: Api,
) -> None:
    api = chat_api
    make_available(api, "agent_a")
    with widget(api) as socket:
        greeting = hello(socket, api)
        assert greeting["available"] is True
        assert greeting["chat"] is None
        assert greeting["texts"]["start"] == "Bắt đầu trò chuyện"
        socket.send_json(START)
        chat = next_of(socket, "started")["chat"]
        assert chat["token"]
        assert [line["who"] for line in chat["lines"]] == ["customer"]
        socket.send_json({"op": "say", "text": "Mã đơn là DH-42"})
        line = next_of(socket, "line")["line"]
        assert (line["who"], line["text"]) == ("customer", "Mã đơn là DH-42")

    case = api.run(cases.get_case, SYSTEM, chat["case_id"])
    assert (case.channel, case.team_id, case.status) == ("chat", api.team_a, "new")
    rows = api.run(lambda: Message.select(Message.channel, Message.kind, Message.body_text)
                   .where(Message.case == case.id).order_by(Message.id))  # fmt: skip
    assert [(r["channel"], r["kind"]) for r in rows] == [("chat", "customer")] * 2
    # The console's queue lists it, with its channel
    listed = api.get(f"/api/v1/cases?team_id={api.team_a}", role="agent_a").json()
    assert [(c["id"], c["channel"]) for c in listed["items"]] == [(case.id, "chat")]


def test_an_agents_reply_reaches_the_widget_live_and_an_internal_note_never_does(
    chat_api: Api,
) -> None:
    api = chat_api
    with widget(api) as socket:
        chat = start(socket, api)
        api.run(messages.add_note, agent(api), chat["case_id"], MessageIn(body="BÍ MẬT nội bộ"))
        api.run(messages.reply, agent(api), chat["case_id"], MessageIn(body="Chào anh An!"))
        seen = []
        while True:
            message = socket.receive_json()
            seen.append(message)
            if message["type"] == "line" and message["line"]["who"] == "agent":
                break
        assert message["line"]["text"] == "Chào anh An!"
        assert message["line"]["name"] == "Agent_A"
        assert "BÍ MẬT" not in str(seen)
        # The reply opened the case (a status change, not the end); solving ends the chat
        assert next_of(socket, "status") == {"type": "status", "status": "open", "ended": False}
        api.run(_solve, chat["case_id"])
        assert next_of(socket, "status") == {"type": "status", "status": "solved", "ended": True}


async def _solve(case_id: int) -> None:
    case = await cases.get_case(SYSTEM, case_id)
    await cases.update_case(SYSTEM, case_id, CaseUpdate(version=case.version, status=Status.SOLVED))


def test_typing_shows_both_ways(chat_api: Api) -> None:
    api = chat_api
    cookie = session_cookie(api, "agent_a")
    with widget(api) as socket:
        chat = start(socket, api)
        with api.client.websocket_connect("/console/ws", headers={"cookie": cookie}) as console:
            next_of(console, "hello")
            console.send_json({"op": "subscribe", "stream": f"case:{chat['case_id']}"})
            next_of(console, "subscribed")
            # The customer types: the console shows it with the customer's name
            socket.send_json({"op": "typing", "state": "typing"})
            presence = next_of(console, "presence")
            assert (presence["name"], presence["state"]) == ("Nguyễn Văn An", "typing")
            assert presence["case_id"] == chat["case_id"]
            assert str(presence["agent_id"]).startswith("customer:")
            # The agent views (not shown to the customer), then types (shown)
            for state in ("viewing", "typing"):
                console.send_json({"op": "presence", "case_id": chat["case_id"], "state": state})
            typing = next_of(socket, "typing")
            assert typing == {"type": "typing", "name": "Agent_A", "state": "typing"}


def test_a_returning_visitor_gets_the_same_chat_until_it_is_solved(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        chat = start(socket, api)
        socket.send_json({"op": "say", "text": "Dòng thứ hai"})
        next_of(socket, "line")
    api.run(messages.reply, agent(api), chat["case_id"], MessageIn(body="Chúng tôi đang xem"))
    with widget(api) as socket:
        again = hello(socket, api, chat["token"])["chat"]
        assert again["case_id"] == chat["case_id"]
        assert [line["text"] for line in again["lines"]] == [
            START["message"], "Dòng thứ hai", "Chúng tôi đang xem"
        ]  # fmt: skip
    api.run(_solve, chat["case_id"])
    with widget(api) as socket:
        assert hello(socket, api, chat["token"])["chat"] is None
        socket.send_json({"op": "say", "text": "Còn ai không?"})
        assert next_of(socket, "error")["code"] == "chat_ended"


def test_a_page_of_another_site_is_refused_and_allowed_sites_are_not(chat_api: Api) -> None:
    api = chat_api
    with pytest.raises(WebSocketDisconnect) as refused, widget(api, "https://evil.example") as s:
        s.receive_json()
    assert refused.value.code == 4403
    for origin in ("https://other.example", "http://testserver.local"):
        with widget(api, origin) as socket:
            assert hello(socket, api)["texts"]


def test_with_no_agent_available_the_widget_leaves_a_web_request(chat_api: Api) -> None:
    api = chat_api
    make_available(api, "agent_b")  # available, but not in the widget's team
    with widget(api) as socket:
        greeting = hello(socket, api, lang="en-US")
        assert greeting["available"] is False
        assert greeting["texts"]["send_request"] == "Send request"
        socket.send_json({**START, "op": "request"})
        receipt = next_of(socket, "request_received")
    rows = api.run(lambda: Case.select(Case.id, Case.channel, Case.subject))
    assert [(f"HD-{r['id']:06d}", r["channel"]) for r in rows] == [(receipt["reference"], "web")]
    assert rows[0]["subject"] == "Message left in the website chat"


def test_the_transcript_is_queued_by_mail_on_request(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        chat = start(socket, api)
        socket.send_json({"op": "transcript"})
        assert next_of(socket, "error")["code"] == "no_mailbox"
        api.run(mailboxes.create_mailbox, SYSTEM, MailboxIn(
            name="Hỗ trợ", address="hotro@support.test", imap_host="imap.invalid",
            imap_user="hotro", imap_password="x", smtp_host="smtp.invalid",
        ))  # fmt: skip
        api.run(messages.reply, agent(api), chat["case_id"], MessageIn(body="Đã xử lý xong"))
        next_of(socket, "line")
        # The typed address is not proven yet: the link that proves it is mailed instead
        socket.send_json({"op": "transcript"})
        next_of(socket, "verification_sent")
        confirm_link(api)  # nobody owned the address: the contact's record gets it
    with widget(api) as socket:
        assert hello(socket, api, chat["token"])["chat"]["verified"] is True
        socket.send_json({"op": "transcript"})
        next_of(socket, "transcript_queued")
    rows = api.run(lambda: OutboundMail.select().where(OutboundMail.kind == "chat_transcript"))
    assert len(rows) == 1
    mail = rows[0]
    assert mail["to_address"] == "an@khach.vn"
    assert mail["status"] == "pending"
    assert f"HD-{chat['case_id']:06d}" in mail["subject"]
    assert START["message"] in mail["body_text"]
    assert "Đã xử lý xong" in mail["body_text"]
