"""Delivery reports: RFC 3464 DSNs and the common non-standard bounces.

The aim is to tell which recipients failed and which of our messages bounced
(its Message-ID), so the caller can flag the address and the case. Nothing
here sends mail or touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from helpdesk.channels.email._addresses import clean_address
from helpdesk.channels.email._charset import decode_bytes, one_line, unfold
from helpdesk.channels.email._mime import (
    Headers,
    Msg,
    content_type,
    flatten,
    message_ids,
    param,
    payload_bytes,
    subparts,
)
from helpdesk.channels.email.schemas import Bounce, BouncedRecipient

_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery fail|failure notice|"
    r"returned mail|mail delivery (?:failed|failure|subsystem)|could not be delivered|"
    r"delivery has failed|không gửi được|không thể gửi|gửi thư không thành công",
    re.I,
)
_ADDRESS_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'=-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_RETURNED_MARKERS = re.compile(
    r"^(?:-{2,}.*(?:original message|copy of the message|returned message|message headers)"
    r"|Below this line is a copy|Original message headers|Return-Path:|Received:)",
    re.I | re.M,
)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]{1,900}>)", re.I | re.M)
_PARTS_LIMIT = 200
_DAEMONS = ("mailer-daemon", "postmaster")


def _parts(msg: Msg) -> Iterator[Msg]:
    """The parts of ``msg``, breadth first, without entering attached messages."""
    queue = [msg]
    seen = 0
    while queue and seen < _PARTS_LIMIT:
        part = queue.pop(0)
        seen += 1
        yield part
        if content_type(part).startswith("multipart/"):
            queue.extend(subparts(part) or [])


def _field_blocks(part: Msg) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part, names lower-cased."""
    parsed = subparts(part)
    if parsed is not None and content_type(part) == "message/delivery-status":
        return [{name.lower(): unfold(value) for name, value in Headers(b).items()} for b in parsed]
    # message/global-delivery-status is parsed as one message: read it as text instead.
    raw = b"".join(flatten(p, "\n") for p in parsed) if parsed else payload_bytes(part)
    text = decode_bytes(raw, "utf-8").replace("\r\n", "\n")
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        last = ""
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                last = name.strip().lower()
                fields[last] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _after_type(value: str | None) -> str | None:
    """``user@x`` from ``rfc822; user@x`` (the address-type prefix removed)."""
    if not value:
        return None
    return one_line(value.split(";", 1)[-1]).strip("<> ") or None


def _original_message_id(msg: Msg, text: str) -> str | None:
    for part in _parts(msg):
        ctype = content_type(part)
        if ctype not in _RETURNED_TYPES:
            continue
        inner = subparts(part)
        if inner:
            ids = message_ids(Headers(inner[0]).first("message-id"))
        else:
            ids = message_ids(_first_id_line(decode_bytes(payload_bytes(part), None)))
        if ids:
            return ids[0]
    ids = message_ids(_first_id_line(text))
    return ids[0] if ids else None


def _first_id_line(text: str) -> str | None:
    match = _MESSAGE_ID_LINE.search(text)
    return match.group(1) if match else None


def _from_dsn(msg: Msg, status_part: Msg, text: str) -> Bounce:
    blocks = _field_blocks(status_part)
    per_message = blocks[0] if blocks else {}
    recipients: list[BouncedRecipient] = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        raw = _after_type(block.get("final-recipient") or block.get("original-recipient"))
        address = clean_address(raw) if raw else None
        if address is None:
            continue
        status = _STATUS.search(block.get("status", ""))
        diagnostic = _after_type(block.get("diagnostic-code"))
        recipients.append(
            BouncedRecipient(
                address=address,
                action=(block.get("action") or "").strip().lower().split(" ")[0] or None,
                status=status.group(1) if status else None,
                diagnostic=diagnostic[:1000] if diagnostic else None,
            )
        )
    return Bounce(
        recipients=tuple(recipients),
        original_message_id=_original_message_id(msg, text),
        reporting_mta=_after_type(per_message.get("reporting-mta")),
        standard=True,
    )


def _heuristic(msg: Msg, headers: Headers, text: str, subject: str, exclude: set[str]) -> Bounce:
    failed_header = headers.first("x-failed-recipients")
    candidates: list[str] = []
    if failed_header:
        candidates = re.split(r"[\s,;]+", unfold(failed_header))
    else:
        marker = _RETURNED_MARKERS.search(text)
        candidates = _ADDRESS_IN_TEXT.findall(text[: marker.start() if marker else 8000][:8000])
    status = _STATUS.search(text[:8000])
    delayed = "delay" in subject.lower() and (status is None or status.group(1).startswith("4"))
    seen: list[str] = []
    for candidate in candidates:
        address = clean_address(candidate)
        local = address.split("@", 1)[0] if address else ""
        if address and address not in exclude and address not in seen and local not in _DAEMONS:
            seen.append(address)
    return Bounce(
        recipients=tuple(
            BouncedRecipient(
                address=address,
                action="delayed" if delayed else "failed",
                status=status.group(1) if status else None,
            )
            for address in seen[:50]
        ),
        original_message_id=_original_message_id(msg, text),
        standard=False,
    )


def find_bounce(
    msg: Msg,
    headers: Headers,
    *,
    text: str,
    subject: str,
    from_address: str | None,
    own_addresses: set[str],
) -> Bounce | None:
    """The delivery report carried by ``msg``, or None when it is not one.

    A standard DSN is a multipart/report with report-type delivery-status (or
    any message/delivery-status part). A non-standard bounce needs a strong
    signal: an X-Failed-Recipients field, a mailer-daemon/postmaster sender, or
    a bounce-like subject with an empty Return-Path. For those, recipients are
    read from X-Failed-Recipients or guessed from addresses in the text before
    the returned message (``own_addresses`` excluded), and may be incomplete.
    Read receipts (report-type disposition-notification) are not bounces.
    """
    top = content_type(msg)
    report_type = (param(msg, "report-type") or "").lower() if top == "multipart/report" else ""
    if report_type and report_type != "delivery-status":
        return None
    for part in _parts(msg):
        if content_type(part) in _STATUS_TYPES:
            return _from_dsn(msg, part, text)
    local = from_address.split("@", 1)[0] if from_address else ""
    return_path = unfold(headers.first("return-path") or "x").strip()
    strong = (
        headers.first("x-failed-recipients") is not None
        or local in ("mailer-daemon", "postmaster")
        or (return_path in ("<>", "") and _BOUNCE_SUBJECT.search(subject) is not None)
        or report_type == "delivery-status"
    )
    if not strong:
        return None
    return _heuristic(msg, headers, text, subject, own_addresses)
