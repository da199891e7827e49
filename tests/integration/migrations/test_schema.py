"""A fresh database migrated to head has exactly the schema the table classes
declare, on both engines; and every migration is frozen (it never uses a
live table class, so changing one cannot change what an old step does)."""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
from typing import Any

from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.db import is_postgres
from helpdesk.migrations import migrate, migration_names
from helpdesk.tables import all_tables
from tests.integration.migrations.schema import (
    ColumnShape,
    IndexShape,
    declared_schema,
    differences,
    read_schema,
    without_search_extras,
)

LIVE_TABLE_MODULES = ("helpdesk.idempotency", "helpdesk.installed")
"""Modules that define or gather live tables without ``tables`` in their name."""


async def test_fresh_database_at_head_has_the_declared_schema(
    fresh_engine: Engine[Any],
) -> None:
    # Given an empty database, when it is migrated to head
    applied = await migrate(fresh_engine)
    assert applied == migration_names()

    # Then its tables, columns, unique columns and indexes are the declared ones
    actual, search_missing = without_search_extras(
        await read_schema(fresh_engine), postgres=is_postgres(fresh_engine)
    )
    expected = declared_schema(all_tables())
    problems = [f"full-text search: {m} missing" for m in search_missing]
    problems += differences(expected, actual, extra_indexes=False)
    assert not problems, (
        "the migrated schema differs from the table classes "
        f"({fresh_engine.engine_type}):\n  " + "\n  ".join(problems)
    )


def _imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _is_live_table_module(module: str) -> bool:
    parts = module.split(".")
    return "tables" in parts or any(
        module == live or module.startswith(f"{live}.") for live in LIVE_TABLE_MODULES
    )


def test_no_migration_imports_a_live_table_class() -> None:
    live = set(all_tables())
    problems: list[str] = []
    for name in migration_names():
        module = importlib.import_module(f"helpdesk.migrations.{name}")
        imported = sorted(m for m in _imported_modules(inspect.getsource(module)) if m)
        problems += [f"{name} imports {m}" for m in imported if _is_live_table_module(m)]
        for attribute, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Table) and value in live:
                problems.append(f"{name}.{attribute} is the live table {value.__qualname__}")
    assert not problems, "migrations must be frozen:\n  " + "\n  ".join(problems)


def test_the_frozen_check_would_catch_a_live_import() -> None:
    # A wrong value built from a right one: the check must not pass by chance.
    assert _is_live_table_module("helpdesk.tables")
    assert _is_live_table_module("helpdesk.channels.email.tables")
    assert _is_live_table_module("helpdesk.idempotency")
    assert not _is_live_table_module("helpdesk.migrations")
    source = "from helpdesk.channels.email.tables import OutboundMail\n"
    assert any(_is_live_table_module(m) for m in _imported_modules(source))


async def test_a_drift_is_reported_column_by_column(fresh_engine: Engine[Any]) -> None:
    # Given the declared schema and a copy drifted in four ways
    expected = declared_schema(all_tables())
    drifted = copy.deepcopy(expected)
    subject = drifted["cases"].columns["subject"]
    drifted["cases"].columns["subject"] = ColumnShape(subject.type, True, subject.default)
    del drifted["customer_emails"].columns["bounced_at"]
    drifted["outbound_mail"].indexes["ix_outbound_mail_to_address"] = IndexShape(
        ("to_address",), unique=True
    )
    del drifted["macros"]

    # Then each one is a line of its own
    assert differences(expected, drifted, extra_indexes=False) == [
        "table macros: missing",
        "column cases.subject: expected VARCHAR(500) NOT NULL DEFAULT '', "
        "found VARCHAR(500) NULL DEFAULT ''",
        "column customer_emails.bounced_at: missing (expected TIMESTAMPTZ NULL DEFAULT None)",
        "index outbound_mail.ix_outbound_mail_to_address: not expected (UNIQUE (to_address))",
    ]
