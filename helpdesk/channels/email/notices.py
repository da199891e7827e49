"""The size notice: telling a sender, at most once, that their mail was too large.

A mail over the size limit is never parsed. :func:`read_headers` reads only
its header block, from the first :data:`HEADER_BYTES` bytes, tolerantly, for
the sender, the subject and the signs of machine-sent mail. The sender then
gets the ``too_large`` notice, in the language of the subject (Vietnamese when
there is none), unless the mail looks machine-sent, comes from one of our own
addresses, or the loop guard already let a notice of this kind go to the
address through the same mailbox within its window.

A mail under the size limit whose attachment is over the attachment limit is
refused after parsing, and gets the same notice (see
:func:`helpdesk.channels.email.ingest.file_parsed`).

Does not: answer a mail whose From address is missing or unreadable, or look
past the header block (a mail that only its body marks as machine-sent, such
as a bounce without its headers, is answered).
"""

from __future__ import annotations

import email.policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses

import msgspec

from helpdesk.channels.email import compose
from helpdesk.channels.email._loops import loop_reason
from helpdesk.channels.email._mime import Headers
from helpdesk.channels.email.loop_guard import claim_auto_reply, our_addresses
from helpdesk.channels.email.outbound import queue_notice
from helpdesk.db import transaction
from helpdesk.i18n import translator
from helpdesk.text import detect_language, normalize_email

HEADER_BYTES = 64 * 1024
"""How much of a rejected mail is read to find its header fields."""
NOTICE_KIND = "too_large"
_MB = 1024 * 1024


class MailHeaders(msgspec.Struct, frozen=True, kw_only=True):
    """What the header block of a mail that was not parsed says."""

    from_address: str | None = None
    subject: str = ""
    message_id: str = ""
    machine: str | None = None
    """Why the mail looks machine-sent (see :func:`loop_reason`), or None."""


def read_headers(raw: bytes) -> MailHeaders:
    """The sender, subject, Message-ID and loop signs of ``raw``; never raises.

    Only the first :data:`HEADER_BYTES` bytes are read; a header block cut
    there loses the fields after the cut.
    """
    head = raw[:HEADER_BYTES]
    try:
        msg = BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        headers = Headers(msg)
        from_address = _first_address(headers.first("from"))
        subject = headers.text("subject") or ""
        message_id = (headers.first("message-id") or "").strip()
        machine = loop_reason(headers, from_address, msg.get_content_type().lower())
    except Exception:  # a header block we cannot read: nobody to answer
        return MailHeaders()
    return MailHeaders(
        from_address=from_address, subject=subject, message_id=message_id[:998], machine=machine
    )


def _first_address(value: str | None) -> str | None:
    if not value:
        return None
    for _, address in getaddresses([" ".join(value.split())]):
        if "@" in address and " " not in address.strip():
            return normalize_email(address)
    return None


def notice_language(subject: str) -> str:
    """``vi`` or ``en`` from the subject of the mail; ``vi`` when it has none."""
    return detect_language(subject) if subject.strip() else "vi"


async def queue_size_notice(
    mailbox_id: int, ledger_id: int, headers: MailHeaders, *, limit_bytes: int
) -> int | None:
    """Queue the size notice about ledger row ``ledger_id``; its outbound id, or
    None when the sender gets none (see the module docstring).

    Joins the caller's transaction, so the ledger row and the notice are
    written together; the notice is sent after commit.
    """
    sender = headers.from_address
    if sender is None or headers.machine is not None or sender in await our_addresses():
        return None
    language = notice_language(headers.subject)
    _ = translator(language)
    subject, text = compose.render(
        NOTICE_KIND, language, subject=headers.subject.strip() or _("(no subject)"),
        limit_mb=f"{limit_bytes / _MB:.3g}",
    )  # fmt: skip
    async with transaction():
        if not await claim_auto_reply(mailbox_id, sender, NOTICE_KIND):
            return None
        return await queue_notice(mailbox_id, sender, NOTICE_KIND, ledger_id, subject, text)
