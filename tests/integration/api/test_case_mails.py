"""Issue 11, item 5: the delivery state of a case's mails in the API and on the console's
case page, for those who may see the case only, at a fixed number of queries.

The rows are put in each state directly: how they get there over SMTP is tested in
``tests/integration/email/test_delivery.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.channels.email.outbound import queue_case_acknowledgement, queue_reply
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.i18n import format_when
from helpdesk.policy import SYSTEM
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

ACCEPTED = "250 2.0.0 Ok: queued as 4XyZ7Q"
REFUSED = "550 5.1.1 <lan@example.vn>: Recipient address rejected"
GREYLISTED = "451 4.7.1 Greylisted, try again later"


async def _mailbox() -> None:
    await create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ", address="support@helpdesk.test", imap_host="127.0.0.1",
            imap_user="u", imap_password="p", smtp_host="127.0.0.1", smtp_security="plain",
        ),
    )  # fmt: skip


async def _set(outbound_id: int, values: dict[Any, Any]) -> None:
    await OutboundMail.update(values).where(OutboundMail.id == outbound_id)


def _reply(api: Api, case_id: int, body: str) -> tuple[int, int]:
    """An agent's reply and its queued mail: (message id, outbound id)."""
    response = api.post(f"/api/v1/cases/{case_id}/messages", role="agent_a", json={"body": body})
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]
    outbound_id = api.run(queue_reply, message_id)
    assert outbound_id is not None
    return message_id, outbound_id


def _case_with_mails(api: Api) -> dict[str, int]:
    """A case of team A with a sent, a retrying and a queued reply, and a failed
    acknowledgement; the ids by name."""
    api.run(_mailbox)
    case = api.make_case(api.team_a, customer_email="lan@example.vn")
    ids = {"case": case.id}
    now = utcnow()
    ids["sent_msg"], ids["sent"] = _reply(api, case.id, "Đã gửi hoá đơn.")
    api.run(_set, ids["sent"], {OutboundMail.status: "sent", OutboundMail.attempts: 2,
            OutboundMail.sent_at: now, OutboundMail.server_reply: ACCEPTED,
            OutboundMail.unknown_outcomes: 1})  # fmt: skip
    ids["retrying_msg"], ids["retrying"] = _reply(api, case.id, "Chị kiểm tra giúp em.")
    api.run(_set, ids["retrying"], {OutboundMail.attempts: 1, OutboundMail.last_error: GREYLISTED,
            OutboundMail.next_attempt_at: now + timedelta(minutes=5)})  # fmt: skip
    ids["queued_msg"], ids["queued"] = _reply(api, case.id, "Cảm ơn chị.")
    ack = api.run(queue_case_acknowledgement, case.id, "lan@example.vn")
    assert ack is not None
    ids["ack"] = ack
    api.run(_set, ack, {OutboundMail.status: "failed", OutboundMail.attempts: 1,
            OutboundMail.failed_at: now, OutboundMail.last_error: REFUSED})  # fmt: skip
    return ids


def test_the_api_lists_the_mails_of_a_case_with_their_delivery_state(api: Api) -> None:
    ids = _case_with_mails(api)
    response = api.get(f"/api/v1/cases/{ids['case']}/mails", role="agent_a")
    assert response.status_code == 200, response.text
    mails = {mail["id"]: mail for mail in response.json()}
    assert [m["id"] for m in response.json()] == sorted(mails)  # oldest first
    sent, retrying, queued, ack = (mails[ids[k]] for k in ("sent", "retrying", "queued", "ack"))
    assert (sent["state"], sent["server_reply"], sent["attempts"]) == ("sent", ACCEPTED, 2)
    assert (sent["case_message_id"], sent["unknown_outcomes"]) == (ids["sent_msg"], 1)
    assert sent["sent_at"] is not None
    assert sent["internet_message_id"].startswith("<hd.reply.")
    assert (retrying["state"], retrying["last_error"]) == ("retrying", GREYLISTED)
    assert retrying["next_attempt_at"] is not None
    assert (queued["state"], queued["attempts"], queued["next_attempt_at"]) == ("queued", 0, None)
    assert (ack["state"], ack["kind"], ack["last_error"]) == ("failed", "acknowledgement", REFUSED)
    assert ack["case_message_id"] is None
    assert ack["failed_at"] is not None
    assert {m["to_address"] for m in mails.values()} == {"lan@example.vn"}


def test_the_mails_are_refused_as_the_case_is(api: Api) -> None:
    ids = _case_with_mails(api)
    url = f"/api/v1/cases/{ids['case']}/mails"
    statuses = {role: api.get(url, role=role).status_code for role in api.tokens}
    assert statuses == {"agent_a": 200, "agent_b": 404, "manager": 200, "admin": 200}
    assert api.get(url, role="anonymous").status_code == 401
    assert api.get(f"/api/v1/cases/{ids['case']}", role="agent_b").status_code == 404
    assert api.get("/api/v1/cases/999999/mails", role="admin").status_code == 404


def _article(page: str, message_id: int) -> str:
    match = re.search(
        rf'<article class="msg[^"]*" id="message-{message_id}".*?</article>', page, re.S
    )
    assert match, f"message {message_id} not on the page"
    return match.group(0)


def test_the_case_page_shows_a_badge_per_reply_and_the_automatic_mails(api: Api) -> None:
    ids = _case_with_mails(api)
    console_sign_in(api, "agent_a")
    page = api.client.get(f"/console/cases/{ids['case']}")
    assert page.status_code == 200
    text = page.text
    # each reply carries its badge, and its details (time, server's answer) on hover and open
    sent = _article(text, ids["sent_msg"])
    assert 'data-mail-state="sent"' in sent
    assert "Email đã gửi" in sent
    assert ACCEPTED in sent
    when_sent = format_when(api.run(_sent_at, ids["sent"]), "vi", "Asia/Ho_Chi_Minh")
    assert f'title="Đã gửi {when_sent} · {ACCEPTED}"' in sent
    assert "Đã gửi lại sau 1 lần gửi không rõ kết quả" in sent
    retrying = _article(text, ids["retrying_msg"])
    assert 'data-mail-state="retrying"' in retrying
    assert "Email đang được gửi lại" in retrying
    assert GREYLISTED in retrying
    assert 'data-mail-state="queued"' in _article(text, ids["queued_msg"])
    # the customer's first message went by no mail of ours: no badge
    assert text.count('class="mail-state') == 4
    # the acknowledgement is listed with the automatic mails, failed with the server's answer
    automatic = text[text.index('class="auto-mails"') :]
    assert "Email tự động" in automatic
    assert "Thư xác nhận tiếp nhận" in automatic
    assert 'data-mail-state="failed"' in automatic
    assert REFUSED.replace("<", "&lt;").replace(">", "&gt;") in automatic
    # in English too
    english = api.client.get(f"/console/cases/{ids['case']}", params={"lang": "en"}).text
    assert "Email sent" in english
    assert "Automatic emails" in english


async def _sent_at(outbound_id: int) -> Any:
    row = await OutboundMail.select(OutboundMail.sent_at).where(OutboundMail.id == outbound_id)
    return row[0]["sent_at"]


def test_the_case_page_is_refused_to_an_agent_who_may_not_see_the_case(api: Api) -> None:
    ids = _case_with_mails(api)
    console_sign_in(api, "agent_b")
    page = api.client.get(f"/console/cases/{ids['case']}")
    assert page.status_code == 404
    assert ACCEPTED not in page.text


def test_the_case_page_costs_the_same_queries_however_many_mails(api: Api) -> None:
    api.run(_mailbox)
    console_sign_in(api, "agent_a")

    def cost(replies: int) -> int:
        case = api.make_case(api.team_a, customer_email="hoa@example.vn")
        for n in range(replies):
            _reply(api, case.id, f"Trả lời {n}")
        url = f"/console/cases/{case.id}"
        assert api.client.get(url).status_code == 200  # warm caches
        with api.count_queries() as queries:
            page = api.client.get(url)
        assert page.text.count('class="mail-state') == replies
        return len(queries)

    assert cost(1) == cost(6)
