"""Customer messages, replies, internal notes, and the conversation order."""

from __future__ import annotations

import pytest

from helpdesk.domain import MessageKind, Status
from helpdesk.errors import InvalidTransitionError, NotFoundError, PermissionDeniedError
from helpdesk.errors import ValidationError as HelpdeskValidationError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseOut, CaseUpdate, MessageIn
from helpdesk.services import cases, messages
from helpdesk.tables import Message
from tests.factories import customer_principal, make_agent, make_case, make_customer
from tests.integration.services.helpers import outbox


async def move_to(case: CaseOut, *statuses: Status) -> CaseOut:
    for status in statuses:
        case = await cases.update_case(
            SYSTEM, case.id, CaseUpdate(version=case.version, status=status)
        )
    return case


@pytest.mark.parametrize(
    ("path", "after"),
    [
        pytest.param([], Status.NEW, id="new-stays-new"),
        pytest.param([Status.OPEN], Status.OPEN, id="open-stays-open"),
        pytest.param([Status.PENDING], Status.OPEN, id="pending-reopens"),
        pytest.param([Status.ON_HOLD], Status.ON_HOLD, id="on-hold-stays"),
        pytest.param([Status.SOLVED], Status.OPEN, id="solved-reopens"),
    ],
)
async def test_customer_message_reopens_pending_and_solved(db, path, after):
    case = await move_to(await make_case(), *path)
    me = await customer_principal(case.customer_id)

    message = await messages.add_customer_message(me, case.id, MessageIn(body="Vẫn chưa được"))

    now = await cases.get_case(SYSTEM, case.id)
    assert now.status == after
    assert now.solved_at is None
    assert now.version == case.version + 1
    assert (message.kind, message.author_customer_id) == (MessageKind.CUSTOMER, me.id)
    reopened = db.types(f"customer:{case.customer_id}")[-2:]
    if after != case.status:
        assert reopened == ["case.message_added", "case.updated"]
    else:
        assert reopened[-1] == "case.message_added"


async def test_closed_case_refuses_a_customer_message(db):
    case = await move_to(await make_case(), Status.CLOSED)
    before = await Message.count()
    with pytest.raises(InvalidTransitionError) as raised:
        await messages.add_customer_message(SYSTEM, case.id, MessageIn(body="Hello again"))
    assert raised.value.status == 409
    assert await Message.count() == before
    assert (await cases.get_case(SYSTEM, case.id)).version == case.version


async def test_customer_cannot_write_into_someone_elses_case(db):
    case = await make_case()
    stranger = await customer_principal((await make_customer()).id)
    with pytest.raises(NotFoundError):
        await messages.add_customer_message(stranger, case.id, MessageIn(body="hi"))


async def test_empty_message_is_refused(db):
    case = await make_case()
    with pytest.raises(HelpdeskValidationError):
        await messages.reply(SYSTEM, case.id, MessageIn(body="   "))


async def test_first_reply_opens_a_new_case_and_sets_first_response_once(db):
    agent = await make_agent()
    case = await make_case()
    assert (case.status, case.first_response_at) == (Status.NEW, None)

    first = await messages.reply(agent, case.id, MessageIn(body="Chào anh, em kiểm tra ngay."))
    after_first = await cases.get_case(SYSTEM, case.id)
    await messages.reply(agent, case.id, MessageIn(body="Đã xong."))
    after_second = await cases.get_case(SYSTEM, case.id)

    assert (first.kind, first.author_agent_id) == (MessageKind.REPLY, agent.id)
    assert after_first.status == Status.OPEN
    assert after_first.first_response_at is not None
    assert after_second.first_response_at == after_first.first_response_at
    assert after_second.version == after_first.version + 1
    updates = [
        f.payload for f in db.frames if f.stream == f"case:{case.id}" and f.type == "case.updated"
    ]
    assert [u["changes"] for u in updates] == [{"status": ["new", "open"]}]


async def test_reply_to_a_closed_case_is_refused(db):
    case = await move_to(await make_case(), Status.CLOSED)
    with pytest.raises(InvalidTransitionError):
        await messages.reply(SYSTEM, case.id, MessageIn(body="late"))


async def test_internal_note_is_hidden_from_the_customer_everywhere(db):
    # Given a case with a customer message, a reply, and an internal note with a file
    agent = await make_agent()
    case = await make_case()
    await messages.reply(agent, case.id, MessageIn(body="public"))
    note = await messages.add_note(
        agent,
        case.id,
        MessageIn(
            body="internal: khách VIP", attachments=[AttachmentIn(filename="n.txt", content=b"x")]
        ),
    )
    customer = await customer_principal(case.customer_id)

    # Then staff see three messages, the customer two, without the note
    staff_view = await messages.list_messages(agent, case.id)
    customer_view = await messages.list_messages(customer, case.id)
    assert [m.kind for m in staff_view] == [
        MessageKind.CUSTOMER,
        MessageKind.REPLY,
        MessageKind.NOTE,
    ]
    assert [m.kind for m in customer_view] == [MessageKind.CUSTOMER, MessageKind.REPLY]

    # And the note never went to the customer's stream, stored or published
    customer_stream = f"customer:{case.customer_id}"
    assert all(
        f.payload.get("message_id") != note.id for f in db.frames if f.stream == customer_stream
    )
    stored = await outbox(customer_stream)
    assert [t for _, t in stored].count("case.message_added") == 2
    note_frames = [f for f in db.frames if f.payload.get("message_id") == note.id]
    assert sorted(f.stream for f in note_frames) == [f"case:{case.id}", "team:none"]

    # And its attachment is not reachable by the customer
    with pytest.raises(NotFoundError):
        await messages.get_attachment(customer, note.attachments[0].id)
    _, data = await messages.get_attachment(agent, note.attachments[0].id)
    assert data == b"x"


async def test_customers_cannot_write_notes(db):
    case = await make_case()
    customer = await customer_principal(case.customer_id)
    with pytest.raises(PermissionDeniedError):
        await messages.add_note(customer, case.id, MessageIn(body="sneaky"))


async def test_note_does_not_change_status(db):
    case = await make_case()
    await messages.add_note(SYSTEM, case.id, MessageIn(body="n"))
    assert (await cases.get_case(SYSTEM, case.id)).status == Status.NEW


async def test_conversation_is_oldest_first(db):
    agent = await make_agent()
    case = await make_case()
    customer = await customer_principal(case.customer_id)
    bodies = ["1 reply", "2 note", "3 customer", "4 reply"]
    await messages.reply(agent, case.id, MessageIn(body=bodies[0]))
    await messages.add_note(agent, case.id, MessageIn(body=bodies[1]))
    await messages.add_customer_message(customer, case.id, MessageIn(body=bodies[2]))
    await messages.reply(agent, case.id, MessageIn(body=bodies[3]))

    conversation = await messages.list_messages(agent, case.id)
    assert [m.body_text for m in conversation[1:]] == bodies
    assert [m.id for m in conversation] == sorted(m.id for m in conversation)
    assert all(m.case_id == case.id for m in conversation)
    stamps = [m.created_at for m in conversation]
    assert stamps == sorted(stamps)
    assert all(s.tzinfo is not None for s in stamps)
