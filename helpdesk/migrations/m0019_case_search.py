"""Case search: the ``case_search`` table, its trigram index, and its rows for every case.

Frozen at this step: the table and its indexes are plain SQL;
the backfill reads the source tables with plain SQL and composes each
document as :mod:`helpdesk.services.case_search` did at this step (folding
with :func:`helpdesk.text.fold`, a pure function).

* PostgreSQL: ``CREATE EXTENSION IF NOT EXISTS pg_trgm`` and GIN
  ``gin_trgm_ops`` indexes on ``doc`` and ``notes``. A server where the
  extension cannot be created (no contrib package, no right) keeps the table
  without them: search still works, by scanning.
* SQLite 3.34 or later: an external-content FTS5 table ``case_search_fts``
  with the trigram tokenizer, kept in step by triggers. Older builds: no
  FTS5 table (the search service checks the same version).

The backfill runs in batches of :data:`BATCH` cases and upserts, before the
index exists; the index is built over the filled table (FTS5 ``rebuild``;
``CREATE INDEX``). A run interrupted half-way is simply run again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from typing import Any

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from helpdesk.db import is_postgres
from helpdesk.migrations import create_index, reference
from helpdesk.text import fold

logger = logging.getLogger(__name__)

BATCH = 500
MAX_MESSAGE_CHARS = 4000


_TABLE = (
    'CREATE TABLE IF NOT EXISTS "case_search" ("id" INTEGER PRIMARY KEY NOT NULL, '
    "\"subject\" TEXT NOT NULL DEFAULT '', \"doc\" TEXT NOT NULL DEFAULT '', "
    "\"notes\" TEXT NOT NULL DEFAULT '')"
)
"""The table in plain SQL: the case id is the key, with no default (a Piccolo
``Integer`` key would get ``DEFAULT 0`` on PostgreSQL only)."""


_POSTGRES_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_case_search_doc_trgm ON case_search "
    'USING gin (doc "{schema}".gin_trgm_ops)',
    "CREATE INDEX IF NOT EXISTS ix_case_search_notes_trgm ON case_search "
    'USING gin (notes "{schema}".gin_trgm_ops)',
)

_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search_fts USING fts5("
    "doc, notes, content='case_search', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS case_search_fts_insert AFTER INSERT ON case_search BEGIN "
    "INSERT INTO case_search_fts (rowid, doc, notes) VALUES (new.id, new.doc, new.notes); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_fts_delete AFTER DELETE ON case_search BEGIN "
    "INSERT INTO case_search_fts (case_search_fts, rowid, doc, notes) "
    "VALUES ('delete', old.id, old.doc, old.notes); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_fts_update "
    "AFTER UPDATE OF doc, notes ON case_search BEGIN "
    "INSERT INTO case_search_fts (case_search_fts, rowid, doc, notes) "
    "VALUES ('delete', old.id, old.doc, old.notes); "
    "INSERT INTO case_search_fts (rowid, doc, notes) VALUES (new.id, new.doc, new.notes); END",
)


async def apply(engine: Engine[Any]) -> None:
    """Create the table, write every case's document, then build the index over
    them (faster than keeping an index up to date row by row)."""
    await engine.run_ddl(_TABLE)
    await _backfill(engine)
    # Ranking reads the subject of every match: from this narrow index, not
    # the wide rows (on SQLite, a quarter of the time for a common word).
    await create_index(engine, reference("case_search"), ["id", "subject"])
    if is_postgres(engine):
        await _postgres_indexes(engine)
    elif sqlite3.sqlite_version_info >= (3, 34, 0):
        await engine.run_ddl(_SQLITE[0])
        # The rows written before the triggers: index them all (again, on a re-run).
        await engine.run_ddl("INSERT INTO case_search_fts (case_search_fts) VALUES ('rebuild')")
        for statement in _SQLITE[1:]:
            await engine.run_ddl(statement)


async def _postgres_indexes(engine: Engine[Any]) -> None:
    """The trigram indexes, with the operator class named by the extension's
    schema (``public`` when this creates it), whatever the ``search_path``."""
    try:
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except Exception:  # no contrib package, or no right to create it
        logger.warning("pg_trgm is not available: case search will scan without an index")
        return
    rows = await _rows(
        engine,
        "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
    )
    for statement in _POSTGRES_INDEXES:
        await engine.run_ddl(statement.format(schema=rows[0]["schema"]))


async def _rows(engine: Engine[Any], sql: str, *values: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await engine.run_querystring(QueryString(sql, *values))
    return result


def _marks(values: list[Any]) -> str:
    return ", ".join("{}" for _ in values)


async def _backfill(engine: Engine[Any]) -> None:
    last = 0
    while True:
        cases = await _rows(
            engine,
            'SELECT id, subject, tags, customer, organization FROM "cases" '
            "WHERE id > {} ORDER BY id LIMIT {}",
            last,
            BATCH,
        )
        if not cases:
            return
        await _index_batch(engine, cases)
        last = cases[-1]["id"]


async def _index_batch(engine: Engine[Any], cases: list[dict[str, Any]]) -> None:
    ids = [c["id"] for c in cases]
    customer_ids = sorted({c["customer"] for c in cases})
    customers = {
        r["id"]: r
        for r in await _rows(
            engine,
            f'SELECT id, name, phone, organization FROM "customers" WHERE id IN ({_marks(customer_ids)})',  # noqa: S608, E501
            *customer_ids,
        )
    }
    addresses: dict[int, list[str]] = defaultdict(list)
    for r in await _rows(
        engine,
        f'SELECT customer, address FROM "customer_emails" WHERE customer IN ({_marks(customer_ids)})',  # noqa: S608, E501
        *customer_ids,
    ):
        addresses[r["customer"]].append(r["address"])
    found = {c["organization"] for c in cases} | {c["organization"] for c in customers.values()}
    org_ids = sorted(found - {None}) or [-1]
    orgs = {
        r["id"]: r["name"]
        for r in await _rows(
            engine,
            f'SELECT id, name FROM "organizations" WHERE id IN ({_marks(org_ids)})',  # noqa: S608
            *org_ids,
        )
    }
    bodies: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for r in await _rows(
        engine,
        f'SELECT "case", kind, body_text FROM "messages" WHERE "case" IN ({_marks(ids)}) ORDER BY id',  # noqa: S608, E501
        *ids,
    ):
        bodies[r["case"]].append((r["kind"], r["body_text"] or ""))
    values: list[Any] = []
    for case in cases:
        values += [case["id"], *_document(case, customers, addresses, orgs, bodies[case["id"]])]
    marks = ", ".join("({}, {}, {}, {})" for _ in cases)
    await engine.run_querystring(
        QueryString(
            f"INSERT INTO case_search (id, subject, doc, notes) VALUES {marks} "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, doc = excluded.doc, "
            "notes = excluded.notes",
            *values,
        )
    )


def _document(
    case: dict[str, Any],
    customers: dict[int, dict[str, Any]],
    addresses: dict[int, list[str]],
    orgs: dict[int, str],
    messages: list[tuple[str, str]],
) -> tuple[str, str, str]:
    customer = customers.get(case["customer"]) or {"name": "", "phone": "", "organization": None}
    tags = case["tags"]
    if isinstance(tags, str):
        tags = json.loads(tags or "[]")
    phone = customer["phone"] or ""
    digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
    org_ids = sorted({case["organization"], customer["organization"]} - {None})
    head = [
        case["subject"],
        " ".join(tags or []),
        customer["name"],
        *addresses[case["customer"]],
        phone,
        digits,
        *(orgs[o] for o in org_ids if o in orgs),
    ]
    public = [body[:MAX_MESSAGE_CHARS] for kind, body in messages if kind != "note"]
    notes = [body[:MAX_MESSAGE_CHARS] for kind, body in messages if kind == "note"]
    return fold(case["subject"]), fold(" ".join([*head, *public])), fold(" ".join(notes))
