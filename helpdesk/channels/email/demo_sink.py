"""The demo mode's mail catcher: a small SMTP server on 127.0.0.1 that keeps every
mail it is given in the ``demo_mail`` table instead of delivering it.

Outbound mail in demo mode takes the real path (the ``outbound_mail`` row is
claimed, submitted over SMTP, marked sent with the server's answer, retried
on failure): only the server at the end is this sink, and the demo mailbox
(:func:`ensure_demo_mailbox`) points at it. The console shows what was caught
on ``/console/admin/outbox``.

The sink speaks just enough SMTP for :mod:`helpdesk.channels.email._smtp`
(EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no AUTH) and runs on
the event loop of the process, so it writes through the process's own
database pool. Does not: relay anything anywhere, or serve more than demo
volumes (a mail is read whole into memory, at most :data:`MAX_BYTES`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import logging
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import msgspec
from piccolo.columns import Column

from helpdesk.channels.email.tables import DemoMail, Mailbox
from helpdesk.clock import utcnow
from helpdesk.rows import stamp
from helpdesk.services.messages import sanitize_html

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_BYTES = 10 * 1024 * 1024
IDLE_SECONDS = 60.0
DEMO_ADDRESS = "hotro@hotro.example"
DEMO_NAME = "Demo mailbox (mail catcher)"


class _Envelope:
    def __init__(self) -> None:
        self.sender = ""
        self.recipients: list[str] = []


def _address(argument: str) -> str:
    """The address of ``FROM:<a@b> SIZE=1`` or ``TO:<a@b>``."""
    value = argument.split(":", 1)[1].strip() if ":" in argument else argument
    value = value.split(">", 1)[0].lstrip("<")
    return value.strip()[:320]


async def store_mail(sender: str, recipients: list[str], data: bytes) -> int:
    """Keep one caught mail; its id."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data)
    subject = str(headers.get("Subject", ""))
    rows = await DemoMail.insert(
        DemoMail(
            mail_from=sender[:998],
            recipients=", ".join(recipients),
            subject=subject[:2000],
            content=data.decode("utf-8", "replace"),
            received_at=utcnow(),
        )
    )
    return int(rows[0]["id"])


class DemoSink:
    """The catcher's server; :meth:`start` on the running loop, :meth:`stop` at the end."""

    def __init__(self, port: int = 0) -> None:
        self.requested_port = port
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on 127.0.0.1 (port 0: any free port); the port it listens on."""
        self._server = await asyncio.start_server(self._session, HOST, self.requested_port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        logger.info("demo mail catcher listening on %s:%s", HOST, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open sessions."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except Exception:
            logger.exception("demo mail catcher: session failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 helpdesk demo mail catcher ESMTP")
        envelope = _Envelope()
        while True:
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), IDLE_SECONDS)
            if not line:
                return
            verb, _, argument = line.decode("utf-8", "replace").strip().partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                say("221 Bye")
                await writer.drain()
                return
            if verb == "DATA":
                say(await self._data(reader, writer, envelope))
                envelope = _Envelope()
                continue
            say(self._command(verb, argument, envelope))

    @staticmethod
    def _command(verb: str, argument: str, envelope: _Envelope) -> str:
        if verb == "EHLO":
            return f"250-helpdesk.demo\r\n250-SIZE {MAX_BYTES}\r\n250-8BITMIME\r\n250 SMTPUTF8"
        if verb == "HELO":
            return "250 helpdesk.demo"
        if verb == "MAIL":
            envelope.sender, envelope.recipients = _address(argument), []
            return "250 2.1.0 Ok"
        if verb == "RCPT":
            envelope.recipients.append(_address(argument))
            return "250 2.1.5 Ok"
        if verb == "RSET":
            envelope.sender, envelope.recipients = "", []
            return "250 2.0.0 Ok"
        if verb == "NOOP":
            return "250 2.0.0 Ok"
        if verb == "STARTTLS":
            return "454 4.7.0 TLS not available in the demo mail catcher"
        return "502 5.5.2 Command not recognised"

    async def _data(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, envelope: _Envelope
    ) -> str:
        if not envelope.recipients:
            return "503 5.5.1 RCPT first"
        writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        await writer.drain()
        lines: list[bytes] = []
        size = 0
        while True:
            line = await asyncio.wait_for(reader.readline(), IDLE_SECONDS)
            if not line:
                raise ConnectionError("connection closed during DATA")
            if line in (b".\r\n", b".\n"):
                break
            size += len(line)
            if size <= MAX_BYTES:
                lines.append(line[1:] if line.startswith(b".") else line)
        if size > MAX_BYTES:
            return "552 5.3.4 Message too big for the demo mail catcher"
        mail_id = await store_mail(envelope.sender, envelope.recipients, b"".join(lines))
        return f"250 2.0.0 Ok: caught as demo mail {mail_id}"


async def ensure_demo_mailbox(port: int) -> int:
    """The demo mailbox, created if missing, sending through the catcher at ``port``.

    It has no IMAP server (nothing is fetched; see
    :func:`~helpdesk.channels.email.mailboxes.active_mailbox_ids`). Its SMTP
    settings are reset to the catcher on every start, so a changed port is followed.
    """
    smtp: dict[Column | str, Any] = {
        Mailbox.smtp_host: HOST, Mailbox.smtp_port: port, Mailbox.smtp_security: "plain",
        Mailbox.smtp_user: "", Mailbox.smtp_password: "",
    }  # fmt: skip
    row = await Mailbox.select(Mailbox.id).where(Mailbox.address == DEMO_ADDRESS).first()
    if row is not None:
        await Mailbox.update(smtp).where(Mailbox.id == row["id"])
        return int(row["id"])
    rows = await Mailbox.insert(
        Mailbox(name=DEMO_NAME, address=DEMO_ADDRESS, imap_host="", imap_port=993,
                imap_user="", imap_security="tls", smtp_host=HOST, smtp_port=port,
                smtp_security="plain", auto_acknowledge=True, active=True)
    )  # fmt: skip
    return int(rows[0]["id"])


class DemoMailRow(msgspec.Struct, frozen=True, kw_only=True):
    """A caught mail as listed on the outbox page."""

    id: int
    mail_from: str
    recipients: str
    subject: str
    received_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DemoMailRow:
        """From a ``demo_mail`` row (any columns beyond these are ignored)."""
        return cls(id=row["id"], mail_from=row["mail_from"], recipients=row["recipients"],
                   subject=row["subject"], received_at=stamp(row["received_at"]))  # fmt: skip


class DemoMailView(msgspec.Struct, frozen=True, kw_only=True):
    """A caught mail opened: its plain text and its HTML, sanitised (safe to show)."""

    mail: DemoMailRow
    text: str
    html: str


async def list_demo_mail(limit: int = 200) -> list[DemoMailRow]:
    """The latest caught mails, newest first (without their bodies)."""
    rows = await (
        DemoMail.select(
            DemoMail.id, DemoMail.mail_from, DemoMail.recipients, DemoMail.subject,
            DemoMail.received_at,
        )
        .order_by(DemoMail.id, ascending=False)
        .limit(limit)
    )  # fmt: skip
    return [DemoMailRow.from_row(row) for row in rows]


async def get_demo_mail(mail_id: int) -> DemoMailView | None:
    """One caught mail with its text and HTML bodies, or None."""
    row = await DemoMail.select().where(DemoMail.id == mail_id).first()
    if row is None:
        return None
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        str(row["content"]).encode("utf-8")
    )
    assert isinstance(parsed, EmailMessage)
    return DemoMailView(
        mail=DemoMailRow.from_row(row),
        text=_body(parsed, "plain"),
        html=sanitize_html(_body(parsed, "html")),
    )


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        return ""
