"""Schema migrations, applied in name order, each once, on SQLite and PostgreSQL.

Why not Piccolo's migration framework: it finds its engine through a global
``piccolo_conf`` module, while the helpdesk binds its engine from settings at
start-up, and its auto-generated nullability changes fail on SQLite (see
``shared/STACK_NOTES.md``). Our migrations are small Python modules named
``mNNNN_*.py`` with an ``async def apply(engine)``; they use Piccolo's DDL for
tables and portable SQL for indexes, and stay additive.

Every migration is frozen: it describes the schema as it was at its own step,
with Piccolo table classes defined in the module itself (bound to the engine
it is given by :func:`bind`; earlier tables it points at through
:func:`reference`) or plain SQL, never the live classes of
``helpdesk.tables``, ``helpdesk.idempotency`` or a package's ``tables.py``.
Changing a live class therefore never changes what an old migration does,
and a fresh database and an upgraded one reach the same schema (checked by
``tests/integration/migrations``). A migration that adds a column uses
:func:`add_column_if_missing`: databases made by the unfrozen migrations of
earlier releases (which created tables from their then current classes) may
have it already.

This module promises that each migration runs at most once per database (the
``schema_migrations`` table), in name order; it does not run a migration in a
transaction (DDL is not transactional on every engine), so a migration that
fails half-way is run again from its start, and must be idempotent.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from piccolo.columns import Column, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table, create_table_class

from helpdesk.db import is_postgres


class SchemaMigration(Table, tablename="schema_migrations"):
    """The runner's own record of applied migrations (frozen, like every migration)."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    applied_at = Timestamptz(default=TimestamptzNow())


def migration_names() -> list[str]:
    """Every migration of the code base, in the order they apply."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name.startswith("m"))


def _migration_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def reference(tablename: str) -> type[Table]:
    """A stand-in for the table ``tablename`` that an earlier migration created.

    It knows the table's name and its serial ``id`` only: enough to point a
    foreign key at it, to index it, or to add a column to it (bound with
    :func:`bind`), and nothing else of its shape.
    """
    class_name = "".join(part.title() for part in tablename.split("_")) + "Reference"
    return create_table_class(class_name, class_kwargs={"tablename": tablename})


def bind(engine: Engine[Any], *tables: type[Table]) -> None:
    """Point the frozen ``tables`` of a migration at ``engine``."""
    for table in tables:
        table._meta.db = engine


async def migrate(engine: Engine[Any], *, until: str | None = None) -> list[str]:
    """Apply every pending migration, in name order; return the names applied now.

    With ``until``, stop after the migration of that name (applied now or
    before); migrations after it stay pending. Raises :class:`ValueError` for
    an unknown name.
    """
    names = migration_names()
    if until is not None:
        if until not in names:
            raise ValueError(f"no migration named {until!r}")
        names = names[: names.index(until) + 1]
    bind(engine, SchemaMigration)
    await SchemaMigration.create_table(if_not_exists=True)
    done = {row["name"] for row in await SchemaMigration.select(SchemaMigration.name)}
    applied: list[str] = []
    for name in names:
        if name in done:
            continue
        await _migration_module(name).apply(engine)
        await SchemaMigration.insert(SchemaMigration(name=name))
        applied.append(name)
    return applied


async def create_index(
    engine: Engine[Any], table: type[Table], columns: list[str], *, unique: bool = False
) -> None:
    """Create an index on ``columns`` of ``table`` if it does not exist yet.

    The index is named ``ix_<table>_<columns>``: an index of that name that
    exists already is kept as it is, whatever its columns.
    """
    tablename = table._meta.tablename
    name = f"ix_{tablename}_{'_'.join(columns)}"
    kind = "UNIQUE INDEX" if unique else "INDEX"
    cols = ", ".join(f'"{column}"' for column in columns)
    await engine.run_ddl(f'CREATE {kind} IF NOT EXISTS {name} ON "{tablename}" ({cols})')


async def column_exists(engine: Engine[Any], tablename: str, name: str) -> bool:
    """True when the table ``tablename`` of ``engine``'s database has a column ``name``."""
    if is_postgres(engine):
        rows = await engine.run_querystring(
            QueryString(
                "SELECT column_name AS name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = {}",
                tablename,
            )
        )
    else:
        rows = await engine.run_querystring(QueryString(f'PRAGMA table_info("{tablename}")'))
    return any(row["name"] == name for row in rows)


async def add_column_if_missing(
    engine: Engine[Any], table: type[Table], name: str, column: Column
) -> None:
    """Add ``column`` to ``table`` unless the database has a column of that name.

    A column of that name is kept as it is: its type, nullability and
    default are not checked.
    """
    if not await column_exists(engine, table._meta.tablename, name):
        await table.alter().add_column(name, column)
