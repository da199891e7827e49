"""SLA: calendars, policies and the durable timers of each case."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from helpdesk.sla.tables import SLA_TABLES, CaseSlaTimer, SlaPolicy


async def apply(engine: Engine[Any]) -> None:
    """Create the SLA tables and their indexes.

    ``(case, metric)`` is unique: one row per target of a case. ``fire_at``
    serves the sweep (only timers due soon are read); ``(due_at)`` the at-risk
    lists; ``(completed_at)`` the reports over a period.
    """
    for table in SLA_TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, CaseSlaTimer, ["case", "metric"], unique=True)
    await create_index(engine, CaseSlaTimer, ["fire_at"])
    await create_index(engine, CaseSlaTimer, ["active", "due_at"])
    await create_index(engine, CaseSlaTimer, ["started_at"])
    await create_index(engine, SlaPolicy, ["position", "id"])
