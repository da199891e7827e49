"""The agent console: canned replies (macros) and the index of the "newest first" case list."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from helpdesk.tables import Case, Macro


async def apply(engine: Engine[Any]) -> None:
    """Create the ``macros`` table (its name is unique through the column) and
    the ``cases (created_at, id)`` index that the created-at sort orders use."""
    await Macro.create_table(if_not_exists=True)
    await create_index(engine, Case, ["created_at", "id"])
