"""Notes about a customer for staff: ``customers.notes`` (free text, never shown to the customer).

Idempotent: the column is added only where missing. New values of
``cases.channel`` (``phone``, ``walk_in``) need no change: the column is a
``varchar(16)``.

Frozen: it touches ``customers`` through a reference.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Text
from piccolo.engine.base import Engine

from helpdesk.migrations import add_column_if_missing, bind, reference

_Customer = reference("customers")


async def apply(engine: Engine[Any]) -> None:
    """Add ``customers.notes`` (empty for every existing customer)."""
    bind(engine, _Customer)
    await add_column_if_missing(engine, _Customer, "notes", Text(default=""))
