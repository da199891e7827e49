"""Knowledge base: categories, articles, versions, tags, and the full-text index.

The index is built by the database from ``kb_articles.search_title`` and
``search_body`` (words already folded and space-separated by the service),
so both engines index the same words and stay in step with every write:

* PostgreSQL: two generated ``tsvector`` columns with the ``simple``
  configuration (``title_tsv`` for ranking, ``search_tsv`` for matching, with a
  GIN index), long values stored out of line so that the heap stays small;
* SQLite: an FTS5 table over the same two columns (external content, so the
  text is not stored twice) kept in sync by triggers, and a covering index of
  what search filters and ranks on.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.db import is_postgres
from helpdesk.migrations import create_index
from knowledge_base.tables import (
    KB_TABLES,
    KbArticle,
    KbArticleTag,
    KbArticleVersion,
    KbCategory,
)

_POSTGRES = (
    'ALTER TABLE "kb_articles" ADD COLUMN IF NOT EXISTS "title_tsv" tsvector '
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, \"search_title\")) STORED",
    'ALTER TABLE "kb_articles" ADD COLUMN IF NOT EXISTS "search_tsv" tsvector '
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, "
    '"search_title" || \' \' || "search_body")) STORED',
    'CREATE INDEX IF NOT EXISTS ix_kb_articles_search_tsv ON "kb_articles" '
    'USING GIN ("search_tsv")',
    # Keep the heap narrow: long values (bodies, ``search_tsv``) go out of line
    # while the short ``title_tsv`` that ranking reads for every match stays in.
    'ALTER TABLE "kb_articles" SET (toast_tuple_target = 128)',
    'ALTER TABLE "kb_articles" ALTER COLUMN "title_tsv" SET STORAGE MAIN',
)

_SQLITE = (
    # What search filters and ranks on, next to the id: the join from the FTS5
    # matches reads this small index instead of the wide article rows.
    "CREATE INDEX IF NOT EXISTS ix_kb_articles_search ON kb_articles "
    "(id, status, locale, translation_group, category, title_words, body_words)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_search USING fts5("
    "search_title, search_body, content='kb_articles', content_rowid='id', "
    "prefix='2 3', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS kb_articles_search_insert AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_search (rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER IF NOT EXISTS kb_articles_search_delete AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_search (kb_search, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER IF NOT EXISTS kb_articles_search_update "
    "AFTER UPDATE OF search_title, search_body ON kb_articles BEGIN "
    "INSERT INTO kb_search (kb_search, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO kb_search (rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
)


async def apply(engine: Engine[Any]) -> None:
    """Create the knowledge-base tables, their indexes and the search index."""
    for table in KB_TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, KbArticle, ["translation_group", "locale"], unique=True)
    await create_index(engine, KbArticle, ["category", "id"])
    await create_index(engine, KbArticle, ["status", "id"])
    await create_index(engine, KbArticleVersion, ["article", "version"], unique=True)
    await create_index(engine, KbArticleTag, ["article", "tag"], unique=True)
    await create_index(engine, KbArticleTag, ["tag", "article"])
    await create_index(engine, KbCategory, ["parent"])
    for statement in _POSTGRES if is_postgres(engine) else _SQLITE:
        await engine.run_ddl(statement)
