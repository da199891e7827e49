"""The email channel: mailboxes, inbound ledger, thread keys, outbound mail, loop guard."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Timestamptz
from piccolo.engine.base import Engine

from helpdesk.channels.email.tables import (
    EMAIL_TABLES,
    AutoReplyLog,
    InboundMail,
    OutboundMail,
    ThreadKey,
)
from helpdesk.migrations import add_column_if_missing, create_index
from helpdesk.tables import CustomerEmail


async def apply(engine: Engine[Any]) -> None:
    """Create the email tables, their keys, and the bounce flag on addresses.

    ``outbound_mail.case`` is nullable (a size notice belongs to no case) and
    the row keeps the notice's ``subject`` and ``body_text``: edited in place,
    as this migration was not released before.
    """
    for table in EMAIL_TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, InboundMail, ["mailbox", "uidvalidity", "uid"], unique=True)
    await create_index(engine, InboundMail, ["outcome"])
    await create_index(engine, InboundMail, ["raw_sha256"])
    await create_index(engine, ThreadKey, ["case", "key"], unique=True)
    await create_index(engine, ThreadKey, ["key"])
    await create_index(engine, OutboundMail, ["status"])
    await create_index(engine, AutoReplyLog, ["address", "kind"])
    await add_column_if_missing(
        engine, CustomerEmail, "bounced_at", Timestamptz(null=True, default=None)
    )
