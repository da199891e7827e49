"""Mail you can see: the health of each mailbox (last fetch error and its kind,
last SMTP send and error), the bounce of an outbound mail, and the demo outbox.

Frozen: the columns and the ``demo_mail`` table as
``helpdesk/channels/email/tables.py`` declared them at this step.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import add_column_if_missing, bind, reference

_Mailboxes = reference("mailboxes")
_OutboundMail = reference("outbound_mail")


class _DemoMail(Table, tablename="demo_mail"):
    id = Serial(primary_key=True)
    mail_from = Varchar(length=998, default="")
    recipients = Text(default="")
    subject = Text(default="")
    content = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())


def _mailbox_columns() -> dict[str, Column]:
    return {
        "last_error_at": Timestamptz(null=True, default=None),
        "last_error_kind": Varchar(length=32, default=""),
        "smtp_sent_at": Timestamptz(null=True, default=None),
        "smtp_error_at": Timestamptz(null=True, default=None),
        "smtp_error_kind": Varchar(length=32, default=""),
        "smtp_error": Text(default=""),
    }


def _outbound_columns() -> dict[str, Column]:
    return {
        "bounced_at": Timestamptz(null=True, default=None),
        "bounce_reason": Text(default=""),
    }


async def apply(engine: Engine[Any]) -> None:
    """Add the health columns of mailboxes, the bounce of outbound mail, and the
    ``demo_mail`` table. Existing mailboxes start with no recorded state."""
    bind(engine, _Mailboxes, _OutboundMail, _DemoMail)
    for name, column in _mailbox_columns().items():
        await add_column_if_missing(engine, _Mailboxes, name, column)
    for name, column in _outbound_columns().items():
        await add_column_if_missing(engine, _OutboundMail, name, column)
    await _DemoMail.create_table(if_not_exists=True)
