"""The email channel: mailboxes, inbound ledger, thread keys, outbound mail, loop guard.

Frozen: the tables as of commit 476ba3f, which edited this migration in place
before it was released (``outbound_mail.case`` nullable, the notice's
``subject`` and ``body_text``). The delivery-state columns of
``outbound_mail`` came later, with m0011.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import add_column_if_missing, bind, create_index, reference

_Case = reference("cases")
_Message = reference("messages")
_Team = reference("teams")
_CustomerEmail = reference("customer_emails")


class Mailbox(Table, tablename="mailboxes"):
    id = Serial(primary_key=True)
    name = Varchar(length=100)
    address = Varchar(length=320, unique=True)
    team = ForeignKey(_Team, null=True, default=None)
    imap_host = Varchar(length=255)
    imap_port = Integer(default=993)
    imap_security = Varchar(length=10, default="tls")
    imap_user = Varchar(length=320)
    imap_password = Text(default="")
    imap_folder = Varchar(length=255, default="INBOX")
    smtp_host = Varchar(length=255, default="")
    smtp_port = Integer(default=587)
    smtp_security = Varchar(length=10, default="starttls")
    smtp_user = Varchar(length=320, default="")
    smtp_password = Text(default="")
    auto_acknowledge = Boolean(default=True)
    active = Boolean(default=True)
    uidvalidity = BigInt(null=True, default=None)
    last_uid = BigInt(default=0)
    last_polled_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class InboundMail(Table, tablename="inbound_mail"):
    id = Serial(primary_key=True)
    mailbox = ForeignKey(Mailbox, null=False)
    uidvalidity = BigInt()
    uid = BigInt()
    message_id = Varchar(length=998, default="")
    raw_sha256 = Varchar(length=64)
    size = Integer(default=0)
    outcome = Varchar(length=16)
    reason = Text(default="")
    case = ForeignKey(_Case, null=True, default=None)
    message = ForeignKey(_Message, null=True, default=None)
    attempts = Integer(default=1)
    received_at = Timestamptz(default=TimestamptzNow())


class ThreadKey(Table, tablename="thread_keys"):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=False)
    key = Varchar(length=998)


class OutboundMail(Table, tablename="outbound_mail"):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=True, default=None)
    message = ForeignKey(_Message, null=True, default=None)
    mailbox = ForeignKey(Mailbox, null=True, default=None)
    kind = Varchar(length=16)
    to_address = Varchar(length=320)
    message_id = Varchar(length=998, unique=True)
    subject = Text(default="")
    body_text = Text(default="")
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    last_error = Text(default="")
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AutoReplyLog(Table, tablename="auto_reply_log"):
    id = Serial(primary_key=True)
    mailbox = ForeignKey(Mailbox, null=True, default=None)
    address = Varchar(length=320)
    kind = Varchar(length=16)
    sent_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (Mailbox, InboundMail, ThreadKey, OutboundMail, AutoReplyLog)


async def apply(engine: Engine[Any]) -> None:
    """Create the email tables, their keys, and the bounce flag on addresses.

    ``outbound_mail.case`` is nullable (a size notice belongs to no case) and
    the row keeps the notice's ``subject`` and ``body_text``.
    ``customer_emails.bounced_at`` is added unless the unfrozen m0001 of a
    later release already created it.
    """
    bind(engine, *TABLES, _CustomerEmail)
    for table in TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, InboundMail, ["mailbox", "uidvalidity", "uid"], unique=True)
    await create_index(engine, InboundMail, ["outcome"])
    await create_index(engine, InboundMail, ["raw_sha256"])
    await create_index(engine, ThreadKey, ["case", "key"], unique=True)
    await create_index(engine, ThreadKey, ["key"])
    await create_index(engine, OutboundMail, ["status"])
    await create_index(engine, AutoReplyLog, ["address", "kind"])
    await add_column_if_missing(
        engine, _CustomerEmail, "bounced_at", Timestamptz(null=True, default=None)
    )
