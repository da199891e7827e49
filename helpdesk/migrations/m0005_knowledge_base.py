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

Frozen: the tables of ``knowledge_base/tables.py`` as of commit d65d8f7
(feedback and deflection events came with m0008).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.db import is_postgres
from helpdesk.migrations import bind, create_index, reference

_Agent = reference("agents")


class KbCategory(Table, tablename="kb_categories"):
    id = Serial(primary_key=True)
    parent: ForeignKey[KbCategory] = ForeignKey(
        "self", null=True, default=None, on_delete=OnDelete.restrict
    )
    name_vi = Varchar(length=200)
    name_en = Varchar(length=200, null=True, default=None)
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class KbTranslationGroup(Table, tablename="kb_translation_groups"):
    id = Serial(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())


class KbArticle(Table, tablename="kb_articles"):
    id = Serial(primary_key=True)
    translation_group = ForeignKey(KbTranslationGroup, null=False)
    locale = Varchar(length=5, default="vi")
    category = ForeignKey(KbCategory, null=True, default=None, on_delete=OnDelete.restrict)
    status = Varchar(length=16, default="draft")
    version = Integer(default=1)
    title_words = Integer(default=0)
    body_words = Integer(default=0)
    author = ForeignKey(_Agent, null=True, default=None, on_delete=OnDelete.set_null)
    updated_by = ForeignKey(_Agent, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    tags = JSON(default=[])
    title = Varchar(length=300)
    search_title = Text(default="")
    body_text = Text(default="")
    search_body = Text(default="")
    body_md = Text(default="")
    body_html = Text(default="")


class KbArticleVersion(Table, tablename="kb_article_versions"):
    id = Serial(primary_key=True)
    article = ForeignKey(KbArticle, null=False)
    version = Integer()
    title = Varchar(length=300)
    body_md = Text(default="")
    editor = ForeignKey(_Agent, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class KbArticleTag(Table, tablename="kb_article_tags"):
    id = Serial(primary_key=True)
    article = ForeignKey(KbArticle, null=False)
    tag = Varchar(length=64)


TABLES: tuple[type[Table], ...] = (
    KbCategory,
    KbTranslationGroup,
    KbArticle,
    KbArticleVersion,
    KbArticleTag,
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
    bind(engine, *TABLES)
    for table in TABLES:
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
