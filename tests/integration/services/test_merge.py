"""Merging cases and merging customers."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.domain import MessageKind, Role, Status
from helpdesk.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import audit, cases, customers, messages
from helpdesk.services.customers import find_or_create_by_email
from helpdesk.tables import Customer, Message
from tests.factories import customer_principal, make_agent, make_case, make_customer, make_team
from tests.integration.services.helpers import case_tags


async def test_merge_moves_messages_unions_tags_and_closes_the_source(db):
    # Given two cases of one customer, each with messages and tags
    source = await make_case(
        email="an@example.vn",
        tags=["billing", "vip"],
        attachments=[AttachmentIn(filename="a.txt", content=b"attached")],
    )
    target = await make_case(email="an@example.vn", tags=["login", "vip"])
    await messages.reply(SYSTEM, source.id, MessageIn(body="reply on the source"))
    source_messages = {m.id for m in await messages.list_messages(SYSTEM, source.id)}

    # When the first is merged into the second
    merged = await cases.merge_cases(SYSTEM, source.id, target.id)

    # Then the target holds every message, in order, and the union of the tags
    conversation = await messages.list_messages(SYSTEM, target.id)
    assert source_messages <= {m.id for m in conversation}
    assert [m.id for m in conversation] == sorted(m.id for m in conversation)
    assert sum(len(m.attachments) for m in conversation) == 1
    assert merged.tags == ["billing", "login", "vip"]
    assert await case_tags(target.id) == ["billing", "login", "vip"]
    assert merged.version == target.version + 1
    # And a note records the merge, hidden from the customer
    note = conversation[-1]
    assert note.kind == MessageKind.NOTE
    assert source.reference in note.body_text
    customer_view = await messages.list_messages(
        await customer_principal(target.customer_id), target.id
    )
    assert MessageKind.NOTE not in {m.kind for m in customer_view}
    # And the source is closed and points at the target
    closed = await cases.get_case(SYSTEM, source.id)
    assert (closed.status, closed.merged_into_id) == (Status.CLOSED, target.id)
    assert closed.closed_at is not None
    assert await messages.list_messages(SYSTEM, source.id) == []
    # And both case streams and both audit logs tell of it
    for case_id in (source.id, target.id):
        assert "case.merged" in db.types(f"case:{case_id}")
        assert "case.merged" in [h.action for h in await audit.case_history(case_id)]


async def test_closed_and_self_merges_are_refused(db):
    first, second = await make_case(), await make_case()
    with pytest.raises(ValidationError):
        await cases.merge_cases(SYSTEM, first.id, first.id)
    await cases.merge_cases(SYSTEM, first.id, second.id)
    with pytest.raises(ConflictError):
        await cases.merge_cases(SYSTEM, first.id, second.id)
    with pytest.raises(ConflictError):
        await cases.merge_cases(SYSTEM, second.id, first.id)


async def test_merge_needs_both_cases_visible(db):
    mine, theirs = await make_team(), await make_team()
    agent = await make_agent(team_ids=[mine.id])
    visible, hidden = await make_case(team_id=mine.id), await make_case(team_id=theirs.id)
    with pytest.raises(NotFoundError):
        await cases.merge_cases(agent, visible.id, hidden.id)
    assert (await cases.get_case(SYSTEM, visible.id)).status == Status.NEW


async def test_crossed_concurrent_merges_leave_one_merge_and_no_deadlock(db):
    # Agents merge A into B and B into A at the same moment, for several pairs
    pairs = [(await make_case(), await make_case()) for _ in range(6)]
    calls = []
    for a, b in pairs:
        calls += [cases.merge_cases(SYSTEM, a.id, b.id), cases.merge_cases(SYSTEM, b.id, a.id)]
    results = await asyncio.gather(*calls, return_exceptions=True)

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == len(pairs), results
    assert all(isinstance(f, ConflictError) for f in failures), failures
    for a, b in pairs:
        stored = [await cases.get_case(SYSTEM, a.id), await cases.get_case(SYSTEM, b.id)]
        states = sorted((c.status, c.merged_into_id is not None) for c in stored)
        assert states == [(Status.CLOSED, True), (Status.NEW, False)]


async def test_merge_customers_moves_addresses_cases_and_messages(db):
    # Given one person known under two addresses, each with a case
    source = await make_customer(email="lan@gmail.com", name="Lan")
    target = await make_customer(email="lan.nguyen@congty.vn", name="Nguyễn Thị Lan")
    source_case = await make_case(customer_id=source.id)
    target_case = await make_case(customer_id=target.id)
    manager = await make_agent(Role.MANAGER)

    # When the first is merged into the second (a person confirms, naming both)
    merged = await customers.merge_customers(manager, source.id, target.id, [source.id, target.id])

    # Then the target has both addresses (its own still primary) and both cases
    assert merged.emails == ["lan.nguyen@congty.vn", "lan@gmail.com"]
    moved = await cases.get_case(SYSTEM, source_case.id)
    assert moved.customer_id == target.id
    rows = await Message.select(Message.author_customer).where(
        Message.case.is_in([source_case.id, target_case.id])
    )
    assert {r["author_customer"] for r in rows} == {target.id}
    # And the source points at the target, for every way of finding it
    left = await customers.get_customer(SYSTEM, source.id)
    assert (left.merged_into_id, left.emails) == (target.id, [])
    assert await find_or_create_by_email("LAN@gmail.com") == target.id
    assert (await customer_principal(source.id)).id == target.id
    assert await Customer.count() == 2
    assert "customer.merged" in db.types(f"customer:{source.id}")
    assert "customer.merged" in db.types(f"customer:{target.id}")
    # And the merged customer is found by the source's address
    found = await customers.list_customers(SYSTEM, text="lan@gmail")
    assert [c.id for c in found] == [target.id]


async def test_case_for_a_merged_customer_id_goes_to_the_target(db):
    source, target = await make_customer(), await make_customer()
    await customers.merge_customers(SYSTEM, source.id, target.id)
    case = await make_case(customer_id=source.id)
    assert case.customer_id == target.id


async def test_merge_customers_is_for_managers(db):
    source, target = await make_customer(), await make_customer()
    agent = await make_agent(Role.AGENT)
    with pytest.raises(PermissionDeniedError):
        await customers.merge_customers(agent, source.id, target.id)


async def test_merged_customers_cannot_be_merged_again(db):
    a, b, c = await make_customer(), await make_customer(), await make_customer()
    await customers.merge_customers(SYSTEM, a.id, b.id)
    with pytest.raises(ConflictError):
        await customers.merge_customers(SYSTEM, a.id, c.id)
    with pytest.raises(ConflictError):
        await customers.merge_customers(SYSTEM, c.id, a.id)
    with pytest.raises(ValidationError):
        await customers.merge_customers(SYSTEM, b.id, b.id)


async def test_crossed_concurrent_customer_merges_leave_no_cycle(db):
    a, b = await make_customer(), await make_customer()
    results = await asyncio.gather(
        customers.merge_customers(SYSTEM, a.id, b.id),
        customers.merge_customers(SYSTEM, b.id, a.id),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], ConflictError), repr(failures[0])
    a_into = (await customers.get_customer(SYSTEM, a.id)).merged_into_id
    b_into = (await customers.get_customer(SYSTEM, b.id)).merged_into_id
    assert (a_into, b_into) in [(b.id, None), (None, a.id)]
