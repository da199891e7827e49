"""Idempotency keys: one row per (scope, key), purged by age.

Frozen: ``idempotency_keys`` as ``helpdesk/idempotency.py`` declared it in
commit 2671ead (keys of at most 255 characters).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Bytea, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index


class IdempotencyKey(Table, tablename="idempotency_keys"):
    id = Serial(primary_key=True)
    scope = Varchar(length=200)
    key = Varchar(length=255)
    request_fingerprint = Varchar(length=64)
    status_code = Integer(null=True, default=None)
    content_type = Varchar(length=255, null=True, default=None)
    location = Varchar(length=2000, null=True, default=None)
    response_body = Bytea(null=True, default=None)
    changes = Text(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create the table, the unique (scope, key) index that the claim's
    ``ON CONFLICT`` relies on, and the index the purge reads."""
    bind(engine, IdempotencyKey)
    await IdempotencyKey.create_table(if_not_exists=True)
    await create_index(engine, IdempotencyKey, ["scope", "key"], unique=True)
    await create_index(engine, IdempotencyKey, ["created_at"])
