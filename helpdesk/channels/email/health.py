"""The health of a mailbox: what went wrong last, in plain words, and a test connection.

* :func:`classify` maps an IMAP, SMTP, TLS or socket exception to an
  :class:`ErrorKind`, a category an admin can act on ("login refused",
  "server unreachable" …); the exception's text is kept as the technical detail.
* The IMAP ingester records each failure with :func:`record_fetch_error`
  (a successful fetch clears it, see :mod:`helpdesk.channels.email.imap`);
  the SMTP sender records each attempt with :func:`record_send`.
* :func:`check_imap` and :func:`check_smtp` log in to a server as configured
  (IMAP: login and select the folder; SMTP: EHLO, STARTTLS and AUTH as
  configured; no mail is sent), with a short timeout, and never raise.

Does not: retry, alert anyone, or keep a history (only the last success and
the last failure of each side are kept).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

import msgspec
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from piccolo.columns import Column

from helpdesk.channels.email.mailboxes import mailbox_password
from helpdesk.channels.email.tables import Mailbox
from helpdesk.clock import utcnow
from helpdesk.errors import NotFoundError
from helpdesk.policy import Action, Principal, require
from helpdesk.secret_keys import SealError

logger = logging.getLogger(__name__)

Side = Literal["imap", "smtp"]

CHECK_TIMEOUT = 8.0
"""Seconds allowed to each socket operation of a test connection."""
CHECK_LIMIT = 20.0
"""Seconds after which a test connection is reported as timed out, whatever it does."""


class ErrorKind(StrEnum):
    """What went wrong with a mail server, in words an admin can act on."""

    LOGIN_REFUSED = "login_refused"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    TIMEOUT = "timeout"
    FOLDER_MISSING = "folder_missing"
    REJECTED = "rejected"
    """The SMTP server refused a sender, recipient or the data (not the mailbox's fault)."""
    PROTOCOL = "protocol"
    NOT_CONFIGURED = "not_configured"
    PASSWORD_UNREADABLE = "password_unreadable"  # noqa: S105 - a category, not a secret
    """The stored password was sealed under another secret key."""
    OTHER = "other"


class FolderMissingError(IMAPClientError):  # type: ignore[misc]
    """The configured folder cannot be selected."""


class NotConfiguredError(Exception):
    """The mailbox has no server for this side."""


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to log in to one mail server (a password in clear: never shown)."""

    host: str
    port: int
    security: str
    user: str
    password: str = msgspec.field(default="")
    folder: str = "INBOX"


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a test connection: ``kind`` is None when it worked."""

    ok: bool
    kind: ErrorKind | None = None
    detail: str = ""


def classify(exc: BaseException) -> ErrorKind:
    """The category of a failure to fetch or send (the order of the checks matters:
    an ``ssl.SSLError`` is an ``OSError``, a ``LoginError`` an ``IMAPClientError``)."""
    if isinstance(exc, LoginError | smtplib.SMTPAuthenticationError):
        return ErrorKind.LOGIN_REFUSED
    if isinstance(exc, FolderMissingError):
        return ErrorKind.FOLDER_MISSING
    if isinstance(exc, NotConfiguredError):
        return ErrorKind.NOT_CONFIGURED
    if isinstance(exc, SealError):
        return ErrorKind.PASSWORD_UNREADABLE
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ErrorKind.TLS
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(
        exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError
    ):
        return ErrorKind.REJECTED
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected | OSError):
        return ErrorKind.UNREACHABLE
    if isinstance(exc, IMAPClientError | smtplib.SMTPException | EOFError):
        return ErrorKind.PROTOCOL
    return ErrorKind.OTHER


def detail_of(exc: BaseException) -> str:
    """The technical detail of a failure, for admins."""
    return f"{type(exc).__name__}: {exc}"[:2000]


async def record_fetch_error(mailbox_id: int, exc: BaseException) -> None:
    """Keep the last failure of fetching; a database failure here is logged only."""
    try:
        await Mailbox.update(
            {
                Mailbox.last_error: detail_of(exc),
                Mailbox.last_error_kind: classify(exc).value,
                Mailbox.last_error_at: utcnow(),
            }
        ).where(Mailbox.id == mailbox_id)
    except Exception:  # the database may be what failed
        logger.warning("mailbox %s: could not save the error", mailbox_id, exc_info=True)


async def record_send(mailbox_id: int | None, exc: BaseException | None) -> None:
    """Keep the outcome of an SMTP attempt of a mailbox: a success clears its error.

    A refused recipient or message (:attr:`ErrorKind.REJECTED`) says nothing of the
    mailbox and is not recorded. Never raises (the mail's own state is what counts).
    """
    if mailbox_id is None:
        return
    values: dict[Column | str, Any]
    if exc is None:
        values = {Mailbox.smtp_sent_at: utcnow(), Mailbox.smtp_error: "",
                  Mailbox.smtp_error_kind: ""}  # fmt: skip
    elif (kind := classify(exc)) is ErrorKind.REJECTED:
        return
    else:
        values = {Mailbox.smtp_error: detail_of(exc), Mailbox.smtp_error_kind: kind.value,
                  Mailbox.smtp_error_at: utcnow()}  # fmt: skip
    try:
        await Mailbox.update(values).where(Mailbox.id == mailbox_id)
    except Exception:
        logger.warning("mailbox %s: could not save the SMTP outcome", mailbox_id, exc_info=True)


async def failing_mailboxes() -> int:
    """How many active mailboxes failed on their last fetch or SMTP attempt."""
    failing = (Mailbox.last_error != "") | (Mailbox.smtp_error != "")
    return int(await Mailbox.count().where((Mailbox.active == True) & failing))  # noqa: E712


def _imap_login(endpoint: Endpoint) -> None:
    if not endpoint.host:
        raise NotConfiguredError("no IMAP server")
    client = IMAPClient(
        endpoint.host,
        port=endpoint.port,
        ssl=endpoint.security == "tls",
        timeout=CHECK_TIMEOUT,
        use_uid=True,
    )
    try:
        if endpoint.security == "starttls":
            client.starttls(ssl.create_default_context())
        client.login(endpoint.user, endpoint.password)
        try:
            client.select_folder(endpoint.folder, readonly=True)
        except IMAPClientAbortError:  # the connection broke: not the folder's fault
            raise
        except IMAPClientError as exc:
            raise FolderMissingError(str(exc)) from exc
    finally:
        try:
            client.logout()
        except Exception:
            client.shutdown()


def _smtp_login(endpoint: Endpoint) -> None:
    if not endpoint.host:
        raise NotConfiguredError("no SMTP server")
    client: smtplib.SMTP
    if endpoint.security == "tls":
        context = ssl.create_default_context()
        client = smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=CHECK_TIMEOUT,
                                  context=context)  # fmt: skip
    else:
        client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=CHECK_TIMEOUT)
    try:
        client.ehlo()
        if endpoint.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if endpoint.user:
            client.login(endpoint.user, endpoint.password)
        client.noop()
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


async def _check(login: Callable[[Endpoint], None], endpoint: Endpoint) -> CheckResult:
    try:
        await asyncio.wait_for(asyncio.to_thread(login, endpoint), CHECK_LIMIT)
    except Exception as exc:
        return CheckResult(ok=False, kind=classify(exc), detail=detail_of(exc))
    return CheckResult(ok=True)


async def check_imap(endpoint: Endpoint) -> CheckResult:
    """Log in to the IMAP server and select the folder read-only; never raises."""
    return await _check(_imap_login, endpoint)


async def check_smtp(endpoint: Endpoint) -> CheckResult:
    """EHLO, STARTTLS and AUTH as configured, then QUIT (nothing is sent); never raises."""
    return await _check(_smtp_login, endpoint)


async def try_connection(
    principal: Principal, side: Side, endpoint: Endpoint, mailbox_id: int | None = None
) -> CheckResult:
    """Test connection (admins): log in to ``endpoint``'s IMAP or SMTP server.

    ``endpoint`` holds the values of the form, saved or not. An empty password
    of an existing mailbox (``mailbox_id``) means its stored one, used only when
    the server is the stored one too: a stored password is never sent to a
    server it was not saved for. Nothing is written, and nothing of the stored
    password comes back. Never raises but for the permission and a missing mailbox.
    """
    require(principal, Action.ADMINISTER)
    if mailbox_id is not None:
        row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
        if row is None:
            raise NotFoundError(f"mailbox {mailbox_id} not found")
        if not endpoint.password and row[f"{side}_host"] == endpoint.host:
            try:
                stored = await mailbox_password(row, f"{side}_password")
            except SealError:
                stored = ""
            endpoint = msgspec.structs.replace(endpoint, password=stored)
    return await (check_imap if side == "imap" else check_smtp)(endpoint)
