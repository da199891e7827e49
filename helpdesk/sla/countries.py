"""The countries whose public holidays a business calendar can follow, by name.

The list is the ``holidays`` library's (read from its registry, without
importing 250 country modules); names come from Babel's CLDR data in the
reader's language, with Vietnam first. :func:`resolve_country` turns what a
person typed or chose (``VN``, ``Vietnam``, ``Việt Nam``) into the ISO code
and refuses anything else: an unknown name is never guessed into another
country.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from babel import Locale
from holidays.registry import COUNTRIES

from helpdesk.errors import ValidationError

__all__ = ["FIRST", "UnknownCountryError", "country_choices", "resolve_country", "supported_codes"]

FIRST = "VN"
NAME_LOCALES = ("vi", "en")


class UnknownCountryError(ValidationError):
    """The text names no country whose holidays are known."""

    code = "unknown_country"

    def __init__(self, text: str) -> None:
        super().__init__(f"country: {text[:100]!r} is not a supported country", field="country")


@cache
def supported_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes the ``holidays`` library has holidays for."""
    return frozenset(entry[1] for entry in COUNTRIES.values())


def _library_names() -> dict[str, str]:
    return {entry[1]: entry[0] for entry in COUNTRIES.values()}


def _key(text: str) -> str:
    """Comparable form of a name: no accents, no case, letters and digits only."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed.casefold() if c.isalnum())


@cache
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every supported country in ``locale``'s language,
    Vietnam first, then by name."""
    territories = Locale.parse(locale if locale in NAME_LOCALES else "en").territories
    fallback = _library_names()
    names = {code: territories.get(code, fallback[code]) for code in supported_codes()}
    rest = sorted((c for c in names if c != FIRST), key=lambda c: (_key(names[c]), c))
    return tuple((code, names[code]) for code in [FIRST, *rest])


@cache
def _by_name() -> dict[str, str]:
    found: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for code, name in country_choices(locale):
            found.setdefault(_key(name), code)
    for code, name in _library_names().items():
        found.setdefault(_key(name), code)
    return found


def resolve_country(text: str) -> str | None:
    """The ISO code for ``text``: a supported code (any case) or a country's
    name in Vietnamese or English (accents and case ignored); None for empty
    text. Raises :class:`UnknownCountryError` for anything else."""
    value = text.strip()
    if not value:
        return None
    if len(value) == 2 and value.upper() in supported_codes():
        return value.upper()
    code = _by_name().get(_key(value))
    if code is None:
        raise UnknownCountryError(value)
    return code
