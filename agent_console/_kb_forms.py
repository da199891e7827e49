"""The knowledge-base editor's forms: posted fields to the services' Structs,
refusals to messages beside the fields, and the words of its codes.

A form is checked whole (:func:`agent_console._form_errors.convert_all`), so
every bad field is reported at once; the services' own refusals (a category
deleted meanwhile, a language already translated) are put beside the field
they are about. Messages are English msgids, translated where shown.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from litestar.datastructures import FormMultiDict

from agent_console._form_errors import GENERAL, FormInvalid, Message, convert_all, describe
from agent_console._forms import text
from agent_console._labels import N_
from helpdesk.errors import ConflictError, HelpdeskError, ValidationError, VersionConflictError
from knowledge_base.schemas import ArticleIn, ArticleUpdate, CategoryIn, CategoryUpdate

__all__ = [
    "ARTICLE_FIELDS",
    "CATEGORY_FIELDS",
    "LOCALES",
    "STATUSES",
    "article_in",
    "article_update",
    "category_in",
    "category_update",
    "errors_of",
    "short_when",
    "typed",
]

ARTICLE_FIELDS = ("title", "body", "category", "tags", "locale", "status")
CATEGORY_FIELDS = ("name_vi", "name_en", "position", "parent")
STATUSES = {"draft": N_("Draft"), "published": N_("Published")}
LOCALES = {"vi": N_("Vietnamese"), "en": N_("English")}
ALIASES = {
    "category_id": "category",
    "parent_id": "parent",
    "translation_of": GENERAL,
    "version": GENERAL,
}

VERSION_CONFLICT = N_(
    "Someone else saved this article while you were editing it. Your text is kept below; "
    "their version is shown beside it. Save again to replace theirs."
)
_SERVICE_FIELDS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^category \d+ does not exist"),
        "category",
        N_("This category does not exist any more."),
    ),
    (
        re.compile(r"already has a '\w+' version"),
        "locale",
        N_("This article already has a translation in this language."),
    ),
    (
        re.compile(r"^parent category \d+ does not exist"),
        "parent",
        N_("This category does not exist any more."),
    ),
    (
        re.compile(r"cannot be moved below itself"),
        "parent",
        N_("A category cannot be placed below itself or one of its subcategories."),
    ),
)
_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}


def typed(form: FormMultiDict, names: tuple[str, ...]) -> dict[str, str]:
    """The text fields ``names`` of ``form`` as typed (line ends made ``\\n``;
    NUL characters, which PostgreSQL cannot store, dropped)."""
    return {name: text(form, name).replace("\r\n", "\n").replace("\x00", "") for name in names}


def _tags(value: str) -> list[str]:
    return [t for t in value.replace(",", " ").split() if t]


def _optional_id(value: str) -> str | None:
    return value.strip() or None


def article_in(form: FormMultiDict, translation_of: int | None) -> ArticleIn:
    """A new article from the editor's form (every bad field reported at once)."""
    values = typed(form, ARTICLE_FIELDS)
    data: dict[str, Any] = {
        "title": values["title"].strip(),
        "body": values["body"],
        "locale": values["locale"] or "vi",
        "category_id": _optional_id(values["category"]),
        "tags": _tags(values["tags"]),
        "status": values["status"] or "draft",
        "translation_of": translation_of,
    }
    return convert_all(data, ArticleIn, ALIASES)


def article_update(form: FormMultiDict) -> ArticleUpdate:
    """A change to an article from the editor's form; its status is changed
    by the publish and unpublish buttons, not by this form."""
    values = typed(form, ARTICLE_FIELDS)
    data: dict[str, Any] = {
        "version": text(form, "version"),
        "title": values["title"].strip(),
        "body": values["body"],
        "category_id": _optional_id(values["category"]),
        "tags": _tags(values["tags"]),
    }
    return convert_all(data, ArticleUpdate, ALIASES)


def _category_data(form: FormMultiDict) -> dict[str, Any]:
    values = typed(form, CATEGORY_FIELDS)
    return {
        "name_vi": values["name_vi"].strip(),
        "name_en": values["name_en"].strip() or None,
        "parent_id": _optional_id(values["parent"]),
        "position": values["position"].strip() or "0",
    }


def category_in(form: FormMultiDict) -> CategoryIn:
    """A new category from the categories page."""
    return convert_all(_category_data(form), CategoryIn, ALIASES)


def category_update(form: FormMultiDict) -> CategoryUpdate:
    """A category's names, place and position from its row of the categories page."""
    return convert_all(_category_data(form), CategoryUpdate, ALIASES)


def errors_of(exc: HelpdeskError) -> dict[str, Message]:
    """The messages by field of a refused form (``GENERAL`` for the form as a whole)."""
    if isinstance(exc, FormInvalid):
        return exc.errors
    if isinstance(exc, VersionConflictError):
        return {GENERAL: (VERSION_CONFLICT, {})}
    if isinstance(exc, ValidationError | ConflictError):
        for pattern, field, msgid in _SERVICE_FIELDS:
            if pattern.search(exc.detail):
                return {field: (msgid, {})}
        return {GENERAL: describe(exc)}
    return {}


def short_when(value: datetime | None, locale: str, timezone: str) -> str:
    """A date and time to the minute in the viewer's zone: ``dd/mm/yyyy HH:MM``
    for Vietnamese readers, ``7 Dec 2026, 21:05`` in English."""
    if value is None:
        return ""
    pattern = _PATTERNS.get(locale, _PATTERNS["vi"])
    return format_datetime(value, pattern, tzinfo=ZoneInfo(timezone), locale=Locale.parse(locale))
