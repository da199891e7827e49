"""Highlighted titles and snippets of search results, as safe HTML.

The words of the original text (with its diacritics) that match the query's
folded terms are wrapped in ``<mark>``; everything else is HTML-escaped.
Each folded letter of a term becomes a character class of every letter that
folds to it (``d`` → ``[dđĐ…]``, ``a`` → ``[aàáảãạăắ…]``), so the pattern runs
on the original text and its positions are those of the original: "Đơn hàng"
is found by "don hang" and shown as ``<mark>Đơn</mark> <mark>hàng</mark>``.
Letters that fold to more than one letter (ß → ss) are not highlighted: the
highlighting is a help to the eye, the search itself does not depend on it.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from helpdesk.text import fold
from knowledge_base._terms import Term

SNIPPET_CHARS = 200  # about the length of a snippet
LEAD_CHARS = 50  # text kept before the first match of the window
MAX_MATCHES = 500
MAX_TEXT = 20_000  # a snippet is taken from the beginning of a long text only

_RANGES = (range(0x30, 0x7B), range(0xC0, 0x250), range(0x370, 0x530), range(0x1E00, 0x1F00))
_WORD_CHAR = r"[^\W_]"
_SPACE = re.compile(r"\s+")


def _letter_classes() -> dict[str, str]:
    """Folded letter → a regex class of every letter (either case) that folds to it."""
    found: dict[str, set[str]] = {}
    for block in _RANGES:
        for code in block:
            char = chr(code)
            folded = fold(char)
            if len(folded) == 1 and folded.isalnum():
                found.setdefault(folded, {folded}).add(char)
    return {
        letter: "[" + "".join(sorted(re.escape(c) for c in chars)) + "]"
        for letter, chars in found.items()
        if len(chars) > 1
    }


_CLASSES = _letter_classes()


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=256)
def _compiled(terms: tuple[Term, ...]) -> re.Pattern[str]:
    options = [
        f"(?P<t{n}>"
        + "".join(_CLASSES.get(ch, re.escape(ch)) for ch in term.word)
        + (f"{_WORD_CHAR}*" if term.prefix else "")
        + ")"
        for n, term in enumerate(terms)
    ]
    return re.compile(
        f"(?<!{_WORD_CHAR})(?:" + "|".join(options) + f")(?!{_WORD_CHAR})", re.IGNORECASE
    )


def _matches(text: str, terms: list[Term]) -> list[tuple[int, int, str]]:
    """Where the terms are in ``text``: (start, end, which term), in order."""
    if not terms:
        return []
    found: list[tuple[int, int, str]] = []
    for match in _compiled(tuple(terms)).finditer(text):
        found.append((match.start(), match.end(), match.lastgroup or ""))
        if len(found) >= MAX_MATCHES:
            break
    return found


def _marked(text: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    parts: list[str] = []
    cursor = start
    for first, last, _ in spans:
        if first < start or last > end:
            continue
        parts.append(html.escape(_SPACE.sub(" ", text[cursor:first])))
        parts.append(f"<mark>{html.escape(text[first:last])}</mark>")
        cursor = last
    parts.append(html.escape(_SPACE.sub(" ", text[cursor:end])))
    return "".join(parts)


def highlight(text: str, terms: list[Term]) -> str:
    """All of ``text``, escaped, with every matching word marked."""
    text = _nfc(text)
    return _marked(text, _matches(text, terms), 0, len(text))


def _best_start(spans: list[tuple[int, int, str]]) -> int:
    """The start of the match that begins the window with the most distinct
    terms, then the most matches (the earliest such window on a tie)."""
    best, best_score = 0, (-1, -1)
    right = 0
    for left, (first, _, _) in enumerate(spans):
        right = max(right, left)
        while right + 1 < len(spans) and spans[right + 1][1] - first <= SNIPPET_CHARS:
            right += 1
        window = spans[left : right + 1]
        score = (len({term for _, _, term in window}), len(window))
        if score > best_score:
            best, best_score = left, score
    return spans[best][0]


def snippet(text: str, terms: list[Term]) -> str:
    """About :data:`SNIPPET_CHARS` characters of ``text`` around its best
    matches, escaped, matches marked, cut at word boundaries, with "…" where
    text was left out. Without a match: the beginning of the text."""
    text = _nfc(text[:MAX_TEXT])
    spans = _matches(text, terms)
    anchor = _best_start(spans) if spans else 0
    start = max(0, anchor - LEAD_CHARS)
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and anchor - space <= LEAD_CHARS * 2 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space <= end + 30 else end
    body = _marked(text, spans, start, end).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return prefix + body + suffix
