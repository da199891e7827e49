"""Parsing one inbound mail into a :class:`ParsedMail`: pure, no database, no network."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from email import policy as email_policy
from email.parser import BytesParser
from typing import ClassVar, Literal, TypeVar

from helpdesk.channels.email._addresses import addresses
from helpdesk.channels.email._body import Body
from helpdesk.channels.email._html import html_to_text
from helpdesk.channels.email._loops import loop_reason
from helpdesk.channels.email._mime import (
    Headers,
    Msg,
    content_type,
    message_ids,
    parse_date,
)
from helpdesk.channels.email._policy import PARSE_POLICY
from helpdesk.channels.email.bounce import find_bounce
from helpdesk.channels.email.quoting import is_forward_subject, split_with_forward
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.domain import parse_case_reference
from helpdesk.errors import HelpdeskError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Largest mail accepted by default: a 25 MiB attachment, base64-encoded, with room to spare."""
DEFAULT_MAX_LINE_LENGTH = 1024 * 1024
"""Longest line accepted by default. RFC 5322 says 998; real mail sometimes has long HTML lines."""

Reason = Literal["too_large", "line_too_long", "empty", "not_a_message", "parser_error"]
T = TypeVar("T")

_MESSAGE_FIELDS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
        "in-reply-to", "references", "received", "return-path", "mime-version",
        "content-type", "delivered-to", "x-original-to",
    }
)  # fmt: skip
TRACE_FIELDS = frozenset(
    {
        "return-path", "received", "x-received", "received-spf", "authentication-results",
        "arc-seal", "arc-message-signature", "arc-authentication-results",
        "delivered-to", "x-delivered-to", "x-original-to", "envelope-to", "x-envelope-to",
        "x-envelope-from", "x-forwarded-to", "x-forwarded-for", "x-sieve",
        "x-sieve-redirected-from", "x-google-smtp-source",
    }
)  # fmt: skip
"""Header fields that servers add on the way (RFC 5321 trace fields, delivery and
authentication results, ARC sets), left out of a generated Message-ID."""
TRACE_PREFIXES = ("x-spam-", "x-virus-")
"""Name prefixes of the fields that spam and virus filters add, also left out."""
_FIELD_NAME = re.compile(rb"([!-9;-~]+):")
_CASE_REFERENCE = re.compile(r"(?:\[\s*#?\s*|#)(HD-[0-9]{1,12})(?![0-9])", re.I)
_MAX_DEFECTS = 50


class UnparseableMail(HelpdeskError):  # noqa: N818 - the name the callers know
    """The bytes are not a mail that can be read; the caller should quarantine them.

    ``reason`` is one of ``too_large``, ``line_too_long``, ``empty``,
    ``not_a_message`` and ``parser_error``.
    """

    code: ClassVar[str] = "unparseable_mail"
    status: ClassVar[int] = 422
    title: ClassVar[str] = "Mail could not be parsed"

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, reason=reason)
        self.reason: Reason = reason


def parse_mail(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
) -> ParsedMail:
    """Read one RFC 5322 mail from its bytes.

    Promises: any input either gives a :class:`ParsedMail` or raises
    :class:`UnparseableMail`, never another exception. Broken MIME, unknown or
    wrong charsets, bad base64 or quoted-printable and malformed headers are
    read as well as can be, and noted in ``defects``. Mail larger than
    ``max_bytes`` or with a line longer than ``max_line_length`` is refused
    before parsing, in time linear in its size. Bodies are decoded exactly:
    only line ends are normalised to ``\\n`` and NUL characters dropped (no
    database text column takes them); attachment bytes are untouched. The same
    bytes always give the same result, including the generated Message-ID of
    mail that has none.

    Does not: sanitise HTML (do that at display time with
    :func:`helpdesk.services.messages.sanitize_html`), unwrap format=flowed
    text, decode VISCII or TCVN (guessed as UTF-8 or cp1252), verify
    signatures (DKIM, S/MIME, PGP), decrypt, or check that addresses exist.
    The From address is what the sender claims. Text derived from HTML-only
    mail, the quote split and bounce recipients of non-standard bounces are
    heuristics.
    """
    data = bytes(raw)
    _check_limits(data, max_bytes, max_line_length)
    source = data.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    last_error: BaseException | None = None
    # PARSE_POLICY keeps most header fields raw (fast); plain compat32 is the last resort.
    for policy in (PARSE_POLICY, email_policy.compat32):
        try:
            msg: Msg = BytesParser(policy=policy).parsebytes(source)
        except Exception as exc:  # try the next policy
            last_error = exc
            continue
        headers = Headers(msg)
        if not headers.names() & _MESSAGE_FIELDS:
            raise UnparseableMail("not_a_message", "no RFC 5322 header field found")
        try:
            return _extract(data, msg, headers)
        except Exception as exc:  # try the next policy
            last_error = exc
    detail = type(last_error).__name__ if last_error else "unknown"
    raise UnparseableMail("parser_error", detail) from last_error


def _check_limits(data: bytes, max_bytes: int, max_line_length: int) -> None:
    if len(data) > max_bytes:
        raise UnparseableMail("too_large", f"{len(data)} bytes, limit {max_bytes}")
    if not data.strip():
        raise UnparseableMail("empty")
    if len(data) <= max_line_length:
        return
    for chunk in data.split(b"\n"):
        if len(chunk) > max_line_length and any(
            len(line) > max_line_length for line in chunk.split(b"\r")
        ):
            raise UnparseableMail("line_too_long", f"a line is over {max_line_length} bytes")


def generated_message_id(raw: bytes) -> str:
    """The Message-ID given to a mail that has none: ``<sha256 hex@helpdesk.invalid>``.

    The hash covers the mail's bytes exactly, except what the servers on the
    way put in front of it: a UTF-8 byte-order mark, blank lines, an mbox
    ``From`` line, and the leading run of trace fields (:data:`TRACE_FIELDS`,
    names starting with :data:`TRACE_PREFIXES`). So the same mail delivered
    to two mailboxes, or through two servers, gets the same id. The leading
    run ends at the first other field: DKIM signatures, the sender's headers
    and everything after them, trace fields included, are hashed. A mail
    without any of the leading extras gets the SHA-256 of all its bytes.

    Does not: see through servers that change the rest of the mail (line
    ends, re-encoded bodies, headers added at the bottom, list footers).
    """
    return f"<{hashlib.sha256(identity_bytes(raw)).hexdigest()}@helpdesk.invalid>"


def identity_bytes(raw: bytes) -> bytes:
    """``raw`` without the leading extras named in :func:`generated_message_id`."""
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    pos = data.find(b"\n") + 1 if data.startswith(b"From ") else 0  # an mbox envelope line
    while match := _FIELD_NAME.match(data, pos):
        name = match.group(1).decode("ascii").lower()
        if name not in TRACE_FIELDS and not name.startswith(TRACE_PREFIXES):
            break
        end = data.find(b"\n", pos)  # the field ends before a line not starting with WSP
        while end >= 0 and data[end + 1 : end + 2] in (b" ", b"\t"):
            end = data.find(b"\n", end + 1)
        if end < 0:  # no line end after it: not a header section to trim
            break
        pos = end + 1
    return data[pos:]


def _guarded(notes: list[str], section: str, compute: Callable[[], T], default: T) -> T:
    try:
        return compute()
    except Exception as exc:  # one bad section must not lose the mail
        notes.append(f"internal: {section}: {type(exc).__name__}")
        return default


def _case_reference(subject: str) -> int | None:
    for match in _CASE_REFERENCE.finditer(subject):
        case_id = parse_case_reference(match.group(1))
        if case_id:
            return case_id
    return None


def _extract(raw: bytes, msg: Msg, headers: Headers) -> ParsedMail:
    notes: list[str] = []
    ids = message_ids(headers.first("message-id"))
    subject = headers.text("subject") or ""

    def address_list(name: str) -> tuple[str, ...]:
        empty: list[tuple[str | None, str]] = []
        pairs = _guarded(notes, name, lambda: addresses(headers, name), empty)
        return tuple(address for _, address in pairs)

    no_senders: list[tuple[str | None, str]] = []
    senders = _guarded(notes, "from", lambda: addresses(headers, "from"), no_senders)
    from_name, from_address = senders[0] if senders else (None, None)
    to, cc = address_list("to"), address_list("cc")
    delivered_to, x_original_to = address_list("delivered-to"), address_list("x-original-to")

    body = Body("\r\n" if b"\r\n" in raw else "\n")
    body.visit(msg)
    html = body.html_text()
    text = body.text()
    if not text.strip() and html:
        text = _guarded(notes, "html", lambda: html_to_text(html), "")
    visible, quoted, forward_block = _guarded(
        notes, "quoting", lambda: split_with_forward(text), (text, "", False)
    )
    ctype = content_type(msg)
    own = {a for a in (*to, *cc, *delivered_to, *x_original_to, from_address) if a}
    bounce = _guarded(
        notes,
        "bounce",
        lambda: find_bounce(
            msg,
            headers,
            text=text,
            subject=subject,
            from_address=from_address,
            own_addresses=own,
        ),
        None,
    )
    reason = loop_reason(headers, from_address, ctype) or ("bounce" if bounce else None)
    return ParsedMail(
        message_id=ids[0] if ids else generated_message_id(raw),
        message_id_generated=not ids,
        in_reply_to=tuple(message_ids(" ".join(headers.all("in-reply-to")))),
        references=tuple(message_ids(" ".join(headers.all("references")))),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        reply_to=address_list("reply-to"),
        to=to,
        cc=cc,
        delivered_to=delivered_to,
        x_original_to=x_original_to,
        date=parse_date(headers.first("date")),
        text=text,
        html=html,
        visible_text=visible,
        quoted_text=quoted,
        attachments=tuple(body.attachments),
        auto_submitted=reason is not None,
        loop_reason=reason,
        bounce=bounce,
        case_reference=_case_reference(subject),
        forwarded=is_forward_subject(subject) or forward_block,
        defects=tuple((body.defects + notes)[:_MAX_DEFECTS]),
    )
