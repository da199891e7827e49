"""Saved case-list views of the console: the ``saved_views`` table (frozen at this step)."""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Agents = reference("agents")


class _SavedView(Table, tablename="saved_views"):
    id = Serial(primary_key=True)
    owner = ForeignKey(_Agents, null=False)
    name = Varchar(length=100)
    shared = Boolean(default=False)
    definition = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create the table and its index by owner."""
    bind(engine, _SavedView)
    await _SavedView.create_table(if_not_exists=True)
    await create_index(engine, _SavedView, ["owner"])
