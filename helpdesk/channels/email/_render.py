"""Render a queued outbound row into the MIME message that is sent.

Replies and automatic mails of a case are rendered when they are sent (so a
retry renders the same Message-ID, subject and threading headers again, with
a new Date); a notice without a case carries its text from when it was queued,
but the tokens of its links are written in only here, from placeholders
(:mod:`helpdesk.channels.email.mail_tokens`). The SMTP password is unsealed
here, for this one message (:func:`~helpdesk.channels.email.mailboxes.mailbox_password`).
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from helpdesk.channels.email import compose, mail_tokens
from helpdesk.channels.email._rows import OutboundRow, SendingMailbox
from helpdesk.channels.email.mailboxes import mailbox_password
from helpdesk.channels.email.tables import Mailbox, OutboundMail, ThreadKey
from helpdesk.domain import case_reference
from helpdesk.rows import CaseRow
from helpdesk.storage import blob_store
from helpdesk.tables import Attachment, Case, Customer, Message

MAX_REFERENCES = 20


def _notice(row: OutboundRow, mailbox: SendingMailbox) -> EmailMessage:
    """A notice without a case: as rendered when queued, with no case reference,
    and the tokens of its links written in now (:mod:`.mail_tokens`)."""
    return compose.build(
        compose.Outgoing(
            message_id=row.internet_message_id, from_address=mailbox.address,
            from_name=mailbox.name, to_address=row.to_address, subject=row.subject,
            text=mail_tokens.fill(row.body_text), auto_submitted=True,
        )
    )  # fmt: skip


async def build(outbound_id: int) -> tuple[EmailMessage, SendingMailbox]:
    """The message of outbound mail ``outbound_id`` and the mailbox it is sent from."""
    found = await OutboundMail.select().where(OutboundMail.id == outbound_id).first()
    assert found is not None
    row = OutboundRow.from_row(found)
    box = await Mailbox.select().where(Mailbox.id == row.mailbox_id).first()
    mailbox = None
    if box is not None:
        password = await mailbox_password(box, "smtp_password")
        mailbox = SendingMailbox.from_row({**box, "smtp_password": password})
    if mailbox is not None and (row.case_id is None or row.body_text):
        return _notice(row, mailbox), mailbox  # rendered when queued (e.g. a survey)
    case_found = await Case.select().where(Case.id == row.case_id).first()
    if mailbox is None or case_found is None:
        raise RuntimeError(f"outbound mail {outbound_id}: mailbox or case is gone")
    case = CaseRow.from_row(case_found)
    customer = (
        await Customer.select(Customer.name, Customer.locale)
        .where(Customer.id == case.customer_id)
        .first()
    )
    locale = customer["locale"] if customer else "vi"
    keys = (
        await ThreadKey.select(ThreadKey.key)
        .where(ThreadKey.case == case.id)
        .order_by(ThreadKey.id)
    )
    references = tuple(k["key"] for k in keys if k["key"] != row.internet_message_id)
    if len(references) > MAX_REFERENCES:  # keep the root, as RFC 5322 suggests
        references = (references[0], *references[-(MAX_REFERENCES - 1) :])
    subject, text, html, attachments = await _body(
        row, case, customer["name"] if customer else "", locale
    )
    outgoing = compose.Outgoing(
        message_id=row.internet_message_id,
        from_address=mailbox.address,
        from_name=mailbox.name,
        to_address=row.to_address,
        subject=subject,
        text=text,
        html=html,
        in_reply_to=await _last_customer_message_id(case.id),
        references=references,
        attachments=attachments,
        auto_submitted=row.kind != "reply",
    )
    return compose.build(outgoing), mailbox


async def _last_customer_message_id(case_id: int) -> str | None:
    row = (
        await Message.select(Message.external_id)
        .where((Message.case == case_id) & Message.external_id.is_not_null())
        .order_by(Message.id, ascending=False)
        .first()
    )
    return row["external_id"] if row else None


async def _body(
    row: OutboundRow, case: CaseRow, customer_name: str, locale: str
) -> tuple[str, str, str | None, tuple[compose.Attachment, ...]]:
    """Subject, text, HTML and attachments of the mail."""
    reference = case_reference(case.id)
    if row.kind != "reply":
        subject, text = compose.render(
            row.kind, locale, customer_name=customer_name,
            reference=reference, subject=case.subject,
        )  # fmt: skip
        return f"{subject} [#{reference}]", text, None, ()
    message = await Message.select().where(Message.id == row.message_id).first()
    assert message is not None
    files = await Attachment.select().where(Attachment.message == row.message_id)
    store = blob_store()
    attachments: list[compose.Attachment] = []
    for f in files:
        content = await asyncio.to_thread(store.get, f["sha256"])
        attachments.append(compose.Attachment(f["filename"], f["content_type"], content))
    subject = compose.subject_with_reference(case.subject, case.id)
    return subject, message["body_text"], message["body_html"] or None, tuple(attachments)
