"""Structs of the email channel: what the parser returns (no database, no I/O),
and the delivery state of outbound mail as the API and the console show it.

Sequences are tuples so that a parsed mail really is immutable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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


class DeliveryState(StrEnum):
    """Where an outbound mail stands, as shown to people."""

    QUEUED = "queued"
    """Waiting for its first attempt."""
    SENDING = "sending"
    """An attempt is running."""
    UNKNOWN = "unknown"
    """The sender stopped mid-attempt (its claim expired): the server may or may
    not have the mail; it is about to be sent again with the same Message-ID."""
    RETRYING = "retrying"
    """An attempt failed; the next one is due at ``next_attempt_at``."""
    SENT = "sent"
    """The server accepted it (``sent_at``, ``server_reply``)."""
    FAILED = "failed"
    """Given up (``failed_at``, ``last_error``); the case has a note about it."""
    BOUNCED = "bounced"
    """Sent, then a delivery report said it did not arrive (``bounced_at``,
    ``bounce_reason``); the case has a note with the report."""


class OutboundMailOut(msgspec.Struct, frozen=True, kw_only=True):
    """One mail the helpdesk sends for a case, and its delivery state.

    "Sent" means the mail server we submit to accepted it, not that it reached
    the recipient's inbox: a later bounce that names its Message-ID turns it
    ``bounced``.
    """

    id: int
    case_id: int | None
    case_message_id: int | None
    """The reply this mail carries; null for automatic mails (acknowledgements, surveys, …)."""
    kind: str
    """``reply``, ``acknowledgement``, … (what made the mail)."""
    to_address: str
    internet_message_id: str
    """The mail's Message-ID header; the same on every attempt."""
    state: DeliveryState
    attempts: int
    created_at: datetime
    sending_since: datetime | None = None
    """When the running (or stopped) attempt began, for ``sending`` and ``unknown``."""
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    server_reply: str = ""
    """The server's answer that accepted the mail, e.g. ``250 2.0.0 Ok: queued as 4Xq``."""
    last_error: str = ""
    """The server's answer (or the local error) of the last failed attempt."""
    unknown_outcomes: int = 0
    """Attempts whose outcome stayed unknown, each followed by a resend with the same
    Message-ID: the recipient may hold up to this many extra copies."""
    bounced_at: datetime | None = None
    """When a delivery report said the sent mail did not arrive (state ``bounced``)."""
    bounce_reason: str = ""
