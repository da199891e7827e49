"""Text helpers shared by search everywhere: folding case and Vietnamese diacritics."""

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
