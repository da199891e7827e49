"""Issue 3, item 9: customers from senders.

Matched by normalised address (any letter case, any of their addresses),
created when new, linked to an organization by the address's domain; the
sender is ``From``, never ``Reply-To``.
"""

from __future__ import annotations

from helpdesk.tables import Customer, CustomerEmail
from tests.conftest import EventLog
from tests.factories import make_customer, make_organization
from tests.integration.email._mail import add_mailbox, all_cases, build_mail, customer_of, fetch
from tests.mailservers import MailboxUser


async def test_senders_become_customers_by_normalised_address(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    org = await make_organization(domains=["acme.vn"])
    known = await make_customer(email="lan@khachquen.vn")
    await CustomerEmail.insert(CustomerEmail(customer=known.id, address="lan.work@khachquen.vn"))
    mails = [
        # From decides, not Reply-To; the domain links the organization
        build_mail(
            sender="Nguyen.Van.A@ACME.vn",
            sender_name="Nguyễn Văn A",
            to=box.address,
            headers={"Reply-To": "someone.else@elsewhere.vn"},
        ),
        # A known customer, by any of her addresses, in any letter case
        build_mail(sender="LAN@KhachQuen.VN", to=box.address),
        build_mail(sender="Lan.Work@khachquen.vn", to=box.address),
        build_mail(sender="nguyen.van.a@acme.vn", to=box.address),
    ]
    for raw in mails:
        mailbox_user.append(raw)
    await fetch(box)

    new = await customer_of("nguyen.van.a@acme.vn")
    assert new["name"] == "Nguyễn Văn A"
    assert new["organization"] == org.id
    reply_to_address = CustomerEmail.address == "someone.else@elsewhere.vn"
    assert await CustomerEmail.count().where(reply_to_address) == 0
    cases = await all_cases()
    assert [c["customer"] for c in cases] == [new["id"], known.id, known.id, new["id"]]
    assert cases[0]["organization"] == org.id
    assert await Customer.count() == 2


async def test_a_new_customer_speaks_the_language_of_the_first_mail(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    mailbox_user.append(
        build_mail(
            sender="john@example.com",
            to=box.address,
            subject="Invoice missing",
            body="Hello, my invoice for March is missing.\n",
        )
    )
    mailbox_user.append(build_mail(sender="hoa@example.vn", to=box.address))
    await fetch(box)
    assert (await customer_of("john@example.com"))["locale"] == "en"
    assert (await customer_of("hoa@example.vn"))["locale"] == "vi"
