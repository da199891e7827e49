"""Lean SQL for the hottest writes.

Piccolo builds a Table instance and a query tree for every insert, which costs
more CPU than the database spends on the row. The few inserts on the path of
every new case and message go through :func:`insert` instead: one plain
``INSERT … RETURNING`` with bound parameters, portable between SQLite and
PostgreSQL. JSON values are encoded here; Piccolo's adapters convert the rest.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.table import Table

_encode = msgspec.json.Encoder().encode
_cache: dict[tuple[str, tuple[str, ...], str], str] = {}


def _statement(table: type[Table], columns: tuple[str, ...], returning: str) -> str:
    key = (table._meta.tablename, columns, returning)
    statement = _cache.get(key)
    if statement is None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("{}" for _ in columns)
        statement = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'  # noqa: S608 - names come from our tables
        if returning:
            statement += f" RETURNING {returning}"
        _cache[key] = statement
    return statement


def _value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return _encode(value).decode()
    return value


async def insert(
    table: type[Table], values: dict[str, Any], returning: str = "id"
) -> list[dict[str, Any]]:
    """Insert one row of ``values`` (column name → value); the ``returning`` columns."""
    columns = tuple(values)
    rows: list[dict[str, Any]] = await table.raw(
        _statement(table, columns, returning), *(_value(v) for v in values.values())
    )
    return rows


async def insert_many(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Insert several rows with the same columns in one statement."""
    if not rows:
        return
    columns = tuple(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = "(" + ", ".join("{}" for _ in columns) + ")"
    statement = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ' + ", ".join(  # noqa: S608
        marks for _ in rows
    )
    await table.raw(statement, *(_value(row[c]) for row in rows for c in columns))
