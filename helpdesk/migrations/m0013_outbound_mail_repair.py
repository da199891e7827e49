"""Bring ``outbound_mail`` of databases made by the first m0002 to the shape of the others.

m0002 was edited in place before its release (commit 476ba3f): ``case``
became nullable (a size notice belongs to no case) and the notice's
``subject`` and ``body_text`` were added. A database that ran the first
m0002 (commit d8dffc0) kept ``case NOT NULL`` and lacked both columns, and
no later migration mended it. This one does, and changes nothing elsewhere:

* the two columns are added where missing;
* PostgreSQL: ``case`` loses its ``NOT NULL`` (a no-op where it has none);
* SQLite, only where ``case`` is ``NOT NULL``: the table is rebuilt in one
  transaction (SQLite cannot change a column's nullability), rows, ids and
  indexes kept.

Frozen: ``outbound_mail`` as it is after m0011.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table

from helpdesk.db import is_postgres
from helpdesk.migrations import add_column_if_missing, bind, create_index, reference

_Case = reference("cases")
_Message = reference("messages")
_Mailbox = reference("mailboxes")
_OutboundMail = reference("outbound_mail")

_REBUILT = "outbound_mail_m0013"


class _RebuiltOutboundMail(Table, tablename=_REBUILT):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=True, default=None)
    message = ForeignKey(_Message, null=True, default=None)
    mailbox = ForeignKey(_Mailbox, null=True, default=None)
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
    server_reply = Text(default="")
    next_attempt_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)
    unknown_outcomes = Integer(default=0)


async def _case_is_required_on_sqlite(engine: Engine[Any]) -> bool:
    rows = await engine.run_querystring(QueryString('PRAGMA table_info("outbound_mail")'))
    return any(row["name"] == "case" and row["notnull"] for row in rows)


async def _rebuild_on_sqlite(engine: Engine[Any]) -> None:
    """Copy ``outbound_mail`` into a table of the right shape and put it in its place."""
    columns = ", ".join(f'"{c._meta.db_column_name}"' for c in _RebuiltOutboundMail._meta.columns)
    writer: Any = engine  # both of our engines have write_transaction()
    async with writer.write_transaction():
        await engine.run_ddl(f'DROP TABLE IF EXISTS "{_REBUILT}"')
        for statement in _RebuiltOutboundMail.create_table().ddl:
            await engine.run_ddl(statement)
        await engine.run_ddl(
            f'INSERT INTO "{_REBUILT}" ({columns}) SELECT {columns} FROM "outbound_mail"'  # noqa: S608 - our names
        )
        await engine.run_ddl('DROP TABLE "outbound_mail"')
        await engine.run_ddl(f'ALTER TABLE "{_REBUILT}" RENAME TO "outbound_mail"')


async def apply(engine: Engine[Any]) -> None:
    """Add the notice's columns where missing and make ``case`` nullable where it is not."""
    bind(engine, _OutboundMail, _RebuiltOutboundMail)
    await add_column_if_missing(engine, _OutboundMail, "subject", Text(default=""))
    await add_column_if_missing(engine, _OutboundMail, "body_text", Text(default=""))
    if is_postgres(engine):
        await engine.run_ddl('ALTER TABLE "outbound_mail" ALTER COLUMN "case" DROP NOT NULL')
    elif await _case_is_required_on_sqlite(engine):
        await _rebuild_on_sqlite(engine)
        await create_index(engine, _OutboundMail, ["status"])
        await create_index(engine, _OutboundMail, ["case"])
