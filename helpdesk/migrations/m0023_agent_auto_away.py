"""Whether an agent's "away" was set by the console grace period: ``agents.auto_away``.

An agent whose last console closed is set away after the grace period
(:mod:`helpdesk.routing.presence`); when a console of theirs connects again
they are made available again, but only if the desk, not the agent, chose
"away". Idempotent: the column is added only where missing.

Frozen: it touches ``agents`` through a reference.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Boolean
from piccolo.engine.base import Engine

from helpdesk.migrations import add_column_if_missing, bind, reference

_Agent = reference("agents")


async def apply(engine: Engine[Any]) -> None:
    """Add ``agents.auto_away`` (false for every existing agent)."""
    bind(engine, _Agent)
    await add_column_if_missing(engine, _Agent, "auto_away", Boolean(default=False))
