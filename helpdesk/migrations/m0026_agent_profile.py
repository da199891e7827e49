"""An agent's own profile: ``agents.avatar`` (the SHA-256 of the picture in the
blob store, or empty), ``agents.avatar_type`` (its media type) and
``agents.locale`` (the language of the console and of the agent's mails; empty:
the browser's). Idempotent: each column is added only where missing.

Frozen: it touches ``agents`` through a reference.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Varchar
from piccolo.engine.base import Engine

from helpdesk.migrations import add_column_if_missing, bind, reference

_Agent = reference("agents")


async def apply(engine: Engine[Any]) -> None:
    """Add the three columns (empty for every existing agent)."""
    bind(engine, _Agent)
    await add_column_if_missing(engine, _Agent, "avatar", Varchar(length=64, default=""))
    await add_column_if_missing(engine, _Agent, "avatar_type", Varchar(length=32, default=""))
    await add_column_if_missing(engine, _Agent, "locale", Varchar(length=8, default=""))
