"""The chat widget is no identity oracle (SQLite and PostgreSQL).

A visitor who types a customer's address into the widget learns nothing of
that customer (no stored name, no customer id, no history), and the chat is
not filed under them: it belongs to an unverified contact of its own, shown
as such in the console, until the address is proven or an agent merges it.
Nothing is mailed to the typed address but the verification link.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.errors import NotFoundError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseCreate, CustomerIn, OrganizationIn
from helpdesk.services import agents, cases, customers, organizations
from helpdesk.services.customers import principal_for_customer
from helpdesk.tables import Case, ChatContact, CustomerEmail
from tests.integration.api.conftest import Api
from tests.integration.chat.conftest import chat_api, next_of, server_errors, widget
from tests.integration.chat.test_chat_socket import START, hello

__all__ = ["chat_api", "server_errors"]  # fixtures, imported to be found here

STORED_NAME = "Trần Thị Bí Mật"
PAST_SUBJECT = "Hợp đồng riêng tư số 77"


class Victim:
    """The customer who owns the address a visitor types."""

    def __init__(self, customer_id: int, organization_id: int, case_id: int) -> None:
        self.customer_id = customer_id
        self.organization_id = organization_id
        self.case_id = case_id


async def _victim() -> Victim:
    org = await organizations.create_organization(
        SYSTEM, OrganizationIn(name="Công ty Khách", domains=["khach.vn"], shared_visibility=True)
    )
    customer = await customers.create_customer(
        SYSTEM, CustomerIn(name=STORED_NAME, emails=[START["email"]], organization_id=org.id)
    )
    past = await cases.open_case(
        SYSTEM, CaseCreate(subject=PAST_SUBJECT, body="Chi tiết", customer_id=customer.id)
    )
    return Victim(customer.id, org.id, past.id)


def victim(api: Api) -> Victim:
    """A customer owning ``START``'s address, in an organization of its domain, with a case."""
    made: Victim = api.run(_victim)
    return made


def _frames_say_nothing_of(frame: dict[str, Any], who: Victim) -> None:
    text = json.dumps(frame, ensure_ascii=False)
    assert STORED_NAME not in text
    assert PAST_SUBJECT not in text
    assert "customer_id" not in text
    assert "customer_name" not in text
    assert "organization" not in text
    assert f'"case_id": {who.case_id},' not in text


def test_a_customers_address_typed_in_the_widget_reveals_nothing_and_files_nothing_under_them(
    chat_api: Api,
) -> None:
    api = chat_api
    owner = victim(api)
    with widget(api) as socket:
        hello(socket, api)
        socket.send_json(START)
        started = next_of(socket, "started")
        chat = started["chat"]
        socket.send_json({"op": "say", "text": "Cho tôi xem các yêu cầu cũ"})
        line = next_of(socket, "line")
    # The widget is told what the visitor typed, and the chat's own token and number
    _frames_say_nothing_of(started, owner)
    _frames_say_nothing_of(line, owner)
    assert set(chat) == {"token", "case_id", "reference", "name", "status", "verified", "lines"}
    assert (chat["name"], chat["verified"]) == (START["name"], False)
    assert {line["name"] for line in chat["lines"]} == {START["name"]}
    assert line["line"]["name"] == START["name"]
    # A returning visitor is told the same, and no more
    with widget(api) as socket:
        again = hello(socket, api, chat["token"])
    _frames_say_nothing_of(again, owner)
    assert again["chat"]["case_id"] == chat["case_id"]

    # The chat is filed under a contact of its own: no organization, no address
    row = api.run(
        lambda: Case.select().where(Case.id == chat["case_id"]).output(load_json=True).first()
    )
    assert row["customer"] != owner.customer_id
    assert row["organization"] is None
    assert "chat-unverified" in row["tags"]  # the console shows the contact is unverified
    contact = api.run(lambda: ChatContact.select().where(ChatContact.case == chat["case_id"]))
    assert [(c["customer"], c["name"], c["address"], c["verified_at"]) for c in contact] == [
        (row["customer"], START["name"], START["email"], None)
    ]
    addresses = api.run(lambda: CustomerEmail.select(CustomerEmail.customer, CustomerEmail.address))
    assert addresses == [{"customer": owner.customer_id, "address": START["email"]}]
    # The owner's record, history and portal do not show it
    view = api.run(customers.customer_360, SYSTEM, owner.customer_id)
    assert [case.id for case in view.cases] == [owner.case_id]
    assert [case.id for case in view.organization_cases] == []
    as_owner = api.run(principal_for_customer, owner.customer_id)
    with pytest.raises(NotFoundError):
        api.run(cases.get_case, as_owner, chat["case_id"])
    # The contact's record is found in the directory by the typed address, as unverified
    admin = _admin(api)
    found = api.run(lambda: customers.list_customers(admin, text=START["email"]))
    by_id = {c.id: c for c in found}
    assert sorted(by_id) == sorted([owner.customer_id, row["customer"]])
    assert by_id[row["customer"]].emails == []  # the typed address is not the contact's


def _admin(api: Api) -> Any:
    return api.run(agents.principal_for_agent, api.agent_ids["admin"])


def test_no_transcript_goes_to_a_typed_address_before_it_is_verified(chat_api: Api) -> None:
    api = chat_api
    owner = victim(api)
    api.run(mailboxes.create_mailbox, SYSTEM, MailboxIn(
        name="Hỗ trợ", address="hotro@support.test", imap_host="imap.invalid",
        imap_user="hotro", imap_password="x", smtp_host="smtp.invalid",
    ))  # fmt: skip
    with widget(api) as socket:
        hello(socket, api, lang="en")
        socket.send_json(START)
        next_of(socket, "started")
        socket.send_json({"op": "transcript"})
        answer = next_of(socket, "verification_sent")
        assert answer == {"type": "verification_sent"}
    mails = api.run(lambda: OutboundMail.select(
        OutboundMail.kind, OutboundMail.to_address, OutboundMail.subject, OutboundMail.body_text
    ))  # fmt: skip
    # Only the verification link, to the typed address; none of the owner's data in it
    assert [(m["kind"], m["to_address"]) for m in mails] == [("chat_verify", START["email"])]
    assert "/chat/verify/" in mails[0]["body_text"]
    assert STORED_NAME not in mails[0]["body_text"] + mails[0]["subject"]
    assert PAST_SUBJECT not in mails[0]["body_text"]
    assert owner.customer_id  # the owner exists, and was not involved


def test_the_widget_texts_explain_the_verification_in_both_languages(chat_api: Api) -> None:
    api = chat_api
    with widget(api) as socket:
        vi = hello(socket, api, lang="vi")["texts"]["verification_sent"]
        en = hello(socket, api, lang="en")["texts"]["verification_sent"]
    assert en.startswith("We send transcripts only to a confirmed email address")
    assert "Quý khách" in vi
