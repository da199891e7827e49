"""MIME helpers for the parser: raw headers, ids, dates and parts.

Everything here is total: given any input it returns a value and never raises.
Strings it returns hold no NUL characters and no lone surrogates.
"""

from __future__ import annotations

import io
import mimetypes
import quopri
import re
import unicodedata
from datetime import UTC, datetime
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from email.utils import collapse_rfc2231_value, parsedate_to_datetime
from typing import Any, TypeAlias

from helpdesk.channels.email._charset import (
    b_decode,
    decode_words,
    fix_surrogates,
    one_line,
    scrub,
    unfold,
)

Msg: TypeAlias = "Message[Any, Any]"

_COMMENT = re.compile(r"\([^()]*\)")
_MSG_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]{1,900})>")
_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/rfc822-headers": ".txt",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "image/jpeg": ".jpg",
    "application/pgp-signature": ".asc",
}
_DECODABLE = frozenset({"base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"})
_MIME_DB = mimetypes.MimeTypes()  # built-in table only: the same answers on every machine
_SERIALIZE = email_policy.compat32.clone(max_line_length=0)


class Headers:
    """The raw header fields of one message, looked up case-insensitively, in order."""

    __slots__ = ("_fields",)

    def __init__(self, msg: Msg) -> None:
        fields: dict[str, list[str]] = {}
        try:
            items = list(msg.raw_items())
        except Exception:
            items = []
        for name, value in items:
            fields.setdefault(str(name).strip().lower(), []).append(str(value))
        self._fields = fields

    def __bool__(self) -> bool:
        return bool(self._fields)

    def names(self) -> set[str]:
        """The lower-cased names of the fields present."""
        return set(self._fields)

    def items(self) -> list[tuple[str, str]]:
        """(name, first raw value) for every field name present."""
        return [(name, values[0]) for name, values in self._fields.items()]

    def all(self, name: str) -> list[str]:
        """Every raw value of ``name``, in order."""
        return self._fields.get(name, [])

    def first(self, name: str) -> str | None:
        """The first raw value of ``name``, or None."""
        values = self._fields.get(name)
        return values[0] if values else None

    def text(self, name: str) -> str | None:
        """The first value of ``name`` decoded and made one line, or None when absent."""
        raw = self.first(name)
        return None if raw is None else one_line(decode_words(raw))


# --- ids, dates ---------------------------------------------------------------------


def message_ids(value: str | None) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order."""
    if not value:
        return []
    value = scrub(unfold(value))
    found = [f"<{token}>" for token in _MSG_ID.findall(value)]
    if not found:
        found = [f"<{t.strip('<>')}>" for t in value.split() if "@" in t and len(t) < 900]
        found = [t for t in found if _MSG_ID.fullmatch(t)]
    return list(dict.fromkeys(found))


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a Date value, or None when it is missing or invalid.

    A date without a usable zone (``-0000``) is taken to be UTC.
    """
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(" ".join(scrub(value).split()))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except Exception:  # any malformed date is "no date"
        return None


# --- parts -------------------------------------------------------------------------


def raw_header(part: Msg, name: str) -> str | None:
    """The first raw value of header ``name`` (lower-case) of ``part``, or None."""
    try:
        for key, value in part.raw_items():
            if key.lower() == name:
                return str(value)
    except Exception:
        return None
    return None


def content_type(part: Msg) -> str:
    """The lower-cased ``maintype/subtype`` of ``part``, as :meth:`Message.get_content_type`.

    Read from the raw field (the structured parser is slow and this is asked
    often): missing gives the part's default (text/plain, or message/rfc822
    inside multipart/digest); malformed gives text/plain.
    """
    raw = raw_header(part, "content-type")
    if raw is None:
        try:
            return str(part.get_default_type())
        except Exception:
            return "text/plain"
    words = _COMMENT.sub(" ", unfold(raw)).split(";", 1)[0].split()
    value = words[0].lower() if words else ""
    maintype, slash, subtype = value.partition("/")
    return value if slash and maintype and subtype and "/" not in subtype else "text/plain"


def param(part: Msg, name: str, header: str = "content-type") -> str | None:
    """A parameter of a Content-Type or Content-Disposition field, decoded, or None.

    Read with the compat32 parameter parser (RFC 2231 aware) from the raw field.
    """
    raw = raw_header(part, header)
    if raw is None:
        return None
    shadow = Message()
    shadow[header] = unfold(raw)
    try:
        value = shadow.get_param(name, header=header)
        if isinstance(value, tuple):
            value = collapse_rfc2231_value(value)
    except Exception:
        return None
    return None if value is None else fix_surrogates(str(value))


def disposition(part: Msg) -> str | None:
    """``"inline"``, ``"attachment"`` (or another token), or None when absent."""
    raw = raw_header(part, "content-disposition")
    if raw is None:
        return None
    token = unfold(raw).split(";", 1)[0].strip().lower()
    return token or None


def filename(part: Msg) -> str | None:
    """The decoded and sanitised filename of ``part``, or None when it has none.

    Content-Disposition ``filename`` first, then Content-Type ``name``. RFC 2231
    (``filename*=utf-8''…``, continuations) and RFC 2047 encoded words are
    decoded; the result is NFC-normalised and reduced to a base name.
    """
    name = param(part, "filename", "content-disposition") or param(part, "name")
    if not name:
        return None
    if "=?" in name:
        name = decode_words(name)
    return safe_filename(name)


def safe_filename(name: str) -> str | None:
    """``name`` as a harmless base name: no directories, controls or odd white space."""
    name = one_line(unicodedata.normalize("NFC", scrub(name)))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return None
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 200 - len(ext) - 1] + dot + ext if dot and len(ext) <= 16 else name[:200]
    return name


def extension_for(ctype: str) -> str:
    """A file extension for a content type, from a fixed table (``.bin`` when unknown)."""
    return _EXTENSIONS.get(ctype) or _MIME_DB.guess_extension(ctype) or ".bin"


def content_id(part: Msg) -> str | None:
    """The Content-ID without angle brackets, or None."""
    raw = raw_header(part, "content-id")
    if raw is None:
        return None
    value = one_line(scrub(unfold(raw))).strip("<> ")
    return value[:500] or None


def subparts(part: Msg) -> list[Msg] | None:
    """The parsed sub-messages of a multipart or message/* part; None for a leaf part."""
    if not part.is_multipart():
        return None
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def transfer_encoding(part: Msg) -> str:
    """The Content-Transfer-Encoding token of ``part``, lower-cased; ``""`` when absent.

    Comments, folding and white space around the token are ignored.
    """
    raw = raw_header(part, "content-transfer-encoding")
    words = _COMMENT.sub(" ", unfold(raw)).split() if raw else []
    return words[0].lower() if words else ""


def payload_bytes(part: Msg) -> bytes:
    """The transfer-decoded bytes of a leaf part (lenient base64 and quoted-printable).

    An encoding that :meth:`Message.get_payload` would miss because of white
    space, folding or a comment around it (``base64 ``) is decoded all the same.
    """
    raw: object = getattr(part, "_payload", None)  # what get_payload() would try to decode
    source = part
    cte = transfer_encoding(part)
    if isinstance(raw, str) and cte in _DECODABLE and _seen_encoding(part) != cte:
        source = Message()
        source["Content-Transfer-Encoding"] = cte
        source.set_payload(raw)
    try:
        data = source.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _seen_encoding(part: Msg) -> str | None:
    """The encoding as :meth:`Message.get_payload` reads it, or None when that fails."""
    try:
        return str(part.get("content-transfer-encoding", "")).lower()
    except Exception:
        return None


def flatten(msg: Msg, linesep: str) -> bytes:
    """``msg`` serialised as bytes, headers and bodies as they were received.

    Used for message/rfc822 parts. Header folding is kept; MIME boundaries and
    the end-of-line convention of the outer message are reproduced, so the
    result is byte-identical to the original in the common case, not always.
    """
    buffer = io.BytesIO()
    try:
        generator = BytesGenerator(buffer, mangle_from_=False, policy=_SERIALIZE)
        generator.flatten(msg, linesep=linesep)
    except Exception:
        try:
            return msg.as_string(policy=_SERIALIZE).encode("utf-8", "surrogateescape")
        except Exception:
            return b""
    return buffer.getvalue()


def decode_transfer(data: bytes, cte: str | None) -> bytes:
    """Undo a base64 or quoted-printable transfer encoding on ``data``, leniently."""
    cte = (cte or "").strip().lower()
    if cte == "base64":
        return b_decode(data.decode("ascii", "replace"))
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return data
