"""Finding who a note mentions: ``@`` followed by an agent's name or the local
part of their e-mail address, without regard to case or Vietnamese diacritics.

``@mai``, ``@Mai``, ``@Mai Nguyễn``, ``@mai nguyen`` and ``@mai.nguyen`` all
mention Mai Nguyễn (mai.nguyen@…), when no one else answers to the same
handle. At each ``@`` the longest handle that matches (at a word boundary)
wins; a handle shared by several agents (two agents named Mai) mentions no
one, rather than the wrong person. An ``@`` inside a word (an e-mail address
such as ``khach@mai.vn``) is not a mention.

Pure functions: the caller supplies the candidates and decides who may be told.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import msgspec

__all__ = ["Candidate", "find_mentions", "fold"]


class Candidate(msgspec.Struct, frozen=True):
    """An agent who may be mentioned."""

    id: int
    name: str
    email: str


def fold(text: str) -> str:
    """``text`` lower-cased, without diacritics (``đ`` becomes ``d``), spaces collapsed."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _handles(candidate: Candidate) -> set[str]:
    """Full name, each word of the name, and the e-mail's local part (folded)."""
    name = fold(candidate.name)
    handles = {name, *name.split()} if name else set()
    local = fold(candidate.email.partition("@")[0])
    if local:
        handles.add(local)
    return {handle for handle in handles if handle}


def _index(candidates: Iterable[Candidate]) -> dict[str, set[int]]:
    owners: dict[str, set[int]] = {}
    for candidate in candidates:
        for handle in _handles(candidate):
            owners.setdefault(handle, set()).add(candidate.id)
    return owners


def _at_boundary(text: str, end: int) -> bool:
    return end == len(text) or not (text[end].isalnum() or text[end] == "_")


def find_mentions(text: str, candidates: Iterable[Candidate]) -> set[int]:
    """The ids of the candidates that ``text`` mentions."""
    owners = _index(candidates)
    if not owners or "@" not in text:
        return set()
    folded = fold(text)
    by_length = sorted(owners, key=len, reverse=True)
    found: set[int] = set()
    for match in re.finditer("@", folded):
        start = match.end()
        if match.start() > 0 and (folded[match.start() - 1].isalnum()):
            continue  # inside a word: an e-mail address
        for handle in by_length:
            if folded.startswith(handle, start) and _at_boundary(folded, start + len(handle)):
                if len(owners[handle]) == 1:
                    found |= owners[handle]
                break
    return found
