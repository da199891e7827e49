"""Tables of the email channel: mailboxes, the inbound ledger, threading keys, outbound mail.

Exactly-once ingestion rests on two unique keys: ``(mailbox, uidvalidity, uid)``
in :class:`InboundMail` (this copy on this server was handled) and the
Message-ID in ``messages.external_id`` (this mail exists, whichever mailbox or
copy it came through).
"""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Case, Message, Team, register_tables


class Mailbox(Table, tablename="mailboxes"):
    """A support address: where mail is fetched (IMAP) and sent from (SMTP).

    Passwords are stored sealed (encrypted under a key derived from the
    secret key, see :mod:`helpdesk.channels.email.mailboxes`) and never
    returned by the API.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    address = Varchar(length=320, unique=True)
    team = ForeignKey(Team, null=True, default=None)
    imap_host = Varchar(length=255)
    imap_port = Integer(default=993)
    imap_security = Varchar(length=10, default="tls")
    imap_user = Varchar(length=320)
    imap_password = Text(default="")
    imap_folder = Varchar(length=255, default="INBOX")
    smtp_host = Varchar(length=255, default="")
    smtp_port = Integer(default=587)
    smtp_security = Varchar(length=10, default="starttls")
    smtp_user = Varchar(length=320, default="")
    smtp_password = Text(default="")
    auto_acknowledge = Boolean(default=True)
    active = Boolean(default=True)
    uidvalidity = BigInt(null=True, default=None)
    last_uid = BigInt(default=0)
    last_polled_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_error_at = Timestamptz(null=True, default=None)
    """When fetching last failed (``last_error`` is the technical detail)."""
    last_error_kind = Varchar(length=32, default="")
    """The plain-words category of that failure (:mod:`~helpdesk.channels.email.health`)."""
    smtp_sent_at = Timestamptz(null=True, default=None)
    """When the SMTP server last accepted a mail of this mailbox."""
    smtp_error_at = Timestamptz(null=True, default=None)
    smtp_error_kind = Varchar(length=32, default="")
    smtp_error = Text(default="")


class InboundMail(Table, tablename="inbound_mail"):
    """One fetched copy of a mail and what became of it.

    ``outcome``: ``message`` (stored), ``duplicate`` (Message-ID seen before),
    ``bounce`` (attached to the original case), ``ignored`` (loop guard or
    rate limit), ``quarantined`` (could not be parsed; raw kept).
    """

    id = Serial(primary_key=True)
    mailbox = ForeignKey(Mailbox, null=False)
    uidvalidity = BigInt()
    uid = BigInt()
    message_id = Varchar(length=998, default="")
    raw_sha256 = Varchar(length=64)
    size = Integer(default=0)
    outcome = Varchar(length=16)
    reason = Text(default="")
    case = ForeignKey(Case, null=True, default=None)
    message = ForeignKey(Message, null=True, default=None)
    attempts = Integer(default=1)
    received_at = Timestamptz(default=TimestamptzNow())


class ThreadKey(Table, tablename="thread_keys"):
    """A Message-ID that belongs to a case's thread: sent, received or referenced.

    A mail joins the case owning any of its own Message-ID, In-Reply-To or
    References, so a reply that arrives before its parent and the parent itself
    end in the same case.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    key = Varchar(length=998)


class OutboundMail(Table, tablename="outbound_mail"):
    """A mail we send: one row per reply or notice (see
    :mod:`helpdesk.channels.email.outbound` for what "sent once" promises).

    ``case`` is empty for a notice about a mail that opened no case (a mail
    over the size limit); such a notice carries its ``subject`` and
    ``body_text``, rendered when it was queued. Mails of a case are rendered
    when they are sent, and leave both empty.

    ``status``: ``pending`` (waiting for an attempt, due at
    ``next_attempt_at`` when set), ``sending`` (claimed at ``claimed_at``),
    ``sent`` (at ``sent_at``; ``server_reply`` is the server's answer to the
    data), ``failed`` (at ``failed_at``; ``last_error`` says why).
    ``last_error`` is the server's answer, or the local error, of the last
    failed attempt. ``unknown_outcomes`` counts attempts whose outcome stayed
    unknown (the sender died, or the answer to the data never came), each
    followed by a resend with the same Message-ID.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=True, default=None)
    message = ForeignKey(Message, null=True, default=None)
    mailbox = ForeignKey(Mailbox, null=True, default=None)
    kind = Varchar(length=16)
    to_address = Varchar(length=320)
    message_id = Varchar(length=998, unique=True)
    subject = Text(default="")
    body_text = Text(default="")
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    last_error = Text(default="")
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    server_reply = Text(default="")
    next_attempt_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)
    unknown_outcomes = Integer(default=0)
    bounced_at = Timestamptz(null=True, default=None)
    """When a delivery report said this sent mail did not arrive."""
    bounce_reason = Text(default="")


class DemoMail(Table, tablename="demo_mail"):
    """A mail caught by the demo mode's SMTP sink (:mod:`helpdesk.channels.email.demo_sink`)."""

    id = Serial(primary_key=True)
    mail_from = Varchar(length=998, default="")
    recipients = Text(default="")
    subject = Text(default="")
    content = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())


class AutoReplyLog(Table, tablename="auto_reply_log"):
    """When we last sent an automatic mail to an address, for the loop guard."""

    id = Serial(primary_key=True)
    mailbox = ForeignKey(Mailbox, null=True, default=None)
    address = Varchar(length=320)
    kind = Varchar(length=16)
    sent_at = Timestamptz(default=TimestamptzNow())


EMAIL_TABLES: tuple[type[Table], ...] = (
    Mailbox,
    InboundMail,
    ThreadKey,
    OutboundMail,
    AutoReplyLog,
    DemoMail,
)
register_tables(*EMAIL_TABLES)
