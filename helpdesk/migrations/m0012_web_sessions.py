"""Revocable browser sessions: the ``web_sessions`` table (frozen at this step)."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import create_index


class _WebSession(Table, tablename="web_sessions"):
    id = Serial(primary_key=True)
    digest = Varchar(length=64, unique=True)
    face = Varchar(length=16)
    subject_id = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)


async def apply(engine: Engine[Any]) -> None:
    """Create the table, and the index that ends every session of one person."""
    _WebSession._meta.db = engine
    await _WebSession.create_table(if_not_exists=True)
    await create_index(engine, _WebSession, ["face", "subject_id"])
