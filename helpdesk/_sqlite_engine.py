"""A Piccolo SQLite engine with long-lived connections and one writer per event loop.

Piccolo's own SQLite engine opens a new connection (and a new thread) for
every query outside a transaction and runs ``PRAGMA foreign_keys`` before
every statement: most of the cost of a small query. This engine keeps, per
event loop:

* a few reader connections, handed out in turn (WAL readers never block);
* and, per process, one writer connection used *synchronously*: a write
  transaction's statements take tens of microseconds each, far less than a
  hop to aiosqlite's thread, so they run on the event loop. Write
  transactions queue in memory (an :class:`asyncio.Lock` per loop, then a
  process-wide lock taken without blocking the loop) instead of sleeping in
  SQLite's busy handler, and each starts with ``BEGIN IMMEDIATE`` (a deferred
  transaction that reads then writes fails at once under concurrency).
  Another process holding the database shows up as a short busy timeout that
  is retried with ``asyncio.sleep``, never as a blocked loop.

Every wait is bounded by the engine's ``timeout`` (the busy timeout, a few
seconds): the queue for the writer, another process's write lock, a reader's
busy handler. A database that stays locked, or that cannot be written (a
read-only file, a full disk, an I/O error), raises
:class:`~helpdesk.errors.DatabaseUnavailableError` rather than hanging; a
connection that failed that way is closed and reopened when next needed.
Errors about the data (constraints, bad SQL) pass unchanged.

Connections run on daemon threads, so a connection nobody closed cannot keep
the process alive; :meth:`HelpdeskSQLiteEngine.close_loop_connections` closes
those of the running loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import threading
import time
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from helpdesk.errors import DatabaseUnavailableError

logger = logging.getLogger(__name__)

READERS_PER_LOOP = 3
CHECKPOINT_EVERY = 200
BUSY_SLICE_SECONDS = 0.02  # the writer's busy timeout; longer waits are retried asynchronously
BUSY_RETRY_MAX_SECONDS = 0.05  # the longest sleep between two tries of BEGIN IMMEDIATE
# Piccolo labels most reads "generic", so statements are told apart by their text.
READ_PREFIXES = ("SELECT", "WITH", "VALUES", "EXPLAIN")
# Primary result codes that mean "the database cannot serve now", not "bad statement".
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_BROKEN_CODES = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


def is_sqlite_fault(exc: BaseException) -> bool:
    """True when ``exc`` says the database file cannot serve (locked after the
    busy timeout, read-only, failing), rather than the statement is wrong."""
    if isinstance(exc, DatabaseUnavailableError):
        return True
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # raised by Python code, not by SQLite: judge by the message
        return "database is locked" in str(exc)
    return (code & 0xFF) in _BUSY_CODES | _BROKEN_CODES


def _breaks_connection(exc: BaseException) -> bool:
    """True when the connection that raised ``exc`` (or its cause) should not
    be used again."""
    code = getattr(exc.__cause__ or exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _BROKEN_CODES


def unavailable(exc: BaseException) -> DatabaseUnavailableError:
    """``exc`` as a :class:`DatabaseUnavailableError` (itself if it is one)."""
    if isinstance(exc, DatabaseUnavailableError):
        return exc
    return DatabaseUnavailableError(reason=f"SQLite: {exc}")


async def _connect(path: str, busy_seconds: float) -> aiosqlite.Connection:
    connection = aiosqlite.connect(
        path,
        timeout=busy_seconds,
        isolation_level=None,
        detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
    )
    thread = getattr(connection, "_thread", None)
    if thread is not None:
        thread.daemon = True
    await connection
    connection.row_factory = dict_factory  # type: ignore[assignment]
    await connection.execute("PRAGMA foreign_keys = 1")
    await connection.execute("PRAGMA synchronous = NORMAL")
    return connection


class _LoopConnections:
    """The connections of one event loop."""

    def __init__(self) -> None:
        self.readers: list[aiosqlite.Connection] = []
        self.write_lock = asyncio.Lock()
        self.turn = itertools.count()
        self.opening = asyncio.Lock()

    async def close(self) -> None:
        for connection in self.readers:
            try:
                await connection.close()
            except (sqlite3.Error, ValueError):
                continue
        self.readers.clear()


class _SyncWriter:
    """The process's synchronous writer connection and the lock around it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None
        self.commits = 0

    def connect(self) -> sqlite3.Connection:
        if self.connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=BUSY_SLICE_SECONDS,
                isolation_level=None,
                check_same_thread=False,
                detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
            )
            connection.row_factory = dict_factory
            connection.execute("PRAGMA foreign_keys = 1")
            connection.execute("PRAGMA synchronous = NORMAL")
            # Checkpoints would run inside a commit, on the event loop: they are
            # run from a reader's thread instead (see checkpoint_soon).
            connection.execute("PRAGMA wal_autocheckpoint = 0")
            self.connection = connection
        return self.connection

    def drop(self) -> None:
        """Close the connection after a failure; the next transaction reopens it."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error:
                logger.debug("closing a failed SQLite writer", exc_info=True)

    async def acquire(self, deadline: float) -> None:
        """Take the process-wide lock without blocking the loop."""
        delay = 0.0005
        while not self.lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise DatabaseUnavailableError(reason="SQLite: this process's writer stayed busy")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.002)

    async def begin(self, deadline: float) -> sqlite3.Connection:
        """``BEGIN IMMEDIATE``, retrying while another process writes, until
        ``deadline``; then :class:`DatabaseUnavailableError`."""
        connection = self.connect()
        delay = 0.005
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return connection
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, BUSY_RETRY_MAX_SECONDS)


class _WriteTransaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` on the process's writer, one at a time."""

    def __init__(self, engine: HelpdeskSQLiteEngine) -> None:
        self.engine = engine
        self.connection: sqlite3.Connection | None = None
        self._joined = False
        self._token: Any = None
        self._slot: _LoopConnections | None = None

    async def __aenter__(self) -> _WriteTransaction:
        if self.engine.current_transaction.get() is not None:
            self._joined = True
            return self
        slot = await self.engine._slot()
        deadline = time.monotonic() + self.engine.timeout
        try:
            self.connection = await self._begin(slot, deadline)
        except Exception as exc:
            if is_sqlite_fault(exc):
                raise unavailable(exc) from exc
            raise
        self._slot = slot
        # Piccolo only reads ``.connection`` of the current transaction.
        self._token = self.engine.current_transaction.set(self)  # type: ignore[arg-type]
        return self

    async def _begin(self, slot: _LoopConnections, deadline: float) -> sqlite3.Connection:
        """Take the loop's lock, then the process's, then ``BEGIN IMMEDIATE``,
        all before ``deadline``; on failure hold nothing."""
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                await slot.write_lock.acquire()
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                reason="SQLite: this process's write transactions queued too long"
            ) from exc
        writer = self.engine._writer
        try:
            await writer.acquire(deadline)
            try:
                return await writer.begin(deadline)
            except BaseException as exc:
                if _breaks_connection(exc):
                    writer.drop()
                writer.lock.release()
                raise
        except BaseException:
            slot.write_lock.release()
            raise

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._joined:
            return False
        assert self._slot is not None
        try:
            if exc is None:
                self._commit()
            else:
                self._roll_back(exc)
        finally:
            try:
                self.engine.current_transaction.reset(self._token)
            finally:
                self.engine._writer.lock.release()
                self._slot.write_lock.release()
        return False

    def _commit(self) -> None:
        assert self.connection is not None
        try:
            self.connection.execute("COMMIT")
        except BaseException as exc:
            self._roll_back(exc)
            if isinstance(exc, Exception) and is_sqlite_fault(exc):
                raise unavailable(exc) from exc
            raise
        self.engine.checkpoint_soon()

    def _roll_back(self, cause: BaseException) -> None:
        """``ROLLBACK`` (the caller re-raises ``cause``); the writer is dropped
        when ``cause`` broke it or the rollback fails too. Holds the writer lock."""
        assert self.connection is not None
        try:
            self.connection.execute("ROLLBACK")
        except sqlite3.Error:
            logger.debug("SQLite rollback failed; reopening the writer", exc_info=True)
            self.engine._writer.drop()
            return
        if _breaks_connection(cause):
            self.engine._writer.drop()


class HelpdeskSQLiteEngine(SQLiteEngine):
    """SQLite with pooled per-loop connections and serialised write transactions.

    ``timeout`` bounds every wait for the database (see the module);
    ``close_timeout`` bounds closing a loop's connections.
    """

    def __init__(self, path: str, timeout: float = 5.0, close_timeout: float = 5.0) -> None:
        super().__init__(path=path, timeout=timeout)
        self.timeout = timeout
        self.close_timeout = close_timeout
        self._loops: dict[asyncio.AbstractEventLoop, _LoopConnections] = {}
        self._writer = _SyncWriter(path)
        self._background: set[asyncio.Task[None]] = set()

    async def _slot(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        slot = self._loops.get(loop)
        if slot is None:
            slot = self._loops[loop] = _LoopConnections()
        return slot

    async def _reader(self) -> aiosqlite.Connection:
        slot = await self._slot()
        if len(slot.readers) < READERS_PER_LOOP:
            async with slot.opening:
                if len(slot.readers) < READERS_PER_LOOP:
                    slot.readers.append(await _connect(self.path, self.timeout))
        return slot.readers[next(slot.turn) % len(slot.readers)]

    def checkpoint_soon(self) -> None:
        """Every :data:`CHECKPOINT_EVERY` commits, copy the WAL back into the
        database file from a reader's thread, off the event loop."""
        self._writer.commits += 1
        if self._writer.commits % CHECKPOINT_EVERY == 0:
            task = asyncio.get_running_loop().create_task(self._checkpoint())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _checkpoint(self) -> None:
        connection = await self._reader()
        try:
            # Read the pragma's row to the end: a statement left unfinished keeps
            # a read transaction open, and later reads on this connection would
            # see the database as it was at the checkpoint.
            await connection.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            logger.warning("WAL checkpoint failed", exc_info=True)

    def write_transaction(self) -> _WriteTransaction:
        """A ``BEGIN IMMEDIATE`` transaction on the loop's writer (joins the current one)."""
        return _WriteTransaction(self)

    async def close_loop_connections(self) -> None:
        """Close the running loop's connections (they reopen when needed),
        waiting at most ``close_timeout``; their threads are daemons, so one
        that does not close cannot keep the process alive. Never raises."""
        slot = self._loops.pop(asyncio.get_running_loop(), None)
        if slot is not None:
            try:
                await asyncio.wait_for(slot.close(), self.close_timeout)
            except TimeoutError:
                logger.warning("SQLite connections did not close within %s s", self.close_timeout)

    async def _discard_reader(self, connection: aiosqlite.Connection) -> None:
        """Forget a reader that failed in a way that may have broken it."""
        slot = await self._slot()
        if connection in slot.readers:
            slot.readers.remove(connection)
        with contextlib.suppress(sqlite3.Error, ValueError, TimeoutError):
            await asyncio.wait_for(connection.close(), self.close_timeout)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        """A statement outside a transaction: reads on a reader, anything else
        in a write transaction of its own (so it queues behind the loop's writer
        instead of waiting in SQLite's busy handler)."""
        try:
            if query.lstrip(" (\n")[:8].upper().startswith(READ_PREFIXES):
                return await self._read(query, args)
            async with self.write_transaction() as transaction:
                assert transaction.connection is not None
                return transaction.connection.execute(query, args or []).fetchall()
        except Exception as exc:
            if is_sqlite_fault(exc):
                raise unavailable(exc) from exc
            raise

    async def _read(self, query: str, args: list[Any] | None) -> Any:
        connection = await self._reader()
        try:
            return await connection.execute_fetchall(query, args or [])
        except sqlite3.Error as exc:
            if _breaks_connection(exc):
                await self._discard_reader(connection)
            raise

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        """A statement inside the current transaction, run synchronously on the
        writer (without Piccolo's per-statement PRAGMA)."""
        try:
            return connection.execute(query, args or []).fetchall()
        except sqlite3.Error as exc:
            if is_sqlite_fault(exc):
                raise unavailable(exc) from exc
            raise
