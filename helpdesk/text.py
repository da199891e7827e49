"""Text helpers shared everywhere: folding case and Vietnamese diacritics for search,
and making header-like values one line."""

from __future__ import annotations

import unicodedata

_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ł": "l", "ø": "o", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics, so that "Đơn hàng" becomes "don hang".

    Combining marks are removed after NFD decomposition; letters that do not
    decompose (đ, ð, ł, ø, ß) are mapped explicitly. White space is collapsed.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().translate(_SPECIAL).split())


def normalize_email(address: str) -> str:
    """The stored form of an email address: trimmed and lower-cased."""
    return address.strip().lower()


_VIETNAMESE_ONLY = set(
    "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    "ĂÂĐÊÔƠƯẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ"
)


def detect_language(text: str) -> str:
    """``"vi"`` when ``text`` has letters only Vietnamese uses, else ``"en"``.

    A heuristic, good enough for routing: Vietnamese written without
    diacritics is taken for English.
    """
    sample = text[:4000]
    hits = sum(1 for ch in sample if ch in _VIETNAMESE_ONLY)
    return "vi" if hits >= 2 else "en"


# C0 controls (tab, CR and LF included), DEL, C1 controls (NEL included) and the
# Unicode line and paragraph separators: everything that can end or bend a line.
_LINE_BREAKERS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029], " ")


def clean_line(text: str) -> str:
    """``text`` as one line: every control character (C0 including tab, CR
    and LF, DEL, C1) and the Unicode line and paragraph separators become a
    space; nothing else changes, so the length stays the same.

    For header-like values (subjects, names, file names) that end up in mail
    headers and one-line displays. It does not trim, collapse spaces or
    check that anything is left.
    """
    return text.translate(_LINE_BREAKERS)
