"""Notifications of staff: each kind reaches the right agents once (never the actor,
never an agent who may not see the case), as each agent chose; the console's list,
count, marking read and settings; a notification pushed live on the agent's socket.

Real parts: the app on each engine, its event reactors, the SLA engine firing a
deadline, the console's forms and websocket."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.domain import Channel
from helpdesk.notifications.mail import queue_notification_mail
from helpdesk.notifications.tables import Notification
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AgentUpdate, AssignIn, CaseCreate, MessageIn, TeamUpdate
from helpdesk.services import agents, cases, messages, teams
from helpdesk.sla.timers import fire_timer
from helpdesk.tables import Job
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_live import connect, next_of, session_cookie
from tests.integration.api.test_console_permissions import console_sign_in
from tests.integration.sla._support import as_utc, make_policy, timers_of


def principal(api: Api, role: str) -> Principal:
    return api.run(agents.principal_for_agent, api.agent_ids[role])


async def _rows() -> list[dict[str, Any]]:
    query = Notification.select(
        Notification.agent, Notification.kind, Notification.case, Notification.actor
    )
    return list(await query.order_by(Notification.id))


def rows(api: Api) -> list[tuple[int, str, int | None, int | None]]:
    return [(r["agent"], r["kind"], r["case"], r["actor"]) for r in api.run(_rows)]


def new_rows(api: Api, before: int) -> list[tuple[int, str, int | None, int | None]]:
    return rows(api)[before:]


def test_each_kind_reaches_the_right_agents_once(api: Api) -> None:
    a, b, manager, admin = (api.agent_ids[r] for r in ("agent_a", "agent_b", "manager", "admin"))
    default_team = TeamUpdate(member_ids=[a, manager], is_default=True)
    api.run(teams.update_team, SYSTEM, api.team_a, default_team)
    api.run(make_policy)
    case = api.make_case(api.team_a)
    assert rows(api) == []  # a new case's first message is no reply

    # assigned: the assignee, named with who did it; taking a case oneself tells nobody
    api.run(cases.assign_case, principal(api, "manager"), case.id, AssignIn(assignee_id=a))
    assert rows(api) == [(a, "assigned", case.id, manager)]
    own = api.make_case(api.team_a)
    api.run(cases.assign_case, principal(api, "agent_a"), own.id, AssignIn(assignee_id=a))
    assert len(rows(api)) == 1

    # the customer replies: the assignee; unassigned (not a chat): nobody
    api.run(messages.add_customer_message, SYSTEM, case.id, MessageIn(body="Vẫn lỗi ạ"))
    other = api.make_case(api.team_a)
    api.run(messages.add_customer_message, SYSTEM, other.id, MessageIn(body="Có ai không?"))
    assert new_rows(api, 1) == [(a, "customer_replied", case.id, None)]

    # @mentions in a note: only who may see the case, never the author, diacritics aside
    note = "Nhờ @agent_a xem, @Agent_B và @ADMIN nữa; @manager tự ghi chú. khach@agent_a.vn"
    api.run(messages.add_note, principal(api, "manager"), case.id, MessageIn(body=note))
    mentioned = new_rows(api, 2)
    assert sorted(mentioned) == sorted(
        [(a, "mentioned", case.id, manager), (admin, "mentioned", case.id, manager)]
    )

    # a new chat: the members of its team; the customer writing again: the team too
    chat = api.run(
        cases.open_case,
        SYSTEM,
        CaseCreate(subject="Chat", body="Xin chào", customer_email="chat@khach.vn",
                   channel=Channel.CHAT, team_id=api.team_a),
    )  # fmt: skip
    team_a = sorted([a, manager])
    assert sorted(new_rows(api, 4)) == [(i, "chat_waiting", chat.id, None) for i in team_a]
    api.run(messages.add_customer_message, SYSTEM, chat.id, MessageIn(body="Alo"))
    assert sorted(new_rows(api, 6)) == [(i, "customer_replied", chat.id, None) for i in team_a]
    # a chat without a team waits in the default team's queue
    data = CaseCreate(subject="Chat 2", body="Có ai không?", customer_email="chat2@khach.vn",
                      channel=Channel.CHAT)  # fmt: skip
    lone = api.run(cases.open_case, SYSTEM, data)
    assert sorted(new_rows(api, 8)) == [(i, "chat_waiting", lone.id, None) for i in team_a]

    # SLA: the warning, then the breach, each once, to the assignee and the team's manager
    first = api.run(timers_of, case.id)["first_response"]
    warn_at, due_at = as_utc(first["warn_at"]), as_utc(first["due_at"])
    assert warn_at is not None
    assert due_at is not None
    assert api.run(fire_timer, first["id"], warn_at)
    assert api.run(fire_timer, first["id"], due_at)
    assert not api.run(fire_timer, first["id"], due_at + timedelta(hours=1))
    assert sorted(new_rows(api, 10)) == sorted(
        [(a, "sla_at_risk", case.id, None), (manager, "sla_at_risk", case.id, None),
         (a, "sla_breached", case.id, None), (manager, "sla_breached", case.id, None)]
    )  # fmt: skip
    assert all(agent != b for agent, *_ in rows(api))  # team B sees none of these cases


async def _jobs(actor: str) -> list[list[Any]]:
    query = Job.select(Job.args).where(Job.actor == actor).output(load_json=True)
    return [row["args"] for row in await query]


async def _mails() -> list[dict[str, Any]]:
    return list(await OutboundMail.select().where(OutboundMail.kind == "notification"))


def test_choices_the_list_the_count_and_marking_read(api: Api) -> None:
    a = api.agent_ids["agent_a"]
    # Given agent A chose: assignments by email only, mentions in the console
    token = console_sign_in(api, "agent_a")
    choices = {"assigned.email": "on", "mentioned.console": "on", "_csrf": token}
    saved = api.client.post("/console/notifications/settings", data=choices)
    assert saved.status_code == 200
    assert "Đã lưu cài đặt thông báo" in saved.text
    page = api.client.get("/console/notifications/settings").text
    assert re.search(r'name="assigned.email"[^>]*checked', page)
    assert not re.search(r'name="assigned.console"[^>]*checked', page)

    # When the manager assigns two cases to A and mentions A in 22 notes
    manager = principal(api, "manager")
    case = api.make_case(api.team_a)
    api.run(cases.assign_case, manager, case.id, AssignIn(assignee_id=a))
    for number in range(22):
        api.run(messages.add_note, manager, case.id, MessageIn(body=f"@agent_a lần {number}"))

    # Then the assignment is a mail job (no row), rendered in A's language with the link
    assert [r[1] for r in rows(api)] == ["mentioned"] * 22
    [args] = api.run(_jobs, "send_notification_mail")
    assert args[:3] == [a, "assigned", case.id]
    api.run(
        mailboxes.create_mailbox, SYSTEM,
        MailboxIn(name="Hỗ trợ", address="hotro@support.test", imap_host="imap.test",
                  imap_user="hotro", imap_password="x", smtp_host="smtp.test"),
    )  # fmt: skip
    # (A speaks English first: the mail is in English; the console stays as chosen)
    api.run(agents.update_agent, SYSTEM, a, AgentUpdate(languages=["en", "vi"]))
    assert api.run(queue_notification_mail, *args) is not None
    assert api.run(queue_notification_mail, *args) is None  # once per agent and event
    [mail] = api.run(_mails)
    assert mail["to_address"] == "agent_a@support.test"
    assert mail["subject"] == (
        f"[{case.reference}] Manager assigned {case.reference} to you: Không đăng nhập được"
    )
    assert mail["body_text"].startswith("Hello Agent_A,")
    assert f"/console/cases/{case.id}" in mail["body_text"]

    # and the bell, the count and the list (newest first, 20 a page) agree
    home = api.client.get("/console/")
    assert re.search(r"data-unread>22<", home.text)
    assert api.client.get("/console/notifications/count").json()["unread"] == 22
    first = api.client.get("/console/notifications")
    assert first.text.count("data-notification=") == 20
    assert "lần 21" in first.text
    assert "lần 1<" not in first.text
    assert "Manager đã nhắc đến bạn trong ghi chú nội bộ" in first.text
    second = api.client.get("/console/notifications?page=2")
    assert second.text.count("data-notification=") == 2
    assert api.client.get("/console/notifications?page=x%00").status_code == 200

    # opening one marks it read and leads to the case; another agent cannot open it
    ids = [int(i) for i in re.findall(r'data-notification="(\d+)"', first.text)]
    opened = api.client.get(f"/console/notifications/{ids[0]}/open", follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, f"/console/cases/{case.id}")
    assert api.client.get("/console/notifications/count").json()["unread"] == 21
    console_sign_in(api, "agent_b")
    assert api.client.get(f"/console/notifications/{ids[1]}/open").status_code == 404
    assert api.client.get("/console/notifications/count").json() == {"unread": 0, "latest": None}

    # marking all read empties the count
    token = console_sign_in(api, "agent_a")
    done = api.client.post("/console/notifications/read-all", data={"_csrf": token})
    assert done.status_code == 200
    assert api.client.get("/console/notifications/count").json()["unread"] == 0


def test_a_notification_is_pushed_on_the_agents_own_socket(api: Api) -> None:
    a = api.agent_ids["agent_a"]
    case = api.make_case(api.team_a)
    cookie = session_cookie(api, "agent_a")
    with connect(api, cookie) as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_json({"op": "subscribe", "stream": f"agent:{a}", "after": None})
        next_of(socket, "subscribed")
        api.run(cases.assign_case, principal(api, "manager"), case.id, AssignIn(assignee_id=a))
        event = next_of(socket, "event")
        assert (event["stream"], event["event"]) == (f"agent:{a}", "agent.notification")
        assert event["payload"]["kind"] == "assigned"
        assert event["payload"]["case_id"] == case.id
        assert "subject" not in event["payload"]  # texts are read back through the policy
    # Another agent may not follow A's stream
    with connect(api, session_cookie(api, "agent_b")) as socket:
        socket.send_json({"op": "subscribe", "stream": f"agent:{a}", "after": 0})
        assert next_of(socket, "error")["code"] == "permission_denied"
