"""Knowledge base: "Was this helpful?" answers and the request-form deflection events."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from knowledge_base.tables import KbDeflectionEvent, KbFeedback


async def apply(engine: Engine[Any]) -> None:
    """Create both tables and the indexes the deflection report reads (by time,
    and the events of one form by token)."""
    await KbFeedback.create_table(if_not_exists=True)
    await KbDeflectionEvent.create_table(if_not_exists=True)
    await create_index(engine, KbFeedback, ["created_at"])
    await create_index(engine, KbFeedback, ["article"])
    await create_index(engine, KbDeflectionEvent, ["created_at"])
    await create_index(engine, KbDeflectionEvent, ["token", "kind"])
