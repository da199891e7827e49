"""Piccolo tables of the knowledge base: categories, articles, their versions and tags.

An article is written in one language (``vi`` or ``en``); its translations
share a :class:`KbTranslationGroup`. ``search_title`` and ``search_body`` hold
the article's words folded (lower case, no diacritics) and separated by single
spaces, as :func:`knowledge_base._terms.index_text` makes them: the search
index of either engine is built from those two columns only (see
``helpdesk/migrations/m0005_knowledge_base.py``).
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Agent, register_tables


class KbCategory(Table, tablename="kb_categories"):
    """A category of articles; categories form a tree through ``parent``."""

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
    """The articles that are translations of one another (at most one per locale)."""

    id = Serial(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())


class KbArticle(Table, tablename="kb_articles"):
    """One article in one language. ``version`` counts its saves (optimistic locking)."""

    id = Serial(primary_key=True)
    translation_group = ForeignKey(KbTranslationGroup, null=False)
    locale = Varchar(length=5, default="vi")
    category = ForeignKey(KbCategory, null=True, default=None, on_delete=OnDelete.restrict)
    status = Varchar(length=16, default="draft")
    version = Integer(default=1)
    title_words = Integer(default=0)
    body_words = Integer(default=0)
    author = ForeignKey(Agent, null=True, default=None, on_delete=OnDelete.set_null)
    updated_by = ForeignKey(Agent, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    tags = JSON(default=[])
    title = Varchar(length=300)
    # The long texts last: SQLite reads a row's columns in order, following
    # overflow pages, so the columns that search filters and ranks on come first.
    search_title = Text(default="")
    body_text = Text(default="")
    search_body = Text(default="")
    body_md = Text(default="")
    body_html = Text(default="")


class KbArticleVersion(Table, tablename="kb_article_versions"):
    """A previous state of an article: what it was before the save that made ``version + 1``."""

    id = Serial(primary_key=True)
    article = ForeignKey(KbArticle, null=False)
    version = Integer()
    title = Varchar(length=300)
    body_md = Text(default="")
    editor = ForeignKey(Agent, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class KbArticleTag(Table, tablename="kb_article_tags"):
    """One tag of one article, for filtering (the article row keeps the list too)."""

    id = Serial(primary_key=True)
    article = ForeignKey(KbArticle, null=False)
    tag = Varchar(length=64)


class KbFeedback(Table, tablename="kb_feedback"):
    """One reader's answer to "Was this helpful?" about one article (anonymous)."""

    id = Serial(primary_key=True)
    article = ForeignKey(KbArticle, null=False, on_delete=OnDelete.cascade)
    helpful = Boolean(default=False)
    comment = Text(default="")
    locale = Varchar(length=5, default="vi")
    created_at = Timestamptz(default=TimestamptzNow())


class KbDeflectionEvent(Table, tablename="kb_deflection_events"):
    """What happened to one request form (``token``): articles suggested
    (``shown``) and opened (``read``), and the form ``submitted`` (no article)."""

    id = Serial(primary_key=True)
    token = Varchar(length=64)
    kind = Varchar(length=16)
    article = ForeignKey(KbArticle, null=True, default=None, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


KB_TABLES: tuple[type[Table], ...] = (
    KbCategory,
    KbTranslationGroup,
    KbArticle,
    KbArticleVersion,
    KbArticleTag,
    KbFeedback,
    KbDeflectionEvent,
)
register_tables(*KB_TABLES)
