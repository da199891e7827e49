"""Splitting what a mail says from what it quotes: reply history, signatures, forwards.

English and Vietnamese reply headers are recognised (Gmail, Outlook, Apple
Mail, Thunderbird), plus a few common European ones. Nothing is ever dropped:
the split is a cut, ``visible + quoted == text`` always holds.
"""

from __future__ import annotations

import re
import unicodedata

_ATTRIBUTION_START = re.compile(r"(?:On|Vào|Le|Am|El|Il|Op)\s", re.I)
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|đã viết|a écrit|schrieb|escribió|ha scritto|schreef)\s*:$", re.I
)
_ORIGINAL = re.compile(
    r"-{2,}\s*(?:original message|thư gốc|tin nhắn gốc|message d'origine|"
    r"ursprüngliche nachricht|mensaje original)\s*-{2,}",
    re.I,
)
_FORWARD = re.compile(
    r"(?:-{2,}[^-]{0,20}(?:forwarded message|chuyển tiếp|message transféré|"
    r"weitergeleitete nachricht|mensaje reenviado)[^-]{0,20}-{2,}"
    r"|begin forwarded message:|bắt đầu thư được chuyển tiếp:)",
    re.I,
)
_RULE = re.compile(r"_{10,}")
_FROM = re.compile(r"\*?(?:From|Từ|De|Von|Van)\s*:\*?\s*\S", re.I)
_SENT = re.compile(r"\*?(?:Sent|Date|Đã gửi|Ngày gửi|Ngày|Gửi|Envoyé|Gesendet|Enviado)\s*:", re.I)
_TO_OR_SUBJECT = re.compile(
    r"\*?(?:To|Subject|Đến|Tới|Gửi tới|Chủ đề|Tiêu đề|À|Objet|An|Betreff|Para|Asunto)\s*:",
    re.I,
)
_SUBJECT_FORWARD = re.compile(r"(?:\[[^\]]{0,40}\]\s*)*(?:fwd?|tt)\s*:", re.I)


# First characters (lower-cased) of every line that can start quoted matter.
_FIRST = frozenset("-_*ovlaeiftdb")


def _is_attribution(lines: list[str], i: int) -> bool:
    if not _ATTRIBUTION_START.match(lines[i].strip()):
        return False
    joined = ""
    for line in lines[i : i + 3]:
        joined = f"{joined} {line.strip()}".strip()
        if len(joined) > 500:
            return False
        if _ATTRIBUTION_END.search(joined):
            return True
    return False


def _is_header_block(lines: list[str], i: int) -> bool:
    if not _FROM.match(lines[i].strip()):
        return False
    following = [s for s in (line.strip() for line in lines[i + 1 : i + 8]) if s][:5]
    return any(_SENT.match(line) for line in following) and any(
        _TO_OR_SUBJECT.match(line) for line in following
    )


def _separator(lines: list[str], raw: list[str], i: int, seen_content: bool) -> str | None:
    """``"forward"``, ``"reply"`` or None for line ``i`` (already known to be a candidate)."""
    stripped = lines[i].strip()
    if _FORWARD.fullmatch(stripped):
        return "forward"
    if not seen_content:
        return None
    if raw[i].rstrip("\r") in ("-- ", "--"):
        return "reply"
    if _ORIGINAL.fullmatch(stripped) or _is_header_block(lines, i) or _is_attribution(lines, i):
        return "reply"
    if _RULE.fullmatch(stripped):
        following = next(
            (j for j in range(i + 1, min(len(lines), i + 4)) if lines[j].strip()), None
        )
        if following is not None and _is_header_block(lines, following):
            return "reply"
    return None


def _trailing_quote(lines: list[str]) -> int | None:
    """Where a trailing block of ``>`` lines (blank lines allowed) starts, with its attribution."""
    start = len(lines)
    while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith(">")):
        start -= 1
    cut = next((k for k in range(start, len(lines)) if lines[k].lstrip().startswith(">")), None)
    if cut is None:
        return None
    previous = next((k for k in range(cut - 1, -1, -1) if lines[k].strip()), None)
    if previous is not None:
        line = lines[previous].strip()
        if line.endswith(":") and len(line) < 300:
            cut = previous
    return cut if any(line.strip() for line in lines[:cut]) else None


def _find_cut(raw: list[str]) -> tuple[int | None, bool]:
    """(index of the first line of quoted matter, whether it is a forwarded block)."""
    # Vietnamese may arrive decomposed (NFD): match on NFC, which keeps line breaks.
    lines = unicodedata.normalize("NFC", "\n".join(raw)).split("\n")
    if len(lines) != len(raw):  # pragma: no cover - NFC never merges across a line break
        lines = [unicodedata.normalize("NFC", line) for line in raw]
    seen_content = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped:
            continue
        first = stripped[0].lower()
        if first in _FIRST:
            kind = _separator(lines, raw, i, seen_content)
            if kind is not None:
                return i, kind == "forward"
        if first != ">":
            seen_content = True
    return _trailing_quote(lines), False


def split_quoted(text: str) -> tuple[str, str]:
    """``(visible, quoted)``: the new part of a message and the history below it.

    The cut is made at the first of: a reply header ("On … wrote:", "Vào … đã
    viết:", a "From:/Sent:" or "Từ:/Đã gửi:" block, "-----Original
    Message-----"), a signature delimiter ("-- "), a forwarded-message marker,
    or else a trailing block of ``>``-quoted lines. Reply headers and
    signatures count only below some new text, so inline ("interleaved")
    replies stay visible as a whole. ``visible + quoted == text`` always; no
    white space is trimmed. A heuristic: unusual clients may not be split.
    """
    visible, quoted, _ = split_with_forward(text)
    return visible, quoted


def split_with_forward(text: str) -> tuple[str, str, bool]:
    """:func:`split_quoted`, plus whether the cut is at a forwarded-message marker."""
    raw_lines = text.split("\n")
    cut, forwarded = _find_cut(raw_lines)
    if cut is None:
        return text, "", False
    offset = sum(len(line) + 1 for line in raw_lines[:cut])
    return text[:offset], text[offset:], forwarded


def is_forwarded(subject: str, text: str) -> bool:
    """True when the subject starts with Fwd:/FW:/TT: or the text opens a forwarded block.

    A forwarded block inside quoted reply history does not count.
    """
    return is_forward_subject(subject) or split_with_forward(text)[2]


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts with Fwd:, FW: or TT: (after any ``[tags]``)."""
    return _SUBJECT_FORWARD.match(subject.strip()) is not None
