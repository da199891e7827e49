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

Every wait on the database is bounded (:class:`DatabaseLimits`): a database
that is lost, refused, locked or unwritable raises
:class:`~helpdesk.errors.DatabaseUnavailableError` (a 503 for a request), a
connection that broke is dropped and replaced, and closing a pool never
waits for ever. The engines say how: :mod:`helpdesk._postgres_engine`,
:mod:`helpdesk._sqlite_engine`.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from helpdesk._postgres_engine import LoopLocalPostgresEngine, is_postgres_fault
from helpdesk._sqlite_engine import HelpdeskSQLiteEngine, is_sqlite_fault
from helpdesk.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from helpdesk.settings import Settings


logger = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]

_after_commit: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "helpdesk_after_commit", default=None
)


@dataclass(frozen=True)
class DatabaseLimits:
    """How long (seconds) the database may keep a caller waiting; every wait
    that passes its limit raises :class:`~helpdesk.errors.DatabaseUnavailableError`.

    * ``connect``: opening a PostgreSQL connection.
    * ``acquire``: waiting for a pooled PostgreSQL connection; on SQLite, for
      the write lock (the busy timeout).
    * ``statement``: PostgreSQL's ``statement_timeout``; the client itself
      gives up :data:`STATEMENT_MARGIN` seconds later (a server that stopped
      answering), and a session idle inside a transaction for twice as long
      (at least a minute) is ended by the server. ``None``: no limit.
    * ``idle``: a pooled connection unused this long is closed.
    * ``close``: closing a pool waits this long for connections in use, then
      terminates them.

    A request may still take longer than any one limit: each statement of
    it gets its own ``statement`` allowance.
    """

    connect: float = 5.0
    acquire: float = 5.0
    statement: float | None = 30.0
    idle: float = 300.0
    close: float = 5.0


STATEMENT_MARGIN = 5.0
"""Seconds the client waits beyond ``statement_timeout`` before it gives up."""


def database_limits(settings: Settings) -> DatabaseLimits:
    """The limits configured by ``HELPDESK_DB_*`` settings."""
    return DatabaseLimits(
        connect=settings.db_connect_timeout,
        acquire=settings.db_acquire_timeout,
        statement=settings.db_statement_timeout,
        idle=settings.db_idle_seconds,
    )


def create_engine(database_url: str, limits: DatabaseLimits | None = None) -> Engine[Any]:
    """Build the Piccolo engine for a ``sqlite:///`` or ``postgresql://`` URL.

    A PostgreSQL engine connects once here to check the server's version.
    """
    limits = limits or DatabaseLimits()
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = unquote(database_url[len("sqlite:///") :])
        _enable_wal(path, limits.acquire)
        return HelpdeskSQLiteEngine(path=path, timeout=limits.acquire, close_timeout=limits.close)
    return LoopLocalPostgresEngine(
        config={"dsn": database_url, **_postgres_options(limits)},
        acquire_timeout=limits.acquire,
        close_timeout=limits.close,
        idle_lifetime=limits.idle,
    )


def apply_limits(engine: Engine[Any], limits: DatabaseLimits) -> None:
    """Give an engine made with other limits these ones; pools opened from now
    on use them (open one only after this)."""
    if isinstance(engine, LoopLocalPostgresEngine):
        engine.config = {**engine.config, **_postgres_options(limits)}
        engine.acquire_timeout = limits.acquire
        engine.close_timeout = limits.close
        engine.idle_lifetime = limits.idle
    elif isinstance(engine, HelpdeskSQLiteEngine):
        engine.timeout = limits.acquire
        engine.close_timeout = limits.close


def _postgres_options(limits: DatabaseLimits) -> dict[str, Any]:
    """asyncpg's connection options for ``limits``."""
    settings = {"application_name": "helpdesk"}
    options: dict[str, Any] = {"timeout": limits.connect, "server_settings": settings}
    if limits.statement is not None:
        milliseconds = round(limits.statement * 1000)
        settings["statement_timeout"] = str(milliseconds)
        settings["idle_in_transaction_session_timeout"] = str(max(2 * milliseconds, 60_000))
        options["command_timeout"] = limits.statement + STATEMENT_MARGIN
    else:
        options["command_timeout"] = None
    return options


def _enable_wal(path: str, busy_timeout: float) -> None:
    """WAL mode is a property of the file: set it once, synchronously."""
    with sqlite3.connect(path, timeout=busy_timeout) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


def is_postgres(engine: Engine[Any]) -> bool:
    """True when ``engine`` talks to PostgreSQL."""
    return bool(engine.engine_type == "postgres")


def database_fault(exc: BaseException) -> bool:
    """True when ``exc`` is a database driver's report that the database
    failed (lost or refused connection, timeout, locked or unwritable file),
    or a :class:`DatabaseUnavailableError` already. A bare ``OSError`` or
    ``TimeoutError`` is not judged: outside the engines it may come from
    files, Redis or mail."""
    if isinstance(exc, DatabaseUnavailableError):
        return True
    if isinstance(exc, OSError | TimeoutError):
        return False
    return is_postgres_fault(exc) or is_sqlite_fault(exc)


async def start_pool(engine: Engine[Any], *, size: int = 8) -> None:
    """Open a connection pool for the running loop (PostgreSQL only); it keeps
    one connection open and reopens connections that broke."""
    if is_postgres(engine):
        pool_options: dict[str, Any] = {"min_size": 1, "max_size": size}
        await engine.start_connection_pool(**pool_options)


async def close_pool(engine: Engine[Any]) -> None:
    """Close the running loop's pool or connections, if any. Bounded by the
    engine's close timeout: connections still in use then are terminated.
    Never raises for a connection that will not close."""
    if isinstance(engine, HelpdeskSQLiteEngine):
        await engine.close_loop_connections()
    elif is_postgres(engine):
        await engine.close_connection_pool()


async def check_database(within: float) -> None:
    """Ask the bound database a trivial question; raise
    :class:`DatabaseUnavailableError` unless it answers within ``within``
    seconds. Says nothing about whether writes would succeed (a SQLite file
    may be readable but locked or read-only)."""
    try:
        async with asyncio.timeout(within):
            await current_engine().run_querystring(QueryString("SELECT 1"))
    except TimeoutError as exc:
        raise DatabaseUnavailableError(reason=f"no answer within {within:g} s") from exc
    except Exception as exc:
        if database_fault(exc):
            raise DatabaseUnavailableError(reason=f"{type(exc).__name__}: {exc}") from exc
        raise


def bind_engine(engine: Engine[Any]) -> None:
    """Point every table of every installed package (:mod:`helpdesk.installed`) at ``engine``."""
    from helpdesk.installed import installed_tables

    for table in installed_tables():
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

_next_transaction: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "helpdesk_next_transaction_hooks", default=None
)


def join_next_transaction(hook: AfterCommit) -> None:
    """Have the next outermost :func:`transaction` of this context run ``hook``
    inside it, just before its commit (as :func:`before_commit` would).

    For work that must commit together with whatever change a caller is about
    to make without knowing where that change is written: e.g. recording an
    idempotency key in the same transaction as the case it created. The hook
    runs once, in the first transaction that starts after this call; none
    runs it if no transaction follows.
    """
    pending = _next_transaction.get()
    if pending is None:
        pending = []
        _next_transaction.set(pending)
    pending.append(hook)


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
    pending = _next_transaction.get()
    if pending:
        hooks.before.extend(pending)
        pending.clear()
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
