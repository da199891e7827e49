"""One SMTP submission, split at the server's acceptance, with a hard time bound.

:func:`deliver` connects, authenticates and runs MAIL, RCPT and DATA, and
returns as soon as the server has answered the end of the data with 250, the
connection still open: the caller records the acceptance first and only then
calls :func:`finish` (QUIT). A failure of QUIT, or of anything after the 250,
cannot undo the acceptance.

Time bound (what the claim of :mod:`helpdesk.channels.email.outbound` rests
on), counted from ``started``, the moment the mail was claimed:

* every socket operation has :data:`SMTP_TIMEOUT` (sending the whole message
  is one ``sendall``, whose timeout is the total since Python 3.5);
* DATA is only begun before :data:`SETUP_LIMIT`; a slower session (a slow
  connect, build or login) is given up before any of the mail is sent;
* a watchdog shuts the socket down at :data:`SEND_LIMIT`, so no byte of the
  mail leaves after it, even against a server that trickles its replies.

Outcomes: :class:`Session` (accepted); an SMTP exception raised before the end
of the data was sent (the mail was certainly not accepted: temporary or
permanent by its code, see :func:`is_permanent`); :class:`OutcomeUnknown` (all
of the data was sent, no answer came: the server may have accepted it).
"""

from __future__ import annotations

import contextlib
import copy
import email.generator
import email.utils
import io
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from helpdesk.channels.email._rows import SendingMailbox
from helpdesk.channels.email.health import NotConfiguredError

SMTP_TIMEOUT = 30.0
"""Seconds allowed to each socket operation (connect, one reply, sending the message)."""

SETUP_LIMIT = 60.0
"""Seconds after the claim by which DATA must begin; later, the attempt stops unsent."""

SEND_LIMIT = SETUP_LIMIT + 3 * SMTP_TIMEOUT
"""Seconds after the claim at which the session is cut: DATA's 354, the message and
the final reply take at most one :data:`SMTP_TIMEOUT` each."""


class OutcomeUnknown(Exception):  # noqa: N818 - it is an outcome, not an error of ours
    """The whole message was sent but no answer came: it may have been accepted."""


class TooSlow(Exception):  # noqa: N818 - an outcome, like OutcomeUnknown
    """The session was not ready for DATA within :data:`SETUP_LIMIT`; nothing was sent."""


@dataclass
class Session:
    """An open connection whose server accepted the mail, and its answer to the data."""

    client: smtplib.SMTP
    reply: str
    watchdog: threading.Timer


def is_permanent(exc: BaseException) -> bool:
    """True for SMTP answers that no retry will change (5xx)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


def describe(exc: BaseException) -> str:
    """The server's answer in an SMTP error ("550 5.1.1 …"), else the error itself."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_text(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {_reply_text(code, text)}"
            for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, OutcomeUnknown | TooSlow):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def deliver(mailbox: SendingMailbox, message: EmailMessage, started: float) -> Session:
    """Submit ``message`` through the mailbox's SMTP server; the open :class:`Session`
    once the server accepted it. Blocking: run it in a thread.

    ``started`` is the :func:`time.monotonic` reading taken when the mail was
    claimed. Raises as described in the module docstring; the connection is
    closed whenever this raises.
    """
    client = _connect(mailbox)
    watchdog = threading.Timer(max(0.0, started + SEND_LIMIT - time.monotonic()), _cut, (client,))
    watchdog.daemon = True
    watchdog.start()
    try:
        if mailbox.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if mailbox.smtp_user:
            client.login(mailbox.smtp_user, mailbox.smtp_password)
        reply = _transaction(client, message, started)
    except BaseException:
        watchdog.cancel()
        client.close()
        raise
    return Session(client=client, reply=reply, watchdog=watchdog)


def finish(session: Session) -> None:
    """End the session politely (QUIT); any failure here is ignored, the mail
    having been accepted already."""
    session.watchdog.cancel()
    try:
        session.client.quit()
    except (smtplib.SMTPException, OSError):
        session.client.close()


def _connect(mailbox: SendingMailbox) -> smtplib.SMTP:
    host, port, security = mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security
    if not host:
        raise NotConfiguredError(f"mailbox {mailbox.id} has no SMTP server")
    if security == "tls":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    return smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)


def _cut(client: smtplib.SMTP) -> None:
    """The watchdog: shut the socket down, which ends any blocked read or write."""
    sock = client.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _transaction(client: smtplib.SMTP, message: EmailMessage, started: float) -> str:
    """MAIL, RCPT and DATA, as :meth:`smtplib.SMTP.send_message` does them, but
    returning the server's answer to the data."""
    client.ehlo_or_helo_if_needed()
    sender, recipients, data, options = _envelope(client, message)
    code, text = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, text, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, text = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, text)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    if time.monotonic() > started + SETUP_LIMIT:
        raise TooSlow(f"not ready to send within {SETUP_LIMIT:.0f} s; nothing was sent")
    return _data(client, data)


def _envelope(
    client: smtplib.SMTP, message: EmailMessage
) -> tuple[str, list[str], bytes, list[str]]:
    """Sender, recipients, wire bytes and MAIL options, as ``send_message`` derives them
    (Bcc removed; SMTPUTF8 when an address needs it and the server offers it)."""
    sender = email.utils.getaddresses([str(message["Sender"] or message["From"])])[0][1]
    fields = [str(v) for v in (message["To"], message["Cc"], message["Bcc"]) if v is not None]
    recipients = [address for _, address in email.utils.getaddresses(fields)]
    wire = copy.copy(message)
    del wire["Bcc"]
    international = not "".join([sender, *recipients]).isascii()
    if international and not client.has_extn("smtputf8"):
        raise smtplib.SMTPNotSupportedError(
            "an address needs SMTPUTF8, which the server does not offer"
        )
    with io.BytesIO() as buffer:
        policy: Any = message.policy  # an EmailPolicy: it has ``utf8``
        if international:
            policy = policy.clone(utf8=True)
        email.generator.BytesGenerator(buffer, policy=policy).flatten(wire, linesep="\r\n")
        data = buffer.getvalue()
    options = [f"size={len(data)}"] if client.does_esmtp and client.has_extn("size") else []
    if international:
        options += ["SMTPUTF8", "BODY=8BITMIME"]
    return sender, recipients, data, options


def _data(client: smtplib.SMTP, data: bytes) -> str:
    """DATA with the dot-stuffed message; the server's 250 answer as text.

    Raises :class:`OutcomeUnknown` when the whole message went out and the
    answer did not come back (connection lost or timed out).
    """
    code, text = client.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, text)
    payload = re.sub(rb"(?m)^\.", b"..", data)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    client.send(payload + b".\r\n")  # raises before the final dot is out, or not at all
    try:
        code, text = client.getreply()
    except smtplib.SMTPServerDisconnected as exc:
        raise OutcomeUnknown(f"the message was sent but no answer came: {exc}") from exc
    if code == -1:
        raise OutcomeUnknown(f"the message was sent but the answer was unreadable: {text!r}")
    if code != 250:
        raise smtplib.SMTPDataError(code, text)
    return _reply_text(code, text)


def _reply_text(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()
