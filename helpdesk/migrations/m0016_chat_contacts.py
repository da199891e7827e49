"""Unverified chat contacts: the ``chat_contacts`` table (frozen at this step)."""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Customers = reference("customers")
_Cases = reference("cases")


class _ChatContact(Table, tablename="chat_contacts"):
    id = Serial(primary_key=True)
    customer = ForeignKey(_Customers, null=False)
    case = ForeignKey(_Cases, null=True, default=None)
    name = Varchar(length=200)
    address = Varchar(length=320)
    verified_at = Timestamptz(null=True, default=None)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    token_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create the table, and its indexes by customer and by case."""
    bind(engine, _ChatContact)
    await _ChatContact.create_table(if_not_exists=True)
    await create_index(engine, _ChatContact, ["customer"])
    await create_index(engine, _ChatContact, ["case"])
