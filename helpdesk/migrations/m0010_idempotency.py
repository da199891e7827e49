"""Idempotency keys: one row per (scope, key), purged by age."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.idempotency import IdempotencyKey
from helpdesk.migrations import create_index


async def apply(engine: Engine[Any]) -> None:
    """Create the table, the unique (scope, key) index that the claim's
    ``ON CONFLICT`` relies on, and the index the purge reads."""
    await IdempotencyKey.create_table(if_not_exists=True)
    await create_index(engine, IdempotencyKey, ["scope", "key"], unique=True)
    await create_index(engine, IdempotencyKey, ["created_at"])
