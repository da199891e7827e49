"""Translations (Babel gettext catalogues) and the choice of language per request.

Source strings are English; ``helpdesk/locale/<lang>/LC_MESSAGES/messages.po``
holds each language. Catalogues are compiled in memory when first used, so
no compiled ``.mo`` file is ever out of date.

Templates and code get a translator bound to one locale::

    _ = translator("vi")
    _("Case number: %(ref)s", ref="HD-000001")
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from helpdesk.settings import SUPPORTED_LOCALES

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "vi"

Translator = Callable[..., str]


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of ``locale`` (English source strings when none)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def translator(locale: str) -> Translator:
    """A ``_`` function for ``locale``: ``_("text %(x)s", x=1)`` formats after translating."""
    catalog = translations(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)

    def translate(message: str, **values: Any) -> str:
        text: str = catalog.ugettext(message)
        return text % values if values else text

    return translate


def negotiate(
    accept_language: str | None, preferred: str | None = None, default: str = DEFAULT_LOCALE
) -> str:
    """The locale to use: an explicit choice (cookie, ``?lang=``), else the
    best match of the Accept-Language header, else ``default``."""
    if preferred in SUPPORTED_LOCALES:
        return preferred
    if accept_language:
        ranked: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            language = tag.split("-")[0].lower()
            if language in SUPPORTED_LOCALES:
                ranked.append((quality, language))
        if ranked:
            return max(ranked, key=lambda item: item[0])[1]
    return default


_WHEN_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
"""How people of each language write a moment: ``07/12/2026 19:18`` in
Vietnamese (day first, 24 hours), ``7 Dec 2026, 19:18`` in English."""


def format_when(value: datetime | str, locale: str, timezone: str) -> str:
    """A date and time for people: in their locale's usual form and their time zone
    (``value`` may be ISO 8601 text; naive means UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    pattern = _WHEN_PATTERNS.get(locale, _WHEN_PATTERNS["en"])
    return format_datetime(value, pattern, tzinfo=_zone(timezone), locale=Locale.parse(locale))


TZ_COOKIE = "helpdesk_tz"
"""The viewer's IANA time zone, set by the pages' script from the browser's own."""


def viewer_timezone(chosen: str | None, default: str) -> str:
    """``chosen`` (the viewer's time zone cookie) when it names an IANA zone, else ``default``."""
    if chosen and len(chosen) <= 64:
        try:
            _zone(chosen)
        except (ValueError, KeyError, OSError):
            return default
        return chosen
    return default


def format_number(value: float, locale: str) -> str:
    """A number with the locale's separators (``1.234,5`` in Vietnamese)."""
    return format_decimal(value, locale=Locale.parse(locale))


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
