"""Words of the search index and of a query, made the same way for both engines.

Text is folded with :func:`helpdesk.text.fold` (lower case, no diacritics,
đ → d) and cut into words of letters and digits here, in Python, before it
reaches the database. The index then holds only plain words separated by
single spaces, which SQLite's FTS5 ``unicode61`` tokenizer and PostgreSQL's
``simple`` text-search configuration both split at the spaces and nowhere
else: the two engines see the same words, so they find the same articles.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from helpdesk.text import fold

MAX_WORD = 64  # longer words are cut: PostgreSQL ignores words over 2 KB, FTS5 does not
MAX_TERMS = 8  # words of a query beyond this are ignored
MIN_PREFIX = 2  # a last word shorter than this is matched whole, not as a prefix

_WORD = re.compile(r"[^\W_]+")


def _clean(word: str) -> str:
    """Keep letters and decimal digits only (PostgreSQL's parser drops e.g. ``²``)."""
    if word.isascii():
        return word[:MAX_WORD]
    kept = "".join(ch for ch in word if unicodedata.category(ch)[0] == "L" or ch.isdecimal())
    return kept[:MAX_WORD]


def words(text: str) -> list[str]:
    """The index words of ``text``: folded, letters and digits only, in order."""
    found = (_clean(word) for word in _WORD.findall(fold(text)))
    return [word for word in found if word]


def index_text(text: str) -> str:
    """``text`` as it is stored in the search columns: its words, space-separated."""
    return " ".join(words(text))


class Term(msgspec.Struct, frozen=True):
    """One word of a query; ``prefix`` matches every word that starts with it."""

    word: str
    prefix: bool = False


def parse_query(query: str) -> list[Term]:
    """The terms of a search box's text: every word must match.

    While the last word is being typed (the text does not end with white
    space) it is a prefix: "khach h" finds "khách hàng". A last word shorter
    than :data:`MIN_PREFIX` is then left out, since it would match almost
    anything, unless it is the only word. Repeated words count once; at most
    :data:`MAX_TERMS` words are kept. An empty list means there is nothing
    to search for.
    """
    typed = words(query)
    if not typed:
        return []
    typing = not query[-1:].isspace()
    last = typed[-1]
    if typing and len(last) < MIN_PREFIX and len(typed) > 1:
        typed, typing = typed[:-1], False
    found = list(dict.fromkeys(typed))[:MAX_TERMS]
    terms = [Term(word) for word in found]
    if typing and len(last) >= MIN_PREFIX and found[-1] == last and last not in typed[:-1]:
        terms[-1] = Term(last, prefix=True)
    return terms


def fts5_query(terms: list[Term], column: str | None = None) -> str:
    """The FTS5 ``MATCH`` expression of ``terms`` (all required), optionally in one column."""
    parts = " ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)
    return f"{column} : ({parts})" if column else parts


def tsquery(terms: list[Term]) -> str:
    """The PostgreSQL ``to_tsquery('simple', …)`` text of ``terms`` (all required)."""
    return " & ".join(t.word + (":*" if t.prefix else "") for t in terms)
