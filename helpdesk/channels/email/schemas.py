"""What the email parser returns: frozen msgspec Structs, no database, no I/O.

Sequences are tuples so that a parsed mail really is immutable.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class ParsedAttachment(msgspec.Struct, frozen=True, kw_only=True):
    """One attached or inline file, with its bytes exactly as transfer-decoded.

    ``filename`` is never empty: a name is generated (``attachment-2.pdf``)
    when the sender gave none; it is a base name only, with no directory part.
    ``content_id`` is the Content-ID without angle brackets, as HTML refers to
    it (``cid:…``). message/rfc822 parts are kept whole as ``.eml`` files.
    """

    filename: str
    content_type: str
    content: bytes
    inline: bool
    content_id: str | None = None


class BouncedRecipient(msgspec.Struct, frozen=True, kw_only=True):
    """One recipient a delivery report is about."""

    address: str
    action: str | None = None
    """``failed``, ``delayed``, ``delivered``, ``relayed`` or ``expanded``."""
    status: str | None = None
    """The RFC 3463 status code, e.g. ``5.1.1``."""
    diagnostic: str | None = None


class Bounce(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery report (RFC 3464 DSN, or a non-standard bounce read heuristically)."""

    recipients: tuple[BouncedRecipient, ...]
    original_message_id: str | None
    """Message-ID of the message that bounced, from the returned message or headers."""
    reporting_mta: str | None = None
    standard: bool = True
    """False when read from a non-standard bounce: recipients may be incomplete."""

    @property
    def failed(self) -> tuple[str, ...]:
        """Addresses whose delivery failed for good."""
        return tuple(r.address for r in self.recipients if r.action == "failed")

    @property
    def permanent(self) -> bool:
        """True when at least one recipient failed with a permanent (5.x.x) status."""
        return any(
            r.action == "failed" and (r.status is None or r.status.startswith("5"))
            for r in self.recipients
        )


class ParsedMail(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the helpdesk reads from one inbound mail.

    Strings hold no NUL characters and no lone surrogates. Addresses are
    lower-cased ``local@domain``; malformed ones are left out. Message ids keep
    their angle brackets. ``text == visible_text + quoted_text`` always.
    """

    message_id: str
    message_id_generated: bool
    """True when the mail had no usable Message-ID and ``message_id`` was derived from its
    bytes (less the trace fields servers add on top: see
    :func:`helpdesk.channels.email.parse.generated_message_id`)."""
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_address: str | None
    from_name: str | None
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    x_original_to: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    visible_text: str
    quoted_text: str
    attachments: tuple[ParsedAttachment, ...]
    auto_submitted: bool
    loop_reason: str | None
    bounce: Bounce | None
    case_reference: int | None
    forwarded: bool
    defects: tuple[str, ...] = ()
    """What was odd about the mail (charset guesses, MIME defects), for logs and triage."""
