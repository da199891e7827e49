"""Agent signatures: the ``signature`` column of ``agents`` (Markdown text).

Frozen: the column as ``helpdesk/tables.py`` declared it at this step.
Existing agents start with no signature.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Text
from piccolo.engine.base import Engine

from helpdesk.migrations import add_column_if_missing, bind, reference

_Agents = reference("agents")


async def apply(engine: Engine[Any]) -> None:
    """Add ``agents.signature`` (empty for every existing agent)."""
    bind(engine, _Agents)
    await add_column_if_missing(engine, _Agents, "signature", Text(default=""))
