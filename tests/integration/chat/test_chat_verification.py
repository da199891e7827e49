"""A chat is linked to a customer only once verified (SQLite and PostgreSQL): by the
one-time, expiring link mailed to the typed address, or by an agent's merge of the
unverified contact into the customer. Until then the chat belongs to the contact."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CustomerIn
from helpdesk.services import agents, customers
from helpdesk.tables import Case, ChatContact, CustomerEmail
from tests.integration.api._portal_setup import delivered_text
from tests.integration.api.conftest import Api
from tests.integration.chat.conftest import next_of, widget
from tests.integration.chat.test_chat_socket import START, hello

STORED_NAME = "Trần Thị Chủ Thật"


def _mailbox(api: Api) -> None:
    api.run(mailboxes.create_mailbox, SYSTEM, MailboxIn(
        name="Hỗ trợ", address="hotro@support.test", imap_host="imap.invalid",
        imap_user="hotro", imap_password="x", smtp_host="smtp.invalid",
    ))  # fmt: skip


def _owner(api: Api) -> int:
    made = api.run(customers.create_customer, SYSTEM,
                   CustomerIn(name=STORED_NAME, emails=[START["email"]]))  # fmt: skip
    return int(made.id)


def _link_path(api: Api) -> str:
    """The link of the last verification mail, as it is sent (the row holds a placeholder)."""
    query = OutboundMail.select(OutboundMail.id, OutboundMail.body_text).where(
        OutboundMail.kind == "chat_verify"
    )
    rows = api.run(lambda: query.order_by(OutboundMail.id))
    assert "/chat/verify/{{token:chat:" in rows[-1]["body_text"]  # never the token itself
    found = re.search(r"https?://[^/\s]+(/chat/verify/\S+)", delivered_text(api, rows[-1]))
    assert found is not None
    return found.group(1)


def _case_customer(api: Api, case_id: int) -> int:
    row = api.run(lambda: Case.select(Case.customer).where(Case.id == case_id).first())
    return int(row["customer"])


def _start_and_ask_transcript(api: Api, socket: Any) -> dict[str, Any]:
    hello(socket, api)
    socket.send_json(START)
    chat: dict[str, Any] = next_of(socket, "started")["chat"]
    socket.send_json({"op": "transcript"})
    next_of(socket, "verification_sent")
    return chat


def test_the_mailed_link_verifies_once_and_links_the_chat_to_the_addresss_owner(
    chat_api: Api,
) -> None:
    api = chat_api
    _mailbox(api)
    owner = _owner(api)
    with widget(api) as socket:
        chat = _start_and_ask_transcript(api, socket)
        path = _link_path(api)
        # Opening the link (a person, or a mail scanner) changes nothing
        page = api.client.get(path)
        assert page.status_code == 200
        assert 'method="post"' in page.text
        assert _case_customer(api, chat["case_id"]) != owner
        # The click verifies and links the chat to the owner of the address
        done = api.client.post(path)
        assert done.status_code == 200
        assert chat["reference"] in done.text
        assert _case_customer(api, chat["case_id"]) == owner
        # The widget reconnects and resumes; it still shows only what the visitor typed
        next_of(socket, "reload")
    with widget(api) as socket:
        again = hello(socket, api, chat["token"])["chat"]
        assert (again["case_id"], again["verified"], again["name"]) == (
            chat["case_id"], True, START["name"]
        )  # fmt: skip
        assert STORED_NAME not in str(again)
        socket.send_json({"op": "transcript"})
        next_of(socket, "transcript_queued")
    # The link works once
    assert api.client.post(path).status_code == 400
    assert api.client.get(path).status_code == 400
    tags = api.run(lambda: Case.select(Case.tags).where(Case.id == chat["case_id"])
                   .output(load_json=True).first())  # fmt: skip
    assert "chat-unverified" not in tags["tags"]
    mails = api.run(lambda: OutboundMail.select(OutboundMail.to_address, OutboundMail.body_text)
                    .where(OutboundMail.kind == "chat_transcript"))  # fmt: skip
    assert [m["to_address"] for m in mails] == [START["email"]]
    # each line's time as a Vietnamese reader writes it: 07/12/2026 19:18, no seconds, no "UTC"
    assert re.search(r"^\[\d\d/\d\d/\d{4} \d\d:\d\d\] ", mails[0]["body_text"], re.M)
    stored = api.run(lambda: ChatContact.select(ChatContact.token_hash, ChatContact.verified_at))
    assert stored[0]["token_hash"] is None
    assert stored[0]["verified_at"] is not None


def test_only_the_hash_of_the_link_is_stored_and_an_expired_link_is_refused(
    chat_api: Api,
) -> None:
    api = chat_api
    _mailbox(api)
    with widget(api) as socket:
        chat = _start_and_ask_transcript(api, socket)
    path = _link_path(api)
    token = path.rsplit("/", 1)[1]
    stored = api.run(lambda: ChatContact.select(ChatContact.token_hash).first())
    assert stored["token_hash"] != token
    assert len(stored["token_hash"]) == 64
    api.run(lambda: ChatContact.update(
        {ChatContact.token_expires_at: utcnow() - timedelta(minutes=1)}
    ).where(ChatContact.case == chat["case_id"]))  # fmt: skip
    assert api.client.get(path).status_code == 400
    assert api.client.post(path).status_code == 400
    assert api.client.post("/chat/verify/not-a-token").status_code == 400
    verified = api.run(lambda: ChatContact.select(ChatContact.verified_at).first())
    assert verified["verified_at"] is None


def test_a_link_for_an_address_nobody_owns_gives_the_contact_the_address(chat_api: Api) -> None:
    api = chat_api
    _mailbox(api)
    with widget(api) as socket:
        chat = _start_and_ask_transcript(api, socket)
    assert api.client.post(_link_path(api)).status_code == 200
    contact = _case_customer(api, chat["case_id"])
    addresses = api.run(lambda: CustomerEmail.select(CustomerEmail.customer, CustomerEmail.address))
    assert addresses == [{"customer": contact, "address": START["email"]}]


def test_an_agents_merge_links_the_chat_and_verifies_it(chat_api: Api) -> None:
    api = chat_api
    _mailbox(api)
    owner = _owner(api)
    admin = api.run(agents.principal_for_agent, api.agent_ids["admin"])
    with widget(api) as socket:
        hello(socket, api)
        socket.send_json(START)
        chat = next_of(socket, "started")["chat"]
        contact = _case_customer(api, chat["case_id"])
        # The agent checked who the visitor is, and merges the contact into the customer
        api.run(customers.merge_customers, admin, contact, owner, [contact, owner])
        next_of(socket, "reload")
    assert _case_customer(api, chat["case_id"]) == owner
    with widget(api) as socket:
        again = hello(socket, api, chat["token"])["chat"]
        assert again["verified"] is True
        assert STORED_NAME not in str(again)
        socket.send_json({"op": "say", "text": "Cảm ơn"})
        assert next_of(socket, "line")["line"]["name"] == START["name"]
        socket.send_json({"op": "transcript"})
        next_of(socket, "transcript_queued")
    mails = api.run(lambda: OutboundMail.select(OutboundMail.kind, OutboundMail.to_address))
    assert mails == [{"kind": "chat_transcript", "to_address": START["email"]}]
