"""Typed rows of the email channel's tables, as its modules hand them to each other.

Built once where the row is read (``from_row``), with timestamps as aware
UTC; see :mod:`helpdesk.rows` for the core tables' rows and the rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.rows import as_utc, stamp


class OutboundRow(msgspec.Struct, frozen=True, kw_only=True):
    """A whole ``outbound_mail`` row (see :class:`~helpdesk.channels.email.tables.OutboundMail`)."""

    id: int
    case_id: int | None
    message_id: int | None
    """The reply this mail carries (a ``messages`` id), if any."""
    mailbox_id: int | None
    kind: str
    to_address: str
    internet_message_id: str
    """The mail's Message-ID header (the ``message_id`` column)."""
    subject: str
    body_text: str
    status: str
    attempts: int
    last_error: str
    claimed_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    server_reply: str
    next_attempt_at: datetime | None
    failed_at: datetime | None
    unknown_outcomes: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboundRow:
        """The mail of a row from ``OutboundMail.select()``."""
        return cls(
            id=row["id"],
            case_id=row["case"],
            message_id=row["message"],
            mailbox_id=row["mailbox"],
            kind=row["kind"],
            to_address=row["to_address"],
            internet_message_id=row["message_id"],
            subject=row["subject"],
            body_text=row["body_text"],
            status=row["status"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            claimed_at=as_utc(row["claimed_at"]),
            sent_at=as_utc(row["sent_at"]),
            created_at=stamp(row["created_at"]),
            server_reply=row["server_reply"],
            next_attempt_at=as_utc(row["next_attempt_at"]),
            failed_at=as_utc(row["failed_at"]),
            unknown_outcomes=row["unknown_outcomes"],
        )


class SendingMailbox(msgspec.Struct, frozen=True, kw_only=True):
    """What sending needs of a ``mailboxes`` row: its address and its SMTP server."""

    id: int
    name: str
    address: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SendingMailbox:
        """The sending side of a row from ``Mailbox.select()``."""
        return cls(
            id=row["id"],
            name=row["name"],
            address=row["address"],
            smtp_host=row["smtp_host"],
            smtp_port=row["smtp_port"],
            smtp_security=row["smtp_security"],
            smtp_user=row["smtp_user"],
            smtp_password=row["smtp_password"],
        )
