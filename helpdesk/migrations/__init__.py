"""Schema migrations, applied in name order, each once, on SQLite and PostgreSQL.

Why not Piccolo's migration framework: it finds its engine through a global
``piccolo_conf`` module, while the helpdesk binds its engine from settings at
start-up, and its auto-generated nullability changes fail on SQLite (see
``shared/STACK_NOTES.md``). Our migrations are small Python modules named
``mNNNN_*.py`` with an ``async def apply(engine)``; they use Piccolo's DDL for
tables and portable SQL for indexes, and stay additive.

The first migration creates the tables from their current definitions, so a
later migration that adds a column must use :func:`add_column_if_missing`.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.db import is_postgres
from helpdesk.tables import SchemaMigration


def _migration_modules() -> list[ModuleType]:
    names = sorted(
        info.name for info in pkgutil.iter_modules(__path__) if info.name.startswith("m")
    )
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


async def migrate(engine: Engine[Any]) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    await SchemaMigration.create_table(if_not_exists=True)
    done = {row["name"] for row in await SchemaMigration.select(SchemaMigration.name)}
    applied: list[str] = []
    for module in _migration_modules():
        name = module.__name__.rsplit(".", 1)[-1]
        if name in done:
            continue
        await module.apply(engine)
        await SchemaMigration.insert(SchemaMigration(name=name))
        applied.append(name)
    return applied


async def create_index(
    engine: Engine[Any], table: type[Table], columns: list[str], *, unique: bool = False
) -> None:
    """Create an index on ``columns`` of ``table`` if it does not exist yet."""
    tablename = table._meta.tablename
    name = f"ix_{tablename}_{'_'.join(columns)}"
    kind = "UNIQUE INDEX" if unique else "INDEX"
    cols = ", ".join(f'"{column}"' for column in columns)
    await engine.run_ddl(f'CREATE {kind} IF NOT EXISTS {name} ON "{tablename}" ({cols})')


async def add_column_if_missing(
    engine: Engine[Any], table: type[Table], name: str, column: Column
) -> None:
    """Add ``column`` to ``table`` unless an earlier migration already created it."""
    tablename = table._meta.tablename
    if is_postgres(engine):
        rows = await table.raw(
            "SELECT 1 FROM information_schema.columns WHERE table_name = {} AND column_name = {}",
            tablename,
            name,
        )
    else:
        rows = [
            row
            for row in await table.raw(f'PRAGMA table_info("{tablename}")')
            if row["name"] == name
        ]
    if not rows:
        await table.alter().add_column(name, column)
