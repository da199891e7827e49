"""Issue 3, item 4: which case a mail belongs to.

Replies join by In-Reply-To/References against every Message-ID we stored or
sent, a ``[#HD-…]`` subject reference counts only for participants, the order
in which mails arrive does not matter, and forwarded mails and mails to
several of our addresses end where a person would expect.
"""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from helpdesk.channels.email.outbound import pending_outbound_ids, queue_reply, send_outbound
from helpdesk.channels.email.tables import ThreadKey
from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.tables import Case, CustomerEmail, Message
from tests.conftest import EventLog
from tests.factories import make_agent, make_customer
from tests.integration.email._mail import (
    add_mailbox,
    all_cases,
    build_mail,
    case_messages,
    customer_of,
    external_ids_by_case,
    fetch,
    ledger,
    new_address,
    new_id,
    outbound_rows,
    reply_to,
)
from tests.mailservers import Dovecot, MailboxUser, SmtpSink

ORDERS = [
    (0, 1, 2, 3),
    (3, 2, 1, 0),
    *random.Random(20240312).sample(list(itertools.permutations(range(4)))[1:-1], 6),
]


async def test_replies_join_by_every_message_id_we_stored_or_sent(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given a case opened by mail, acknowledged, and answered by an agent
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    customer = new_address()
    root = new_id()
    mailbox_user.append(build_mail(sender=customer, to=box.address, message_id=root))
    [opened] = await fetch(box)
    case_id = opened.case_id
    assert case_id is not None
    agent_reply = await messages.reply(await make_agent(), case_id, MessageIn(body="Đã nhận."))
    await queue_reply(agent_reply.id)
    for outbound_id in await pending_outbound_ids():
        await send_outbound(outbound_id)
    ack_id, reply_id = [r["message_id"] for r in await outbound_rows()]
    # When the customer and a colleague answer in the ways mail clients do
    colleague = new_address("dong.nghiep")
    answers = [
        build_mail(sender=customer, to=box.address, in_reply_to=reply_id, references=[root]),
        build_mail(sender=customer, to=box.address, references=[root]),  # References only
        build_mail(sender=customer, to=box.address, in_reply_to=ack_id),  # to the ack
        build_mail(sender=colleague, to=box.address, in_reply_to=root, subject="Re: thêm"),
    ]
    for raw in answers:
        mailbox_user.append(raw)
    results = await fetch(box)
    # Then every answer is in the case, and no case or acknowledgement is added
    assert [(r.outcome, r.case_id, r.new_case) for r in results] == [
        ("message", case_id, False)
    ] * 4
    assert await Case.count() == 1
    assert len(await outbound_rows()) == 2
    authors = [
        m["author_customer"] for m in await case_messages(case_id) if m["kind"] == "customer"
    ]
    owner, helper = (await customer_of(customer))["id"], (await customer_of(colleague))["id"]
    assert authors == [owner, owner, owner, owner, helper]


async def test_subject_reference_counts_only_for_participants(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    known = await make_customer(email="chi.mai@congty.vn")
    await CustomerEmail.insert(CustomerEmail(customer=known.id, address="mai.nha@gmail.com"))
    mailbox_user.append(build_mail(sender="chi.mai@congty.vn", to=box.address))
    [opened] = await fetch(box)
    case_id = opened.case_id
    reference = f"[#HD-{case_id:06d}]"
    # A mail with no threading headers, only the case number in the subject
    for sender in ("chi.mai@congty.vn", "Mai.Nha@Gmail.com", "ke.la@example.vn"):
        mailbox_user.append(
            build_mail(sender=sender, to=box.address, subject=f"Re: Bổ sung {reference}")
        )
    results = await fetch(box)
    # joins for the customer (any of her addresses); a stranger gets a new case
    assert [r.case_id == case_id for r in results] == [True, True, False]
    assert results[2].new_case
    assert await Case.count() == 2


async def test_replies_arriving_before_their_parents_end_in_one_case(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    # Orders in which a thread of four mails can arrive: in order, reversed and shuffled
    for order in ORDERS:
        customer = new_address()
        root = new_id("root")
        thread = [(root, build_mail(sender=customer, to=box.address, message_id=root))]
        refs: list[str] = []
        for _ in range(3):
            parent = thread[-1][0]
            thread.append(reply_to(parent, refs, sender=customer, to=box.address, subject="Re: x"))
            refs = [*refs, parent]
        for index in order:
            mailbox_user.append(thread[index][1])
        await fetch(box)
        by_case = await external_ids_by_case()
        homes = [case for case, ids in by_case.items() if root in ids]
        assert len(homes) == 1, order
        assert by_case[homes[0]] == {mid for mid, _ in thread}, order
    assert await Case.count() == len(ORDERS)

    # A child that names its parent in In-Reply-To only, before the parent
    parent_id, child_id = new_id(), new_id()
    sender = new_address()
    mailbox_user.append(
        build_mail(sender=sender, to=box.address, message_id=child_id, in_reply_to=parent_id)
    )
    mailbox_user.append(build_mail(sender=sender, to=box.address, message_id=parent_id))
    child, parent = await fetch(box)
    assert child.case_id == parent.case_id


def in_reply_to_chain(levels: int, sender: str, to: str) -> list[tuple[str, bytes]]:
    """A thread of ``levels`` mails, each naming its parent in In-Reply-To only."""
    ids = [new_id(f"level{n}") for n in range(levels)]
    return [
        (mid, build_mail(sender=sender, to=to, message_id=mid, subject="Re: x" if n else "x",
                         in_reply_to=ids[n - 1] if n else None))
        for n, mid in enumerate(ids)
    ]  # fmt: skip


@pytest.mark.parametrize("levels", [3, 4])
async def test_in_reply_to_only_threads_join_in_any_order(
    db: EventLog, mailbox_user: MailboxUser, levels: int
) -> None:
    box = await add_mailbox(mailbox_user)
    orders = list(itertools.permutations(range(levels)))
    for order in orders:
        # Given a thread whose replies name only their parent, arriving in this order
        chain = in_reply_to_chain(levels, new_address(), box.address)
        for index in order:
            mailbox_user.append(chain[index][1])
        # When they are fetched
        results = await fetch(box)
        # Then they end in one open case (the oldest), whichever split there was
        by_case = await external_ids_by_case()
        homes = [case for case, ids in by_case.items() if chain[0][0] in ids]
        assert len(homes) == 1, order
        assert by_case[homes[0]] == {mid for mid, _ in chain}, order
        opened = {r.case_id for r in results if r.new_case}
        assert homes[0] == min(opened), order
        merged = await Case.select().where(Case.id.is_in([0, *sorted(opened - {homes[0]})]))
        assert all(c["merged_into"] == homes[0] for c in merged), order
        assert all(c["status"] == Status.CLOSED for c in merged), order
        # and the merged cases' thread keys now belong to it
        keys = await ThreadKey.select(ThreadKey.case, ThreadKey.key).where(
            ThreadKey.key.is_in([mid for mid, _ in chain])
        )
        assert {k["case"] for k in keys} == {homes[0]}, order
        assert {k["key"] for k in keys} == {mid for mid, _ in chain}, order
    assert await Case.count().where(Case.status != Status.CLOSED) == len(orders)


async def test_grandchild_root_child_are_joined_and_answered_in_one_thread(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given a grandchild that arrives first, then the root, then the child linking both
    box = await add_mailbox(mailbox_user, smtp_sink)
    (root, root_raw), (child, child_raw), (grandchild, grandchild_raw) = in_reply_to_chain(
        3, new_address(), box.address
    )
    for raw in (grandchild_raw, root_raw, child_raw):
        mailbox_user.append(raw)
    first, second, third = await fetch(box)
    # Then the child joins the grandchild's case, and the root's case is merged into it
    assert (first.new_case, second.new_case, third.new_case) == (True, True, False)
    assert third.case_id == first.case_id
    assert first.case_id is not None
    history = await case_messages(first.case_id)
    assert [m["external_id"] for m in history if m["kind"] == "customer"] == [
        grandchild, root, child
    ]  # fmt: skip
    assert [m["meta"].get("merged_from") for m in history if m["kind"] == "note"] == [
        second.case_id
    ]
    # and an agent's reply references the whole thread
    reply = await messages.reply(await make_agent(), first.case_id, MessageIn(body="Đã xử lý."))
    await queue_reply(reply.id)
    for outbound_id in await pending_outbound_ids():
        await send_outbound(outbound_id)
    [sent] = smtp_sink.messages
    assert {root, child, grandchild} <= set(str(sent.parsed()["References"]).split())


async def test_a_stranger_cannot_merge_other_customers_cases(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    first_id, second_id = new_id(), new_id()
    mailbox_user.append(build_mail(sender=new_address(), to=box.address, message_id=first_id))
    mailbox_user.append(build_mail(sender=new_address(), to=box.address, message_id=second_id))
    first, second = await fetch(box)
    # A mail naming both customers' Message-IDs joins one case, and merges nothing
    mailbox_user.append(
        build_mail(sender=new_address("la"), to=box.address, in_reply_to=second_id,
                   references=[first_id])
    )  # fmt: skip
    [joined] = await fetch(box)
    assert joined.case_id == first.case_id
    assert await Case.count().where(Case.status != Status.CLOSED) == 2
    assert (await external_ids_by_case())[second.case_id or 0] == {second_id}


async def test_forwarded_mail_is_a_new_case_of_the_forwarder(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    customer = new_address()
    mailbox_user.append(build_mail(sender=customer, to=box.address))
    [opened] = await fetch(box)
    forwarded_body = (
        "Nhờ bên hỗ trợ xem giúp.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Nhà cung cấp <ncc@supplier.vn>\n"
        "Subject: Báo giá\n\n"
        "Giá mới áp dụng từ tháng 4.\n"
    )
    # The customer forwards someone else's mail: a new case, hers
    mailbox_user.append(
        build_mail(sender=customer, to=box.address, subject="Fwd: Báo giá", body=forwarded_body)
    )
    # A stranger forwards a mail of her case (case number in the subject): not hers
    mailbox_user.append(
        build_mail(
            sender=new_address("la"),
            to=box.address,
            subject=f"Fwd: Re: Cần hỗ trợ [#HD-{opened.case_id:06d}]",
            body=forwarded_body,
        )
    )
    mine, stranger = await fetch(box)
    assert mine.new_case
    assert stranger.new_case
    assert len({opened.case_id, mine.case_id, stranger.case_id}) == 3
    first = await case_messages(mine.case_id or 0)
    assert first[0]["meta"]["forwarded"] is True
    assert first[0]["author_customer"] == (await customer_of(customer))["id"]
    assert await CustomerEmail.count().where(CustomerEmail.address == "ncc@supplier.vn") == 0


async def test_mail_to_two_of_our_addresses_is_one_message(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given mails sent to support with sales in copy: a copy lands in each mailbox
    sales_user = dovecot.new_user()
    support = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    sales = await add_mailbox(sales_user, smtp_sink, auto_acknowledge=True)
    ids = [new_id() for _ in range(6)]
    for mid in ids:
        raw = build_mail(
            sender=new_address(), to=support.address, cc=[sales.address], message_id=mid
        )
        mailbox_user.append(b"Delivered-To: " + support.address.encode() + b"\r\n" + raw)
        sales_user.append(b"Delivered-To: " + sales.address.encode() + b"\r\n" + raw)
    # When both mailboxes are ingested at the same time
    from_sales, from_support = await asyncio.gather(fetch(sales), fetch(support))
    # Then each mail is one message in one case, acknowledged once
    for mid, one, other in zip(ids, from_sales, from_support, strict=True):
        assert sorted([one.outcome, other.outcome]) == ["duplicate", "message"], mid
        assert one.case_id == other.case_id
    assert await Message.count() == len(ids)
    assert len(await ledger()) == 2 * len(ids)
    acks = [r["case"] for r in await outbound_rows()]
    assert sorted(acks) == sorted({r.case_id for r in from_sales})


async def test_reply_to_a_closed_or_merged_case(db: EventLog, mailbox_user: MailboxUser) -> None:
    box = await add_mailbox(mailbox_user)
    customer = new_address()
    ids = [new_id(), new_id(), new_id()]
    for mid in ids:
        mailbox_user.append(build_mail(sender=customer, to=box.address, message_id=mid))
    closed, source, target = await fetch(box)
    assert closed.case_id is not None
    assert source.case_id is not None
    assert target.case_id is not None
    await cases.update_case(SYSTEM, closed.case_id, CaseUpdate(version=1, status=Status.CLOSED))
    await cases.merge_cases(SYSTEM, source.case_id, target.case_id)
    mailbox_user.append(build_mail(sender=customer, to=box.address, in_reply_to=ids[0]))
    mailbox_user.append(build_mail(sender=customer, to=box.address, in_reply_to=ids[1]))
    follow_up, merged = await fetch(box)
    # A reply to a closed case opens a follow-up that points back to it
    assert follow_up.new_case
    assert follow_up.case_id not in (closed.case_id, source.case_id, target.case_id)
    history = await case_messages(follow_up.case_id or 0)
    assert history[0]["meta"]["follow_up_of"] == closed.case_id
    assert history[-1]["kind"] == "note"
    assert f"HD-{closed.case_id:06d}" in history[-1]["body_text"]
    # and a reply to a merged case goes to the case it was merged into
    assert merged.case_id == target.case_id
    # Further replies in the old thread go to the follow-up, not to new follow-ups
    mailbox_user.append(build_mail(sender=customer, to=box.address, references=[ids[0]]))
    [again] = await fetch(box)
    assert (again.case_id, again.new_case) == (follow_up.case_id, False)
    assert len(await all_cases()) == 4
