"""Read a database's schema, derive the one the table classes declare, and compare them.

A schema is a mapping of table names to :class:`TableShape`: the columns
(type, nullability, default) and the indexes. Types, defaults and indexes
are normalised so that the same schema reads the same on both engines'
terms: types in Piccolo's spelling (``VARCHAR(200)``, ``TIMESTAMPTZ``),
defaults as the SQL literal without PostgreSQL's casts, an index by its
columns, its uniqueness and, for the ones a migration named, its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from piccolo.columns import Column, ForeignKey, Serial
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table

from helpdesk.db import is_postgres


@dataclass(frozen=True)
class ColumnShape:
    """A column as both engines can tell it: type, nullability, default (None:
    none) and, for a foreign key, the table it references and what a delete
    there does (``"cases ON DELETE CASCADE"``)."""

    type: str
    nullable: bool
    default: str | None
    references: str | None = None

    def __str__(self) -> str:
        null = "NULL" if self.nullable else "NOT NULL"
        text = f"{self.type} {null} DEFAULT {self.default}"
        return f"{text} REFERENCES {self.references}" if self.references else text


@dataclass(frozen=True)
class IndexShape:
    """An index: its columns in order and whether it is unique."""

    columns: tuple[str, ...]
    unique: bool

    def __str__(self) -> str:
        kind = "UNIQUE " if self.unique else ""
        return f"{kind}({', '.join(self.columns)})"


@dataclass
class TableShape:
    """The columns of a table by name, and its indexes (see :func:`index_key`)."""

    columns: dict[str, ColumnShape] = field(default_factory=dict)
    indexes: dict[str, IndexShape] = field(default_factory=dict)


Schema = dict[str, TableShape]


@dataclass(frozen=True)
class SearchExtras:
    """What m0005 (and m0019) add for full-text search, which no table class declares."""

    tables: frozenset[str] = frozenset()
    columns: frozenset[tuple[str, str]] = frozenset()
    indexes: frozenset[tuple[str, str]] = frozenset()


SEARCH_EXTRAS_SQLITE = SearchExtras(
    tables=frozenset(
        {"kb_search", "kb_search_config", "kb_search_data", "kb_search_docsize", "kb_search_idx"}
        | {  # m0019's case search
            "case_search_fts",
            "case_search_fts_config",
            "case_search_fts_data",
            "case_search_fts_docsize",
            "case_search_fts_idx",
        }
    ),
    indexes=frozenset({("kb_articles", "ix_kb_articles_search")}),
)
"""The FTS5 table (and its shadow tables) and the covering index, on SQLite."""

SEARCH_EXTRAS_POSTGRES = SearchExtras(
    columns=frozenset({("kb_articles", "title_tsv"), ("kb_articles", "search_tsv")}),
    indexes=frozenset(
        {
            ("kb_articles", "ix_kb_articles_search_tsv"),
            ("case_search", "ix_case_search_doc_trgm"),  # m0019, with pg_trgm
            ("case_search", "ix_case_search_notes_trgm"),
        }
    ),
)
"""The generated ``tsvector`` columns and their GIN index, on PostgreSQL."""

_POSTGRES_TYPES = {
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "text": "TEXT",
    "boolean": "BOOLEAN",
    "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP",
    "json": "JSON",
    "jsonb": "JSONB",
    "bytea": "BYTEA",
    "tsvector": "TSVECTOR",
}

_POSTGRES_DELETE_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}

_CAST = re.compile(r"::[a-z][a-z ]*(\(\d+\))?(\[\])?$")


def normal_default(text: str | None) -> str | None:
    """A column default as SQL text without PostgreSQL's casts; None for none or NULL.

    Keywords are lower-cased; quoted strings are kept as they are.
    """
    if text is None:
        return None
    value = text.strip()
    while _CAST.search(value):
        value = _CAST.sub("", value).strip()
    if value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    if not value.startswith("'"):
        value = value.lower()
    return None if value == "null" else value


def index_key(name: str, shape: IndexShape, *, named: bool) -> str:
    """How an index is known in a schema: a name a migration chose, or
    ``unique(...)`` for the index behind a unique column (whose name each
    engine makes up)."""
    return name if named else f"unique({', '.join(shape.columns)})"


def declared_schema(tables: Iterable[type[Table]]) -> Schema:
    """The schema ``tables`` declare, for the engine they are bound to.

    Only indexes a column declares (``unique=True``, ``index=True``) are
    known to the classes; the migrations' own indexes are not.
    """
    schema: Schema = {}
    for table in tables:
        shape = TableShape()
        for column in table._meta.columns:
            name = column._meta.db_column_name
            shape.columns[name] = _declared_column(column)
            if column._meta.unique:
                index = IndexShape((name,), unique=True)
                shape.indexes[index_key("", index, named=False)] = index
            if column._meta.index:
                shape.indexes[f"{table._meta.tablename}_{name}"] = IndexShape((name,), False)
        schema[table._meta.tablename] = shape
    return schema


def _declared_column(column: Column) -> ColumnShape:
    column_type = column.column_type.upper()
    if isinstance(column, ForeignKey):
        column_type = column._foreign_key_meta.resolved_target_column.column_type.upper()
    if column_type == "SERIAL":
        column_type = "INTEGER"
    if isinstance(column, Serial) or column._meta.primary_key:  # a key has no default
        default = None
    else:
        default = normal_default(str(column.get_sql_value(column.get_default_value())))
    references = None
    if isinstance(column, ForeignKey):
        target = column._foreign_key_meta.resolved_references._meta.tablename
        references = f"{target} ON DELETE {column._foreign_key_meta.on_delete.value}"
    return ColumnShape(column_type, column._meta.null, default, references)


async def read_schema(engine: Engine[Any]) -> Schema:
    """The tables, columns and indexes of the database behind ``engine``
    (the primary keys' own indexes left out)."""
    if is_postgres(engine):
        return await _read_postgres(engine)
    return await _read_sqlite(engine)


async def _rows(engine: Engine[Any], sql: str, *args: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await engine.run_querystring(QueryString(sql, *args))
    return rows


async def _read_sqlite(engine: Engine[Any]) -> Schema:
    schema: Schema = {}
    tables = await _rows(
        engine,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    for row in tables:
        name = row["name"]
        shape = TableShape()
        for col in await _rows(engine, f'PRAGMA table_info("{name}")'):
            nullable = not (col["notnull"] or col["pk"])
            default = None if col["pk"] else normal_default(col["dflt_value"])
            shape.columns[col["name"]] = ColumnShape(col["type"].upper(), nullable, default)
        for fk in await _rows(engine, f'PRAGMA foreign_key_list("{name}")'):
            column = shape.columns[fk["from"]]
            references = f"{fk['table']} ON DELETE {fk['on_delete']}"
            shape.columns[fk["from"]] = replace(column, references=references)
        for index in await _rows(engine, f'PRAGMA index_list("{name}")'):
            if index["origin"] == "pk":
                continue
            info = await _rows(engine, f'PRAGMA index_info("{index["name"]}")')
            columns = tuple(i["name"] for i in sorted(info, key=lambda i: i["seqno"]))
            index_shape = IndexShape(columns, bool(index["unique"]))
            key = index_key(index["name"], index_shape, named=index["origin"] == "c")
            shape.indexes[key] = index_shape
        schema[name] = shape
    return schema


async def _read_postgres(engine: Engine[Any]) -> Schema:
    schema: Schema = {}
    column_rows = await _rows(
        engine,
        "SELECT table_name, column_name, data_type, character_maximum_length, "
        "is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )
    for col in column_rows:
        shape = schema.setdefault(col["table_name"], TableShape())
        column_type = _POSTGRES_TYPES.get(col["data_type"], col["data_type"].upper())
        if col["data_type"] == "character varying":
            column_type = f"VARCHAR({col['character_maximum_length']})"
        default = col["column_default"]
        if default is not None and default.startswith("nextval("):
            default = None
        shape.columns[col["column_name"]] = ColumnShape(
            column_type, col["is_nullable"] == "YES", normal_default(default)
        )
    foreign_keys = await _rows(
        engine,
        "SELECT source.relname AS table_name, a.attname AS column_name, "
        "target.relname AS target, c.confdeltype::text AS on_delete FROM pg_constraint c "
        "JOIN pg_class source ON source.oid = c.conrelid "
        "JOIN pg_class target ON target.oid = c.confrelid "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    for fk in foreign_keys:
        table_columns = schema[fk["table_name"]].columns
        column = table_columns[fk["column_name"]]
        action = _POSTGRES_DELETE_ACTIONS[fk["on_delete"]]
        table_columns[fk["column_name"]] = replace(
            column, references=f"{fk['target']} ON DELETE {action}"
        )
    constraints = await _rows(
        engine,
        "SELECT constraint_name, constraint_type FROM information_schema.table_constraints "
        "WHERE table_schema = current_schema() AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
    )
    kinds = {c["constraint_name"]: c["constraint_type"] for c in constraints}
    indexes = await _rows(
        engine,
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    )
    for index in indexes:
        kind = kinds.get(index["indexname"])
        if kind == "PRIMARY KEY":
            continue
        match = re.search(r"\((.*)\)\s*$", index["indexdef"])
        assert match, index["indexdef"]
        columns = tuple(part.strip().strip('"') for part in match.group(1).split(","))
        index_shape = IndexShape(columns, index["indexdef"].startswith("CREATE UNIQUE"))
        key = index_key(index["indexname"], index_shape, named=kind is None)
        schema.setdefault(index["tablename"], TableShape()).indexes[key] = index_shape
    return schema


def without_search_extras(schema: Schema, *, postgres: bool) -> tuple[Schema, list[str]]:
    """``schema`` without m0005's full-text search machinery, and what of it is missing."""
    extras = SEARCH_EXTRAS_POSTGRES if postgres else SEARCH_EXTRAS_SQLITE
    missing: list[str] = []
    result: Schema = {}
    for name in extras.tables:
        if name not in schema:
            missing.append(f"table {name}")
    for table, column in extras.columns:
        if column not in schema.get(table, TableShape()).columns:
            missing.append(f"column {table}.{column}")
    for table, index in extras.indexes:
        if index not in schema.get(table, TableShape()).indexes:
            missing.append(f"index {table}.{index}")
    for name, shape in schema.items():
        if name in extras.tables:
            continue
        result[name] = TableShape(
            columns={c: s for c, s in shape.columns.items() if (name, c) not in extras.columns},
            indexes={i: s for i, s in shape.indexes.items() if (name, i) not in extras.indexes},
        )
    return result, sorted(missing)


def differences(expected: Schema, actual: Schema, *, extra_indexes: bool = True) -> list[str]:
    """Every way ``actual`` differs from ``expected``, one readable line each.

    With ``extra_indexes`` false, indexes that ``actual`` has and ``expected``
    does not know are accepted if their columns exist (the migrations' own
    indexes, which no table class declares), except unique ones on a single
    column: a uniqueness the classes do not declare.
    """
    lines: list[str] = []
    for name in sorted(expected.keys() - actual.keys()):
        lines.append(f"table {name}: missing")
    for name in sorted(actual.keys() - expected.keys()):
        lines.append(f"table {name}: not expected")
    for name in sorted(expected.keys() & actual.keys()):
        want, got = expected[name], actual[name]
        for column in sorted(want.columns.keys() - got.columns.keys()):
            lines.append(f"column {name}.{column}: missing (expected {want.columns[column]})")
        for column in sorted(got.columns.keys() - want.columns.keys()):
            lines.append(f"column {name}.{column}: not expected ({got.columns[column]})")
        for column in sorted(want.columns.keys() & got.columns.keys()):
            if want.columns[column] != got.columns[column]:
                lines.append(
                    f"column {name}.{column}: expected {want.columns[column]}, "
                    f"found {got.columns[column]}"
                )
        for index in sorted(want.indexes.keys() - got.indexes.keys()):
            lines.append(f"index {name}.{index}: missing (expected {want.indexes[index]})")
        for index in sorted(got.indexes.keys() - want.indexes.keys()):
            shape = got.indexes[index]
            unknown = [c for c in shape.columns if c not in got.columns]
            if unknown:
                lines.append(f"index {name}.{index}: on unknown columns {unknown}")
            elif extra_indexes or (shape.unique and len(shape.columns) == 1):
                lines.append(f"index {name}.{index}: not expected ({shape})")
        for index in sorted(want.indexes.keys() & got.indexes.keys()):
            if want.indexes[index] != got.indexes[index]:
                lines.append(
                    f"index {name}.{index}: expected {want.indexes[index]}, "
                    f"found {got.indexes[index]}"
                )
    return lines
