"""The PostgreSQL pool under broken connections, in process: a transaction
whose connection died gives it back (the leak behind hangs and ignored
SIGTERMs), a pool with every connection taken fails fast, and closing a pool
with a connection still in use ends within its timeout."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpdesk.db import (
    DatabaseLimits,
    bind_engine,
    close_pool,
    create_engine,
    start_pool,
    transaction,
)
from helpdesk.errors import DatabaseUnavailableError
from helpdesk.tables import Case

pytestmark = pytest.mark.postgres_only

LIMITS = DatabaseLimits(connect=2, acquire=1, statement=5, close=1)


@pytest.fixture
async def engine(postgres_url: str, db_kind: str) -> AsyncIterator[Any]:
    """An engine with a pool of two connections, closed at the end."""
    engine = create_engine(postgres_url, LIMITS)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        yield engine
    finally:
        await close_pool(engine)


def abort_like_a_protocol_error(connection: Any) -> None:
    """What asyncpg does after a protocol error (e.g. a FATAL message from a
    terminated backend arriving between statements): it aborts the connection
    without handing its holder back to the pool. Only the caller can."""
    connection._protocol.abort()


async def count_after_the_connection_died(engine: Any) -> None:
    async with transaction():
        abort_like_a_protocol_error(engine.current_transaction.get().connection)
        await Case.count()


async def test_a_transaction_whose_connection_died_gives_it_back(engine: Any) -> None:
    # More broken transactions than the pool has connections: any leak would
    # leave the pool empty and the next acquire would fail.
    for _ in range(5):
        with pytest.raises(DatabaseUnavailableError):
            await count_after_the_connection_died(engine)
        assert engine.current_transaction.get() is None
    assert await Case.count() >= 0
    async with transaction():
        assert await Case.count() >= 0


async def test_an_exhausted_pool_fails_fast_and_recovers(engine: Any) -> None:
    taken = [await engine.pool.acquire(), await engine.pool.acquire()]
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError, match="no database connection came free"):
        await Case.count()
    assert time.monotonic() - started < LIMITS.acquire + 1
    for connection in taken:
        await engine.pool.release(connection)
    assert await Case.count() >= 0


async def test_closing_a_pool_does_not_wait_for_a_connection_in_use(engine: Any) -> None:
    pool = engine.pool
    leaked = await pool.acquire()  # never given back
    started = time.monotonic()
    await close_pool(engine)
    assert time.monotonic() - started < LIMITS.close + 1
    assert pool.get_size() == 0  # the connection in use was terminated
    assert engine.pool is None
    with pytest.raises(Exception, match="released back to the pool"):
        await leaked.fetch("SELECT 1")
