"""Messages of a case: customer messages, public replies and internal notes."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import nh3

from helpdesk import _sql as sql
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import Channel, MessageKind, Status
from helpdesk.errors import InvalidTransitionError, NotFoundError, ValidationError
from helpdesk.events import (
    CaseUpdated,
    MessageAdded,
    case_stream,
    customer_streams,
    emit,
    team_stream,
)
from helpdesk.policy import Action, Principal, require
from helpdesk.rows import CaseRow, MessageRow
from helpdesk.schemas import AttachmentIn, AttachmentOut, MessageIn, MessageOut
from helpdesk.services import audit, case_search
from helpdesk.services.lookup import visible_case_row
from helpdesk.services.rows import attachment_out, message_out
from helpdesk.storage import blob_store
from helpdesk.tables import Attachment, Case, Message


def sanitize_html(html: str) -> str:
    """HTML safe to show: scripts, styles, event handlers and remote images removed.

    Images are kept only when their source is ``cid:`` (inline attachments) or a
    ``data:image/…`` URL; remote images would tell the sender that the mail was
    read. Links to ``data:`` URLs are removed.
    """
    return nh3.clean(
        html,
        url_schemes={"http", "https", "mailto", "cid", "data", "tel"},
        attribute_filter=_drop_remote_images,
        link_rel="noopener noreferrer nofollow",
    )


_INLINE_IMAGE = re.compile(r"data:image/(png|gif|jpeg|webp);", re.IGNORECASE)


def _drop_remote_images(tag: str, attribute: str, value: str) -> str | None:
    """Keep an image's source only when inline (``cid:``, ``data:image/…``); drop a
    ``data:`` URL anywhere else (a link to one can carry a whole page)."""
    url = value.strip()
    if tag == "img" and attribute == "src":
        return value if url.startswith("cid:") or _INLINE_IMAGE.match(url) else None
    if url[:5].lower() == "data:":
        return None
    return value


async def _store_attachments(items: list[AttachmentIn]) -> list[tuple[AttachmentIn, str]]:
    """Check every size first, then write the blobs: over the limit, nothing is written."""
    if not items:
        return []
    store = blob_store()
    total = 0
    for item in items:
        store.check_size(len(item.content), item.filename)
        total += len(item.content)
    store.check_size(total, "attachments together")
    digests = [await asyncio.to_thread(store.put, item.content) for item in items]
    return list(zip(items, digests, strict=True))


async def insert_message(
    *,
    case: CaseRow,
    kind: MessageKind,
    data: MessageIn,
    channel: Channel,
    author_agent_id: int | None = None,
    author_customer_id: int | None = None,
    external_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Insert one message with its attachments and its event; inside a transaction.

    The blobs are written before the rows, so a crash leaves at worst an
    unreferenced blob, never a row without its bytes.
    """
    if not data.body.strip() and not data.html and not data.attachments:
        raise ValidationError("a message needs a body or an attachment")
    stored = await _store_attachments(data.attachments)
    rows = await sql.insert(
        Message,
        {
            "case": case.id,
            "kind": kind,
            "author_agent": author_agent_id,
            "author_customer": author_customer_id,
            "channel": channel,
            "body_text": data.body,
            "body_html": sanitize_html(data.html) if data.html else "",
            "external_id": external_id,
            "meta": meta or {},
            "created_at": utcnow(),
        },
    )
    message_id = int(rows[0]["id"])
    if stored:
        await Attachment.insert(
            *(
                Attachment(
                    message=message_id,
                    sha256=digest,
                    filename=item.filename,
                    content_type=item.content_type,
                    size=len(item.content),
                )
                for item, digest in stored
            )
        )
    await case_search.append_message(case.id, kind, data.body)
    streams = [case_stream(case.id), team_stream(case.team_id)]
    if kind != MessageKind.NOTE:
        streams += customer_streams(case.customer_id, case.organization_id)
    await emit(MessageAdded(case_id=case.id, message_id=message_id, kind=kind), streams)
    return message_id


async def _touch_case(case: CaseRow, values: dict[Any, Any], changes: dict[str, list[Any]]) -> None:
    values[Case.updated_at] = utcnow()
    values[Case.version] = Case.version + 1
    await Case.update(values).where(Case.id == case.id)
    if changes:
        streams = [
            case_stream(case.id),
            team_stream(case.team_id),
            *customer_streams(case.customer_id, case.organization_id),
        ]
        await emit(CaseUpdated(case_id=case.id, version=case.version + 1, changes=changes), streams)


async def add_customer_message(
    principal: Principal,
    case_id: int,
    data: MessageIn,
    *,
    channel: Channel = Channel.API,
    customer_id: int | None = None,
    external_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> MessageOut:
    """Add a message written by the customer; a pending or solved case reopens.

    A closed case refuses it (:class:`InvalidTransitionError`): the channels
    open a follow-up case instead. Staff may record a message on a customer's
    behalf (e.g. from a phone call).
    """
    if principal.kind == "agent":
        require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case.status == Status.CLOSED:
            raise InvalidTransitionError(f"case {case_id} is closed; open a new case instead")
        author = customer_id or (principal.id if principal.kind == "customer" else case.customer_id)
        message_id = await insert_message(
            case=case,
            kind=MessageKind.CUSTOMER,
            data=data,
            channel=channel,
            author_customer_id=author,
            external_id=external_id,
            meta=meta,
        )
        values: dict[Any, Any] = {}
        changes: dict[str, list[Any]] = {}
        if case.status in (Status.PENDING, Status.SOLVED):
            values[Case.status] = Status.OPEN
            values[Case.solved_at] = None
            changes["status"] = [case.status, Status.OPEN]
        await _touch_case(case, values, changes)
        await audit.record(
            principal, "message.customer", entity="message", entity_id=message_id, case_id=case_id
        )
    return await get_message(message_id)


async def reply(principal: Principal, case_id: int, data: MessageIn) -> MessageOut:
    """Add a public reply by an agent; records the first response and opens a new case."""
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case.status == Status.CLOSED:
            raise InvalidTransitionError(f"case {case_id} is closed")
        message_id = await insert_message(
            case=case,
            kind=MessageKind.REPLY,
            data=data,
            channel=Channel(case.channel),
            author_agent_id=principal.id,
        )
        values: dict[Any, Any] = {}
        changes: dict[str, list[Any]] = {}
        if case.first_response_at is None:
            values[Case.first_response_at] = utcnow()
        if case.status == Status.NEW:
            values[Case.status] = Status.OPEN
            changes["status"] = [Status.NEW, Status.OPEN]
        await _touch_case(case, values, changes)
        await audit.record(
            principal, "message.reply", entity="message", entity_id=message_id, case_id=case_id
        )
    return await get_message(message_id)


async def add_note(principal: Principal, case_id: int, data: MessageIn) -> MessageOut:
    """Add an internal note: staff only, never shown to the customer."""
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        message_id = await insert_message(
            case=case,
            kind=MessageKind.NOTE,
            data=data,
            channel=Channel(case.channel),
            author_agent_id=principal.id,
        )
        await _touch_case(case, {}, {})
        await audit.record(
            principal, "message.note", entity="message", entity_id=message_id, case_id=case_id
        )
    return await get_message(message_id)


async def get_message(message_id: int) -> MessageOut:
    """One message with its attachments (no permission check: callers check the case)."""
    row = await Message.select().where(Message.id == message_id).first()
    assert row is not None, f"message {message_id} not found"  # callers just wrote it
    attachments = await _attachments_of([message_id])
    return message_out(MessageRow.from_row(row), attachments[message_id])


async def _attachments_of(message_ids: list[int]) -> dict[int, list[AttachmentOut]]:
    result: dict[int, list[AttachmentOut]] = {i: [] for i in message_ids}
    if message_ids:
        rows = (
            await Attachment.select()
            .where(Attachment.message.is_in(message_ids))
            .order_by(Attachment.id)
        )
        for row in rows:
            result[row["message"]].append(attachment_out(row))
    return result


async def list_messages(principal: Principal, case_id: int) -> list[MessageOut]:
    """The conversation of a case, oldest first; customers never see internal notes.

    Two queries whatever the number of messages.
    """
    await visible_case_row(principal, case_id)
    query = Message.select().where(Message.case == case_id)
    if principal.kind == "customer":
        query = query.where(Message.kind != MessageKind.NOTE)
    rows = await query.order_by(Message.id).output(load_json=True)
    attachments = await _attachments_of([r["id"] for r in rows])
    return [message_out(MessageRow.from_row(r), attachments[r["id"]]) for r in rows]


async def get_attachment(principal: Principal, attachment_id: int) -> tuple[AttachmentOut, bytes]:
    """An attachment and its bytes, when the principal may see its message."""
    row = (
        await Attachment.select(
            *Attachment.all_columns(),
            Attachment.message.case.as_alias("case_id"),
            Attachment.message.kind.as_alias("kind"),
        )
        .where(Attachment.id == attachment_id)
        .first()
    )

    if row is None:
        raise NotFoundError(f"attachment {attachment_id} not found")
    await visible_case_row(principal, row["case_id"])
    if principal.kind == "customer" and row["kind"] == MessageKind.NOTE:
        raise NotFoundError(f"attachment {attachment_id} not found")
    data = await asyncio.to_thread(blob_store().get, row["sha256"])
    return attachment_out(row), data
