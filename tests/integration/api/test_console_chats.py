"""The chat desk: waiting chats, taking one, several side by side, a line sent from a panel."""

from __future__ import annotations

import re

from helpdesk.channels.chat import ChatSession, ChatStart, say, start_chat
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in


def visitor_chat(api: Api, name: str, line: str) -> ChatSession:
    secret = api.app.state.settings.secret_key
    start = ChatStart(name=name, email=f"{name.split()[-1].lower()}@example.vn", message=line)
    return api.run(lambda: start_chat(secret, start, client_ip="127.0.0.1"))


def move_to_team_a(api: Api, case_id: int) -> None:
    case = api.get(f"/api/v1/cases/{case_id}").json()
    api.patch(f"/api/v1/cases/{case_id}", json={"version": case["version"], "team_id": api.team_a})


def test_an_agent_takes_waiting_chats_and_answers_them_side_by_side(api: Api) -> None:
    first = visitor_chat(api, "Nguyễn Văn Bình", "Chào shop, đơn hàng của tôi đâu rồi?")
    second = visitor_chat(api, "Lê Thị Hoa", "Cho tôi hỏi về hoá đơn VAT")
    other_team = visitor_chat(api, "Trần Minh", "Nhóm B ơi")
    for session in (first, second):
        move_to_team_a(api, session.case_id)
    case_b = api.get(f"/api/v1/cases/{other_team.case_id}").json()
    api.patch(
        f"/api/v1/cases/{other_team.case_id}",
        json={"version": case_b["version"], "team_id": api.team_b},
    )
    token = console_sign_in(api, "agent_a")

    page = api.client.get("/console/chats")
    assert page.status_code == 200
    waiting = re.findall(r'action="/console/chats/(\d+)/take"', page.text)
    assert sorted(int(i) for i in waiting) == sorted([first.case_id, second.case_id])

    for session in (first, second):
        taken = api.client.post(
            f"/console/chats/{session.case_id}/take",
            data={"_csrf": token, "open": str(first.case_id)},
            follow_redirects=False,
        )
        assert taken.status_code == 303
    assert taken.headers["location"] == f"/console/chats?open={first.case_id},{second.case_id}"

    desk = api.client.get(taken.headers["location"])
    panels = [int(i) for i in re.findall(r'data-chat-panel="(\d+)"', desk.text)]
    assert panels == [first.case_id, second.case_id]
    assert "Chào shop, đơn hàng của tôi đâu rồi?" in desk.text
    assert f"case:{first.case_id}" in desk.text
    assert f"case:{second.case_id}" in desk.text

    sent = api.client.post(
        f"/console/chats/{first.case_id}/say",
        data={"_csrf": token, "text": "Dạ, đơn của anh đang được giao ạ."},
    )
    assert sent.status_code == 200
    assert 'class="bubble bubble-agent"' in sent.text
    assert "Dạ, đơn của anh đang được giao ạ." in sent.text
    api.run(lambda: say(first, "Cảm ơn shop!"))
    thread = api.client.get(f"/console/chats/{first.case_id}/thread").text
    lines = re.findall(r'class="bubble bubble-(\w+)"', thread)
    assert lines == ["customer", "agent", "customer"]
    messages = api.get(f"/api/v1/cases/{first.case_id}/messages").json()
    reply = next(m for m in messages if m["kind"] == "reply")
    assert reply["body_text"] == "Dạ, đơn của anh đang được giao ạ."  # plain, unsigned

    # a chat of another team is neither listed nor readable
    assert api.client.get(f"/console/chats/{other_team.case_id}/thread").status_code == 404
    hidden = api.client.get(f"/console/chats?open={other_team.case_id}")
    assert f'data-chat-panel="{other_team.case_id}"' not in hidden.text
    empty = api.client.post(
        f"/console/chats/{first.case_id}/say", data={"_csrf": token, "text": " "}
    )
    assert empty.status_code == 422
