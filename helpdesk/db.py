"""The database engine and the one way to run a write transaction.

Both engines are reached through Piccolo. Two facts of the stack shape this
module (see ``shared/STACK_NOTES.md``):

* SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` (a deferred
  transaction that reads then writes fails at once under concurrency), the file
  is in WAL mode, and a connection whose ``BEGIN`` failed is closed rather than
  leaked.
* PostgreSQL: an asyncpg pool belongs to the event loop that made it, so the
  engine keeps one pool per loop (the web server's loop and Dramatiq's loop
  live in one process in embedded mode).

Code that must run only after a commit (publishing events, enqueueing actors)
registers itself with :func:`on_commit` inside :func:`transaction`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from helpdesk._sqlite_engine import HelpdeskSQLiteEngine

logger = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]

_after_commit: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "helpdesk_after_commit", default=None
)


class LoopLocalPostgresEngine(PostgresEngine):
    """A PostgreSQL engine with one asyncpg pool per event loop.

    ``pool`` reads and writes the pool of the running loop; a loop without a
    pool falls back to a fresh connection per query, which is slow but correct.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, Any] = {}
        super().__init__(*args, **kwargs)

    @property
    def pool(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, value: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value

    def write_transaction(self) -> Any:
        """A read-committed transaction (joins the current one if any)."""
        return self.transaction()


def create_engine(database_url: str) -> Engine[Any]:
    """Build the Piccolo engine for a ``sqlite:///`` or ``postgresql://`` URL."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = unquote(database_url[len("sqlite:///") :])
        _enable_wal(path)
        return HelpdeskSQLiteEngine(path=path, timeout=30)
    return LoopLocalPostgresEngine(config={"dsn": database_url})


def _enable_wal(path: str) -> None:
    """WAL mode is a property of the file: set it once, synchronously."""
    with sqlite3.connect(path, timeout=30) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


def is_postgres(engine: Engine[Any]) -> bool:
    """True when ``engine`` talks to PostgreSQL."""
    return bool(engine.engine_type == "postgres")


async def start_pool(engine: Engine[Any], *, size: int = 8) -> None:
    """Open a connection pool for the running loop (PostgreSQL only)."""
    if is_postgres(engine):
        pool_options: dict[str, Any] = {"min_size": 1, "max_size": size}
        await engine.start_connection_pool(**pool_options)


async def close_pool(engine: Engine[Any]) -> None:
    """Close the running loop's pool or connections, if any."""
    if is_postgres(engine):
        await engine.close_connection_pool()
    elif isinstance(engine, HelpdeskSQLiteEngine):
        await engine.close_loop_connections()


def bind_engine(engine: Engine[Any]) -> None:
    """Point every table of the helpdesk at ``engine``."""
    from helpdesk.tables import all_tables

    for table in all_tables():
        table._meta.db = engine


def current_engine() -> Engine[Any]:
    """The engine the tables are bound to."""
    from helpdesk.tables import Case

    engine: Engine[Any] = Case._meta.db
    return engine


class _Hooks:
    """What runs at the end of the current transaction: before and after commit."""

    def __init__(self) -> None:
        self.before: list[AfterCommit] = []
        self.after: list[AfterCommit] = []
        self.state: dict[str, Any] = {}


_hooks: contextvars.ContextVar[_Hooks | None] = contextvars.ContextVar(
    "helpdesk_transaction_hooks", default=None
)


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """Run a write transaction; run :func:`before_commit` hooks at its end
    (inside it) and :func:`on_commit` hooks after it committed.

    Nested use joins the outer transaction, and the hooks wait for the outer
    one. A rolled-back transaction runs no after-commit hook. After-commit
    hooks run in order; one that fails does not stop the others (the outbox
    keeps the event either way).
    """
    if _hooks.get() is not None:
        yield
        return
    hooks = _Hooks()
    token = _hooks.set(hooks)
    try:
        engine: Any = current_engine()  # HelpdeskSQLiteEngine or LoopLocalPostgresEngine
        async with engine.write_transaction():
            yield
            while hooks.before:
                await hooks.before.pop(0)()
    finally:
        _hooks.reset(token)
    for hook in hooks.after:
        try:
            await hook()
        except Exception:  # one failing hook must not hide the others
            logger.exception("after-commit hook failed")


def on_commit(hook: AfterCommit) -> None:
    """Schedule ``hook`` to run after the current transaction commits.

    Raises :class:`RuntimeError` outside :func:`transaction`: code that would
    publish without a transaction is a bug.
    """
    hooks = _hooks.get()
    if hooks is None:
        raise RuntimeError("on_commit() called outside helpdesk.db.transaction()")
    hooks.after.append(hook)


def before_commit(hook: AfterCommit) -> None:
    """Schedule ``hook`` to run at the end of the current transaction, inside it.

    Used to write what a transaction collected (e.g. its events) in one go,
    holding shared counters for as short a time as possible.
    """
    hooks = _hooks.get()
    if hooks is None:
        raise RuntimeError("before_commit() called outside helpdesk.db.transaction()")
    hooks.before.append(hook)


def transaction_state() -> dict[str, Any]:
    """A scratch dict that lives as long as the current transaction (e.g. the
    events it emitted). Raises :class:`RuntimeError` outside :func:`transaction`."""
    hooks = _hooks.get()
    if hooks is None:
        raise RuntimeError("transaction_state() called outside helpdesk.db.transaction()")
    return hooks.state
