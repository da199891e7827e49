"""The agent console: canned replies (macros) and the index of the "newest first" case list.

Frozen: ``macros`` as ``helpdesk/tables.py`` declared it in commit d65d8f7.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Agent = reference("agents")
_Case = reference("cases")


class Macro(Table, tablename="macros"):
    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    body = Text(default="")
    created_by = ForeignKey(_Agent, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create the ``macros`` table (its name is unique through the column) and
    the ``cases (created_at, id)`` index that the created-at sort orders use."""
    bind(engine, Macro, _Case)
    await Macro.create_table(if_not_exists=True)
    await create_index(engine, _Case, ["created_at", "id"])
