"""Fixtures of the migration tests: an engine on a brand-new, empty database.

On PostgreSQL "a brand-new database" is a new, empty schema of the test
server's database (``HELPDESK_TEST_POSTGRES_URL``), alone on the search path,
dropped at the end of the test: dropping a database costs seconds on a busy
server (a checkpoint), a schema does not. Nothing in the migrations, nor in
the queries the tests run, names a schema.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from piccolo.engine.base import Engine

from helpdesk import events
from helpdesk.db import bind_engine, close_pool, create_engine, is_postgres, start_pool
from helpdesk.migrations import migrate
from helpdesk.sla.tracking import track_event
from tests.integration.migrations.schema import Schema, read_schema

POSTGRES_URL = os.environ.get(
    "HELPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
"""The test server, as ``tests/conftest.py`` reads it (not imported from there,
so that type-checking these tests does not pull in the whole suite's helpers)."""


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _settle() -> None:
    """Wait (at most 5 s) for the tasks the SQLite engine left running on this
    loop (a WAL checkpoint every so many commits), so that none opens a
    connection after the engine was closed."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    if pending:
        await asyncio.wait(pending, timeout=5)


def _engine_in_schema(url: str, schema: str) -> Engine[Any]:
    """An engine whose connections see ``schema`` only (``search_path``)."""
    engine: Any = create_engine(url)
    settings = {**engine.config.get("server_settings", {}), "search_path": f'"{schema}"'}
    engine.config = {**engine.config, "server_settings": settings}
    result: Engine[Any] = engine
    return result


class EmptyDatabases:
    """Makes empty databases of one engine: SQLite files, or PostgreSQL schemas."""

    def __init__(self, db_kind: str, folder: Path, postgres_url: str | None) -> None:
        self.db_kind = db_kind
        self.folder = folder
        self.postgres_url = postgres_url
        self.schemas: list[str] = []

    async def engine(self) -> Engine[Any]:
        """An engine (not bound, no pool) on a new, empty database."""
        name = f"helpdesk_fresh_{uuid.uuid4().hex[:10]}"
        if self.postgres_url is None:
            return create_engine(f"sqlite:///{self.folder / f'{name}.db'}")
        try:
            await _admin(self.postgres_url, f'CREATE SCHEMA "{name}"')
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(f"PostgreSQL at {self.postgres_url} is not usable: {exc}")
        self.schemas.append(name)
        return _engine_in_schema(self.postgres_url, name)

    async def drop(self) -> None:
        """Drop the schemas made so far (SQLite files go with their folder)."""
        if self.postgres_url is not None:
            for name in self.schemas:
                await _admin(self.postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        self.schemas.clear()


@pytest.fixture
def empty_databases(db_kind: str, tmp_path: Path) -> EmptyDatabases:
    """A maker of empty databases of the engine under test."""
    return EmptyDatabases(db_kind, tmp_path, POSTGRES_URL if db_kind == "postgres" else None)


async def open_engine(engine: Engine[Any]) -> None:
    """Bind the live tables to ``engine`` and, on PostgreSQL, open a small
    pool (each statement would open a connection of its own otherwise)."""
    bind_engine(engine)
    await start_pool(engine, size=2)


async def shut_engine(engine: Engine[Any]) -> None:
    """Close what :func:`open_engine` opened, after the engine's own
    background work on this loop is done."""
    if not is_postgres(engine):
        await _settle()
    await close_pool(engine)


@pytest.fixture
async def fresh_engine(empty_databases: EmptyDatabases) -> AsyncIterator[Engine[Any]]:
    """An engine on a brand-new, empty database (not the shared test database),
    with the live tables bound to it, and the SLA clocks following the events
    (as in the app, whatever an earlier test left configured)."""
    engine = await empty_databases.engine()
    await open_engine(engine)
    events.configure(None, reactors=[track_event])
    try:
        yield engine
    finally:
        events.configure(None)
        await shut_engine(engine)
        await empty_databases.drop()


@pytest.fixture(scope="session")
def head_schema(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Schema:
    """The schema of an empty database migrated to head, read once per engine.

    Built on its own engine and event loop; the live tables are not rebound.
    """
    url = POSTGRES_URL if db_kind == "postgres" else None
    databases = EmptyDatabases(db_kind, tmp_path_factory.mktemp("head"), url)

    async def build() -> Schema:
        engine = await databases.engine()
        await start_pool(engine, size=2)
        try:
            await migrate(engine)
            return await read_schema(engine)
        finally:
            await shut_engine(engine)
            await databases.drop()

    return asyncio.run(build())
