"""msgspec Structs in and out of the knowledge-base services (and the API).

Update Structs follow :mod:`helpdesk.schemas`: a field left out is not
changed, a field sent as ``null`` is cleared.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.schemas import Id, Language, Tag, Tags, Version

Title = Annotated[str, Meta(min_length=1, max_length=300)]
Markdown = Annotated[str, Meta(max_length=200_000)]
CategoryName = Annotated[str, Meta(min_length=1, max_length=200)]
Position = Annotated[int, Meta(ge=0, le=1_000_000)]
SearchText = Annotated[str, Meta(max_length=200)]
SearchLimit = Annotated[int, Meta(ge=1, le=50)]
SearchOffset = Annotated[int, Meta(ge=0, le=1000)]


class ArticleStatus(StrEnum):
    """Who may read an article: staff only (draft) or everyone (published)."""

    DRAFT = "draft"
    PUBLISHED = "published"


# --- categories ---------------------------------------------------------------


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new category; without ``parent_id`` it is at the top of the tree.
    ``name_en`` may be left out: readers in English then see ``name_vi``."""

    name_vi: CategoryName
    name_en: CategoryName | None = None
    parent_id: Id | None = None
    position: Position = 0


class CategoryUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a category; a new ``parent_id`` may not be the category or one below it."""

    name_vi: CategoryName | UnsetType = UNSET
    name_en: CategoryName | UnsetType | None = UNSET
    parent_id: Id | UnsetType | None = UNSET
    position: Position | UnsetType = UNSET


class CategoryOut(msgspec.Struct, kw_only=True):
    """A category; ``depth`` is 0 at the top of the tree."""

    id: int
    name_vi: str
    name_en: str | None
    parent_id: int | None
    position: int
    depth: int


# --- articles -----------------------------------------------------------------


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new article. ``body`` is Markdown. With ``translation_of`` it joins that
    article's translations (one article per locale); its category and tags
    default to those of the article it translates."""

    title: Title
    body: Markdown = ""
    locale: Language = "vi"
    category_id: Id | None = None
    tags: Tags | None = None
    status: ArticleStatus = ArticleStatus.DRAFT
    translation_of: Id | None = None


class ArticleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to an article; ``version`` must be the version the caller last read.
    Each save keeps the previous title and body as a version."""

    version: Version
    title: Title | UnsetType = UNSET
    body: Markdown | UnsetType = UNSET
    category_id: Id | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET
    status: ArticleStatus | UnsetType = UNSET


class TranslationRef(msgspec.Struct, kw_only=True):
    """Another language of the same article."""

    id: int
    locale: str
    title: str
    status: ArticleStatus


class ArticleOut(msgspec.Struct, kw_only=True):
    """An article as staff see it. ``fallback`` is true when it was asked for in
    another locale that has no (visible) translation."""

    id: int
    group_id: int
    locale: str
    title: str
    body: str
    body_html: str
    status: ArticleStatus
    category_id: int | None
    tags: list[str]
    author_id: int | None
    updated_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    translations: list[TranslationRef]
    fallback: bool = False


class ArticleSummary(msgspec.Struct, kw_only=True):
    """An article in a list (without its body)."""

    id: int
    group_id: int
    locale: str
    title: str
    status: ArticleStatus
    category_id: int | None
    tags: list[str]
    author_id: int | None
    version: int
    updated_at: datetime
    published_at: datetime | None


class ArticleVersionOut(msgspec.Struct, kw_only=True):
    """A previous state of an article: its title and Markdown body at ``version``."""

    version: int
    title: str
    body: str
    editor_id: int | None
    created_at: datetime


class ArticleFilter(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Filters of the article list; ``category_id`` includes its subcategories."""

    status: ArticleStatus | None = None
    locale: Language | None = None
    category_id: Id | None = None
    tag: Tag | None = None


class PublicTranslationRef(msgspec.Struct, kw_only=True):
    """Another language of a published article."""

    id: int
    locale: str
    title: str


class PublicArticleOut(msgspec.Struct, kw_only=True):
    """A published article as anyone may read it."""

    id: int
    group_id: int
    locale: str
    title: str
    body_html: str
    category_id: int | None
    tags: list[str]
    updated_at: datetime
    published_at: datetime | None
    translations: list[PublicTranslationRef]
    fallback: bool = False


# --- search -------------------------------------------------------------------


class SearchQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What to search for. ``q`` is matched case- and diacritics-insensitively,
    every word required, the last one as a prefix while it is being typed.
    With ``locale``, articles of that language are searched, and those of the
    other language only where no translation to ``locale`` can be read."""

    q: SearchText
    locale: Language | None = None
    category_id: Id | None = None
    status: ArticleStatus | None = None
    limit: SearchLimit = 10
    offset: SearchOffset = 0


class SearchHit(msgspec.Struct, kw_only=True):
    """One article found. ``title_html`` and ``snippet_html`` are HTML-escaped
    text in which the matching words are wrapped in ``<mark>``."""

    id: int
    group_id: int
    locale: str
    title: str
    title_html: str
    snippet_html: str
    status: ArticleStatus
    category_id: int | None
    updated_at: datetime


class SearchResults(msgspec.Struct, kw_only=True):
    """A page of search results, best first; ``total`` counts every match."""

    items: list[SearchHit]
    total: int
    terms: list[str]


# --- feedback and deflection --------------------------------------------------

Comment = Annotated[str, Meta(max_length=2000)]
FormToken = Annotated[str, Meta(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A reader's answer to "Was this helpful?", with an optional comment."""

    helpful: bool
    comment: Comment = ""
    locale: Language = "vi"


class ArticleDeflection(msgspec.Struct, kw_only=True):
    """The numbers of one article in the deflection report."""

    article_id: int
    title: str
    shown: int
    read: int
    deflected: int
    helpful_yes: int
    helpful_no: int


class DeflectionReport(msgspec.Struct, kw_only=True):
    """How often suggested articles answered a question before a request was sent.

    Over the forms whose articles were suggested or read in ``[start, end)``:
    ``suggestions_shown`` and ``articles_read`` count (form, article) pairs;
    ``forms_with_reads`` the forms where an article was opened;
    ``submitted_after_reading`` those then sent anyway; ``deflected`` those not
    sent within ``window_minutes`` of the first article read; ``pending`` those
    still inside that window. ``helpful_yes``/``helpful_no`` count the answers
    given in the period. ``top_articles``: the most read articles, first.
    """

    start: datetime
    end: datetime
    window_minutes: int
    suggestions_shown: int
    articles_read: int
    forms_with_reads: int
    submitted_after_reading: int
    deflected: int
    pending: int
    helpful_yes: int
    helpful_no: int
    top_articles: list[ArticleDeflection]
