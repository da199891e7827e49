"""Knowledge base: "Was this helpful?" answers and the request-form deflection events.

Frozen: the tables of ``knowledge_base/tables.py`` as of commit 40f2c85.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Boolean, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_KbArticle = reference("kb_articles")


class KbFeedback(Table, tablename="kb_feedback"):
    id = Serial(primary_key=True)
    article = ForeignKey(_KbArticle, null=False, on_delete=OnDelete.cascade)
    helpful = Boolean(default=False)
    comment = Text(default="")
    locale = Varchar(length=5, default="vi")
    created_at = Timestamptz(default=TimestamptzNow())


class KbDeflectionEvent(Table, tablename="kb_deflection_events"):
    id = Serial(primary_key=True)
    token = Varchar(length=64)
    kind = Varchar(length=16)
    article = ForeignKey(_KbArticle, null=True, default=None, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create both tables and the indexes the deflection report reads (by time,
    and the events of one form by token)."""
    bind(engine, KbFeedback, KbDeflectionEvent)
    await KbFeedback.create_table(if_not_exists=True)
    await KbDeflectionEvent.create_table(if_not_exists=True)
    await create_index(engine, KbFeedback, ["created_at"])
    await create_index(engine, KbFeedback, ["article"])
    await create_index(engine, KbDeflectionEvent, ["created_at"])
    await create_index(engine, KbDeflectionEvent, ["token", "kind"])
