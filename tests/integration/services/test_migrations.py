"""Migrations: applied once each, on a fresh database of either engine; re-running is a no-op."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from helpdesk import migrations
from helpdesk.db import bind_engine, create_engine, is_postgres, transaction
from helpdesk.migrations import migrate
from helpdesk.tables import OutboxEvent, SchemaMigration, all_tables
from tests.conftest import POSTGRES_URL, _with_database
from tests.factories import make_case


@pytest.fixture
async def fresh_engine(db_kind: str, tmp_path: Path) -> AsyncIterator[object]:
    """An engine on a brand-new, empty database (not the shared test database)."""
    if db_kind == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        bind_engine(engine)
        yield engine
        return
    name = f"helpdesk_fresh_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    engine = create_engine(_with_database(POSTGRES_URL, name))
    bind_engine(engine)
    try:
        yield engine
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def table_names(engine) -> set[str]:
    if is_postgres(engine):
        rows = await SchemaMigration.raw(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        )
    else:
        rows = await SchemaMigration.raw("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_migrate_twice_applies_everything_once(fresh_engine):
    every = [m.__name__.rsplit(".", 1)[-1] for m in migrations._migration_modules()]
    assert every
    assert every == sorted(every)

    first = await migrate(fresh_engine)
    tables_after_first = await table_names(fresh_engine)
    case = await make_case()  # data written between the runs must survive
    second = await migrate(fresh_engine)

    assert first == every
    assert second == []
    assert {t._meta.tablename for t in all_tables()} <= tables_after_first
    assert await table_names(fresh_engine) == tables_after_first
    applied = await SchemaMigration.select(SchemaMigration.name).order_by(SchemaMigration.name)
    assert [r["name"] for r in applied] == every
    assert await OutboxEvent.count() > 0
    assert case.id == 1


async def test_migrated_schema_enforces_one_event_per_stream_number(fresh_engine):
    await migrate(fresh_engine)
    await OutboxEvent.insert(OutboxEvent(stream="case:1", seq=1, type="t", payload={}))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with transaction():
            await OutboxEvent.insert(OutboxEvent(stream="case:1", seq=1, type="t", payload={}))
    assert await OutboxEvent.count() == 1


async def test_migrate_on_the_shared_test_database_is_a_no_op(db):
    from helpdesk.db import current_engine

    assert await migrate(current_engine()) == []
