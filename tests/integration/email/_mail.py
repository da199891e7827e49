"""Helpers of the email-channel integration tests: realistic mails, mailboxes, readers.

Mails are built with :class:`email.message.EmailMessage` under the SMTP policy
(CRLF line ends), as a mail client would hand them to a server, and appended
to a real Dovecot by the tests.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from helpdesk.channels.email import imap
from helpdesk.channels.email.ingest import IngestResult
from helpdesk.channels.email.mailboxes import MailboxIn, MailboxOut, create_mailbox
from helpdesk.channels.email.tables import InboundMail, OutboundMail
from helpdesk.policy import SYSTEM
from helpdesk.storage import BlobStore, configure_blob_store
from helpdesk.tables import Attachment, Case, Customer, CustomerEmail, Message
from tests.mailservers import MailboxUser, SmtpSink

MB = 1024 * 1024


def new_id(tag: str = "m", domain: str = "mail.example.vn") -> str:
    """A Message-ID (with angle brackets) never used before."""
    return f"<{tag}.{uuid.uuid4().hex[:16]}@{domain}>"


def new_address(tag: str = "khach", domain: str = "example.vn") -> str:
    """A sender address never used before."""
    return f"{tag}.{uuid.uuid4().hex[:8]}@{domain}"


def build_mail(
    *,
    sender: str,
    to: str = "support@helpdesk.test",
    subject: str = "Cần hỗ trợ đơn hàng",
    body: str = "Xin chào, tôi cần hỗ trợ về đơn hàng.\n",
    sender_name: str | None = None,
    message_id: str | None = "",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    cc: Sequence[str] = (),
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    inline_images: Sequence[tuple[str, str, bytes]] = (),
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of one mail.

    ``message_id=""`` makes a fresh id, ``None`` leaves the header out.
    ``attachments`` are ``(filename, content type, bytes)``; ``inline_images``
    are ``(content id without brackets, content type, bytes)`` and need ``html``.
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = to
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    if message_id is not None:
        msg["Message-ID"] = message_id or new_id()
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
        html_part = msg.get_payload()[1]
        assert isinstance(html_part, EmailMessage)
        for cid, content_type, data in inline_images:
            maintype, subtype = content_type.split("/")
            html_part.add_related(data, maintype, subtype, cid=f"<{cid}>", disposition="inline")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        if maintype == "text":
            msg.add_attachment(data.decode(), subtype=subtype, charset="utf-8", filename=filename)
        else:
            msg.add_attachment(data, maintype, subtype, filename=filename)
    return msg.as_bytes()


def build_dsn(
    original: bytes, *, failed: str, to: str, action: str = "failed", status: str = "5.1.1"
) -> bytes:
    """A Postfix-style delivery report (RFC 3464) about ``original``, sent to ``to``."""
    boundary = f"dsn.{uuid.uuid4().hex}"
    text = (
        "Return-Path: <>\r\n"
        "From: MAILER-DAEMON@mx.example.vn (Mail Delivery System)\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: {new_id('dsn', 'mx.example.vn')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"<{failed}>: host mx.example.vn said: 550 {status} User unknown\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.vn\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{failed}>: User unknown\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/rfc822\r\n\r\n"
    ).encode()
    return text + original + f"\r\n--{boundary}--\r\n".encode()


def reply_to(parent_id: str, parent_refs: Sequence[str] = (), **kwargs: Any) -> tuple[str, bytes]:
    """A reply with In-Reply-To and References as mail clients write them."""
    message_id = new_id("re")
    raw = build_mail(
        message_id=message_id,
        in_reply_to=parent_id,
        references=[*parent_refs, parent_id],
        **kwargs,
    )
    return message_id, raw


def use_blob_store(tmp_path: Path, max_bytes: int = 25 * MB) -> BlobStore:
    """A blob store with a realistic attachment limit (the ``db`` fixture's is 1 MB)."""
    store = BlobStore(tmp_path / "big-blobs", max_bytes=max_bytes)
    configure_blob_store(store)
    return store


async def add_mailbox(
    user: MailboxUser,
    sink: SmtpSink | None = None,
    *,
    auto_acknowledge: bool = False,
    name: str = "Hỗ trợ khách hàng",
    team_id: int | None = None,
) -> MailboxOut:
    """A mailbox whose support address is ``user.name``, read over plain IMAP."""
    return await create_mailbox(
        SYSTEM,
        MailboxIn(
            name=name,
            address=user.name,
            imap_host=user.host,
            imap_port=user.port,
            imap_security="plain",
            imap_user=user.name,
            imap_password=user.password,
            smtp_host=sink.host if sink else None,
            smtp_port=sink.port if sink else 587,
            smtp_security="plain",
            auto_acknowledge=auto_acknowledge,
            team_id=team_id,
        ),
    )


async def fetch(mailbox: MailboxOut | int) -> list[IngestResult]:
    """One ``fetch_once`` of the mailbox."""
    return await imap.fetch_once(mailbox if isinstance(mailbox, int) else mailbox.id)


async def wait_until(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


def server_copies(user: MailboxUser, folder: str = "INBOX") -> dict[int, bytes]:
    """The bytes the IMAP server hands out for each UID (it turns bare LF into CRLF)."""
    with user.connect() as client:
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search(), ["BODY.PEEK[]"])
    return {int(uid): bytes(item[b"BODY[]"]) for uid, item in data.items()}


# ------------------------------------------------------------------ readers


async def all_cases() -> list[dict[str, Any]]:
    return list(await Case.select().order_by(Case.id))


async def case_messages(case_id: int) -> list[dict[str, Any]]:
    rows = (
        await Message.select()
        .where(Message.case == case_id)
        .order_by(Message.id)
        .output(load_json=True)
    )
    return list(rows)


async def message_by_external_id(external_id: str) -> dict[str, Any]:
    row = (
        await Message.select()
        .where(Message.external_id == external_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None, f"no message {external_id}"
    return dict(row)


async def external_ids_by_case() -> dict[int, set[str]]:
    """Message-IDs of the stored customer messages, per case."""
    rows = await Message.select(Message.case, Message.external_id).where(
        Message.external_id.is_not_null()
    )
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(row["case"], set()).add(row["external_id"])
    return found


async def attachments_of(message_id: int) -> list[dict[str, Any]]:
    rows = await Attachment.select().where(Attachment.message == message_id).order_by(Attachment.id)
    return list(rows)


async def ledger(mailbox_id: int | None = None) -> list[dict[str, Any]]:
    query = InboundMail.select().order_by(InboundMail.id)
    if mailbox_id is not None:
        query = query.where(InboundMail.mailbox == mailbox_id)
    return list(await query)


async def outbound_rows() -> list[dict[str, Any]]:
    return list(await OutboundMail.select().order_by(OutboundMail.id))


async def customer_of(address: str) -> dict[str, Any]:
    """The customer row owning ``address`` (stored lower-cased)."""
    owner = (
        await CustomerEmail.select(CustomerEmail.customer)
        .where(CustomerEmail.address == address.lower())
        .first()
    )
    assert owner is not None, f"no customer with {address}"
    row = await Customer.select().where(Customer.id == owner["customer"]).first()
    assert row is not None
    return dict(row)
