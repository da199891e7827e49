"""A Piccolo PostgreSQL engine that survives lost connections.

Piccolo's ``PostgresTransaction`` gives its connection back to the pool only
when COMMIT or ROLLBACK succeeded, and resets its context variable only then.
When the server terminates a connection (a failover, ``pg_terminate_backend``,
a restart), ROLLBACK raises, and the connection is never released. asyncpg
frees such a holder by itself only when it saw the socket close; after a
protocol error it aborts the connection without that clean-up, and the holder
stays "in use" for ever. Each leak shrinks the pool by one; once all are gone,
every acquire waits for ever (there was no acquire timeout), and
``Pool.close()``, which waits for every holder, never returns: the process
ignores SIGTERM.

This engine, per event loop (an asyncpg pool belongs to the loop that made
it; in embedded mode the web server's loop and Dramatiq's loop share a
process):

* acquires with a timeout, and raises
  :class:`~helpdesk.errors.DatabaseUnavailableError` when none comes free;
* always gives a connection back, and terminates rather than returns one that
  broke (its ROLLBACK failed, or it failed with a connection-level error);
* turns connection-level failures of any statement into
  :class:`~helpdesk.errors.DatabaseUnavailableError`; errors about the data
  (unique violations, serialization failures, bad SQL) pass unchanged;
* closes a pool within a timeout, then terminates what is left.

Not promised: a statement that failed with a lost connection may have been
applied (a COMMIT whose answer was lost); nothing is retried here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString

from helpdesk.errors import DatabaseUnavailableError

logger = logging.getLogger(__name__)

_FAULTS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable host (includes DatabaseUnavailableError)
    TimeoutError,  # connect timeout, asyncpg's command_timeout
    asyncpg.exceptions.PostgresConnectionError,  # class 08: the connection is gone
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutdown, cannot connect now, timeout
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000: the database does not exist
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # 28: login refused
    asyncpg.exceptions.InternalClientError,  # protocol out of step after a fatal error
)
_CLOSED_MARKS = ("closed", "closing", "released back to the pool")


def is_postgres_fault(exc: BaseException) -> bool:
    """True when ``exc`` says the database (or the connection to it) failed,
    rather than the statement or its data."""
    if isinstance(exc, _FAULTS):
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return any(mark in str(exc) for mark in _CLOSED_MARKS)
    return False


def unavailable(exc: BaseException) -> DatabaseUnavailableError:
    """``exc`` as a :class:`DatabaseUnavailableError` (itself if it is one)."""
    if isinstance(exc, DatabaseUnavailableError):
        return exc
    return DatabaseUnavailableError(reason=f"{type(exc).__name__}: {exc}")


class LoopLocalPostgresEngine(PostgresEngine):
    """A PostgreSQL engine with one asyncpg pool per event loop.

    ``pool`` reads and writes the pool of the running loop; a loop without a
    pool opens a fresh connection per query or transaction, which is slow but
    correct. ``acquire_timeout`` bounds the wait for a pooled connection (and
    for giving one back), ``close_timeout`` the wait for a pool to close.
    Connect and statement timeouts live in ``config`` (asyncpg's ``timeout``,
    ``command_timeout`` and ``server_settings``).
    """

    def __init__(
        self,
        config: dict[str, Any],
        *,
        acquire_timeout: float = 5.0,
        close_timeout: float = 5.0,
        idle_lifetime: float = 300.0,
    ) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, Any] = {}
        self.acquire_timeout = acquire_timeout
        self.close_timeout = close_timeout
        self.idle_lifetime = idle_lifetime
        super().__init__(config=config)

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

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        """A transaction that always gives its connection back (see the module)."""
        return _Transaction(engine=self, allow_nested=allow_nested)

    def write_transaction(self) -> PostgresTransaction:
        """A read-committed transaction (joins the current one if any)."""
        return self.transaction()

    async def start_connection_pool(self, **kwargs: Any) -> None:
        """Open the running loop's pool; a pool already open is kept."""
        if self.pool is None:
            options = {"max_inactive_connection_lifetime": self.idle_lifetime, **kwargs}
            self.pool = await asyncpg.create_pool(**{**self.config, **options})

    async def close_connection_pool(self) -> None:
        """Close the running loop's pool, waiting at most ``close_timeout`` for
        connections in use; whatever is left then is terminated. Never raises."""
        pool = self.pool
        if pool is None:
            return
        self.pool = None
        try:
            await asyncio.wait_for(pool.close(), self.close_timeout)
        except Exception as exc:  # TimeoutError, or the close itself failed
            logger.warning("database pool did not close cleanly (%r); terminating it", exc)
            pool.terminate()

    async def acquire(self) -> tuple[Any, Any]:
        """``(pool, connection)``: a pooled connection of the running loop, or a
        new one (``pool`` is then None). Any failure to get one (refused, timed
        out, the database not accepting connections) raises
        :class:`DatabaseUnavailableError`."""
        pool = self.pool
        try:
            if pool is None:
                return None, await self.get_new_connection()
            return pool, await pool.acquire(timeout=self.acquire_timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                reason=f"no database connection came free within {self.acquire_timeout:g} s"
            ) from exc
        except Exception as exc:  # whatever stops a connection opening: no statement ran
            raise unavailable(exc) from exc

    async def give_back(self, pool: Any, connection: Any, *, broken: bool) -> None:
        """Return ``connection`` to ``pool`` (or close it); a broken one is
        terminated first, so the pool replaces it. Never raises."""
        if broken:
            with contextlib.suppress(Exception):  # a released proxy has no connection left
                connection.terminate()
        try:
            if pool is not None:
                await pool.release(connection, timeout=self.acquire_timeout)
            elif not broken:
                await asyncio.wait_for(connection.close(), self.close_timeout)
        except Exception as exc:  # asyncpg terminated it while resetting
            logger.debug("database connection dropped on release: %s", exc)
            with contextlib.suppress(Exception):
                connection.terminate()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection for statements outside a transaction (see :meth:`acquire`)."""
        pool, connection = await self.acquire()
        broken = False
        try:
            yield connection
        except BaseException as exc:
            broken = is_postgres_fault(exc)
            raise
        finally:
            await self.give_back(pool, connection, broken=broken)

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        async with self.connection() as connection:
            return await connection.fetch(query, *(args or []))

    async def _run_in_new_connection(self, query: str, args: Sequence[Any] | None = None) -> Any:
        async with self.connection() as connection:
            return await connection.fetch(query, *(args or []))

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        """Piccolo's, with connection-level failures as :class:`DatabaseUnavailableError`."""
        try:
            return await super().run_querystring(querystring, in_pool=in_pool)
        except Exception as exc:
            if is_postgres_fault(exc):
                raise unavailable(exc) from exc
            raise

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        """Piccolo's, with connection-level failures as :class:`DatabaseUnavailableError`."""
        try:
            return await super().run_ddl(ddl, in_pool=in_pool)
        except Exception as exc:
            if is_postgres_fault(exc):
                raise unavailable(exc) from exc
            raise


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, made to release its connection whatever happens.

    On exit the context variable is always reset and the connection always
    given back; a connection whose ROLLBACK failed is terminated, and that
    failure does not hide the error that caused the rollback.
    """

    engine: LoopLocalPostgresEngine

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self._pool, self.connection = await self.engine.acquire()
        self._broken = False
        try:
            self.transaction = self.connection.transaction()
            await self.transaction.start()
        except BaseException as exc:
            await self.engine.give_back(self._pool, self.connection, broken=True)
            if isinstance(exc, Exception) and is_postgres_fault(exc):
                raise unavailable(exc) from exc
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                await self._roll_back_quietly()
            elif not self._committed and not self._rolled_back:
                await self._commit()
        finally:
            try:
                self.engine.current_transaction.reset(self.context)
            finally:
                await self.engine.give_back(self._pool, self.connection, broken=self._broken)
        return exception is None

    async def _roll_back_quietly(self) -> None:
        """Roll back after an error; if that fails too, the connection is broken
        and the first error is the one that propagates."""
        if self._rolled_back:
            return
        try:
            await self.transaction.rollback()
            self._rolled_back = True
        except Exception as exc:
            self._broken = True
            logger.debug("rollback failed, dropping the connection: %s", exc)
        except BaseException:
            self._broken = True
            raise

    async def _commit(self) -> None:
        try:
            await self.transaction.commit()
            self._committed = True
        except BaseException as exc:
            fault = isinstance(exc, Exception) and is_postgres_fault(exc)
            self._broken = fault or not isinstance(exc, asyncpg.PostgresError)
            if fault:
                raise unavailable(exc) from exc
            raise
