"""Charsets and encoded words: turning mail bytes and raw header text into clean ``str``.

Everything here is total: given any input it returns a value and never raises.
Strings it returns hold no NUL characters and no lone surrogates, so that they
can be stored in any database text column and encoded as UTF-8.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import quopri
import re

_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
}
# Python-only codecs that transform text rather than decode a charset.
_REFUSED = {"unicode-escape", "raw-unicode-escape", "undefined", "idna", "punycode", "charmap"}
_HIGH_BYTES = bytes(range(0x80, 0x100))
_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]+")
_ANY_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_META_CHARSET = re.compile(
    rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I
)

# --- charsets -------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or unsafe."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > 40:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
        b"a".decode(info.name)
    except Exception:  # any failure means "not a usable charset"
        return None
    return None if info.name in _REFUSED else info.name


@functools.lru_cache(maxsize=256)
def _single_byte(codec: str) -> bool:
    decoded = _HIGH_BYTES.decode(codec, "replace")
    return len(decoded) == len(_HIGH_BYTES) and decoded.count("\ufffd") < 32


@functools.lru_cache(maxsize=256)
def _ascii_compatible(codec: str) -> bool:
    sample = bytes(range(0x80))
    try:
        return sample.decode(codec) == sample.decode("ascii")
    except Exception:
        return False


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(data: bytes) -> bool:
    """True when most non-ASCII bytes form valid UTF-8 sequences (a damaged UTF-8 text).

    Bytes are counted, not characters: the bytes of valid multi-byte sequences
    against the bytes that fit no sequence. So ``Trước\\x80sau\\x80\\x80 hết``
    (8 good bytes, 3 bad: NULs that Dovecot served as 0x80) is UTF-8, while
    cp1252 text, whose accented letters are lone high bytes, is not.
    """
    decoded = data.decode("utf-8", "surrogateescape")
    bad = sum(len(run) for run in _SURROGATE_ESCAPES.findall(decoded))
    ascii_bytes = len(decoded.encode("ascii", "ignore"))  # surrogates are dropped too
    good = len(data) - ascii_bytes - bad
    return good > bad


def decode_bytes(data: bytes, label: str | None) -> str:
    """Text from ``data`` in the declared charset ``label``, best effort, never raising.

    The declared charset is used when Python knows it and the bytes decode in
    it, except that text labelled with a single-byte charset (latin-1, cp1252…)
    that is valid multi-byte UTF-8 is taken for UTF-8 (a common mislabelling).
    Otherwise UTF-8 is tried, then the declared charset with replacement, then
    cp1252 with replacement. VISCII and TCVN are not known to Python and so go
    through the same guessing.
    """
    codec = codec_for(label)
    if data.isascii() and (codec is None or _ascii_compatible(codec)):
        return data.decode("ascii")
    if codec is not None and codec != "utf-8":
        if not data.isascii() and _single_byte(codec) and _is_utf8(data):
            return data.decode("utf-8")
        try:
            return data.decode(codec)
        except Exception:  # noqa: S110 - fall through to guessing
            pass
    if _is_utf8(data):
        return data.decode("utf-8")
    if codec in (None, "utf-8", "ascii") and _mostly_utf8(data):
        return data.decode("utf-8", "replace")
    if codec not in (None, "utf-8", "ascii"):
        try:
            return data.decode(codec, "replace")
        except Exception:  # noqa: S110
            pass
    return data.decode("cp1252", "replace")


def sniff_html_charset(data: bytes) -> str | None:
    """The charset named by a ``<meta>`` tag near the start of an HTML document."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def scrub(text: str) -> str:
    """``text`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _ANY_SURROGATE.sub("\ufffd", text)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR line ends turned into LF; nothing else changes."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fix_surrogates(text: str) -> str:
    """Decode raw 8-bit bytes that the parser kept as surrogate escapes.

    Mail parsed from bytes keeps undeclared 8-bit header bytes as surrogates.
    Each run is decoded as UTF-8 when all runs are valid UTF-8, else as cp1252.
    """
    runs = [m.group().encode("utf-8", "surrogateescape") for m in _SURROGATE_ESCAPES.finditer(text)]
    if not runs:
        return scrub(text)
    codec = "utf-8" if all(_is_utf8(run) for run in runs) else "cp1252"

    def repl(match: re.Match[str]) -> str:
        return match.group().encode("utf-8", "surrogateescape").decode(codec, "replace")

    return scrub(_SURROGATE_ESCAPES.sub(repl, text))


def one_line(text: str) -> str:
    """Control characters removed and every run of white space (CR, LF too) made one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


# --- encoded words and raw headers ------------------------------------------------


def b_decode(text: str) -> bytes:
    """Base64 decoded leniently: stray characters skipped, missing padding added."""
    clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return binascii.a2b_base64(clean + "=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return text.encode("ascii", "replace")


def _q_decode(text: str) -> bytes:
    return quopri.decodestring(text.encode("utf-8", "surrogateescape"), header=True)


def unfold(value: str) -> str:
    """A raw header value with its folding removed."""
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (and raw 8-bit text) in a raw header value.

    Adjacent encoded words in the same charset are joined before decoding, so a
    character split across two words survives. The result is not yet
    whitespace-normalised.
    """
    value = unfold(value)
    pieces: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset is not None:
            pieces.append(decode_bytes(bytes(pending), pending_charset))
        pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (pending_charset is not None and between.isspace()):
            flush()
            pieces.append(fix_surrogates(between))
        charset = match.group(1).split("*", 1)[0].lower()
        data = b_decode(match.group(3)) if match.group(2) in "bB" else _q_decode(match.group(3))
        if charset != pending_charset:
            flush()
            pending_charset = charset
        pending.extend(data)
        pos = match.end()
    flush()
    pieces.append(fix_surrogates(value[pos:]))
    return scrub("".join(pieces))
