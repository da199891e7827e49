"""Migrations: applied once each, on a fresh database of either engine; re-running is a no-op.

The schema they build and the upgrade from every earlier step are tested in
``tests/integration/migrations/``.
"""

from __future__ import annotations

import pytest

from helpdesk.db import is_postgres, transaction
from helpdesk.migrations import migrate, migration_names
from helpdesk.tables import OutboxEvent, SchemaMigration, all_tables
from tests.factories import make_case
from tests.integration.migrations.conftest import empty_databases, fresh_engine

# The fixtures of tests/integration/migrations, which this module shares.
__all__ = ["empty_databases", "fresh_engine"]


async def table_names(engine) -> set[str]:
    if is_postgres(engine):
        rows = await SchemaMigration.raw(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        )
    else:
        rows = await SchemaMigration.raw("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_migrate_twice_applies_everything_once(fresh_engine):
    every = migration_names()
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


async def test_migrate_until_a_step_leaves_the_later_ones_pending(fresh_engine):
    every = migration_names()

    first = await migrate(fresh_engine, until=every[2])
    rest = await migrate(fresh_engine)

    assert first == every[:3]
    assert rest == every[3:]
    with pytest.raises(ValueError, match="m9999_unknown"):
        await migrate(fresh_engine, until="m9999_unknown")
