"""The IMAP ingester: fetch new mail of a mailbox and hand each to :func:`ingest_mail`.

* The cursor is ``(UIDVALIDITY, last UID)`` per mailbox; a new UIDVALIDITY
  restarts from the first UID (the Message-ID check drops what was filed).
* Mail is read with ``BODY.PEEK[]`` in a read-only ``EXAMINE``: nothing we do
  sets ``\\Seen`` or depends on it, so a person reading the mailbox in webmail
  hides nothing from us.
* The cursor advances only after the mails below it were filed, so a crash
  refetches at most one batch, which the ledger then skips. Mails are
  downloaded in groups of at most :data:`FETCH_BYTES`, so a batch of large
  mails cannot exhaust the memory.
* IMAPClient is blocking; its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from helpdesk.channels.email.health import FolderMissingError, record_fetch_error
from helpdesk.channels.email.ingest import IngestResult, MailboxRef, ingest_mail
from helpdesk.channels.email.mailboxes import mailbox_password
from helpdesk.channels.email.tables import Mailbox
from helpdesk.clock import utcnow
from helpdesk.errors import NotFoundError

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
FETCH_BYTES = 32 * 1024 * 1024
"""Mails downloaded together are at most this big together (a bigger mail comes alone)."""
IDLE_SECONDS = 10
MAX_BACKOFF_SECONDS = 60.0
NETWORK_ERRORS = (OSError, IMAPClientError, ssl.SSLError, EOFError)


class MailboxConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The connection settings and cursor of one mailbox."""

    id: int
    address: str
    team_id: int | None
    auto_acknowledge: bool
    host: str
    port: int
    security: str
    user: str
    password: str
    folder: str
    uidvalidity: int | None
    last_uid: int

    @property
    def ref(self) -> MailboxRef:
        """What ingestion needs to know of the mailbox."""
        return MailboxRef(
            id=self.id,
            address=self.address,
            team_id=self.team_id,
            auto_acknowledge=self.auto_acknowledge,
        )


async def load_mailbox(mailbox_id: int) -> MailboxConfig:
    """The current settings and cursor of a mailbox."""
    row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
    if row is None:
        raise NotFoundError(f"mailbox {mailbox_id} not found")
    return MailboxConfig(
        id=row["id"],
        address=row["address"],
        team_id=row["team"],
        auto_acknowledge=row["auto_acknowledge"],
        host=row["imap_host"],
        port=row["imap_port"],
        security=row["imap_security"],
        user=row["imap_user"],
        password=await mailbox_password(row, "imap_password"),
        folder=row["imap_folder"],
        uidvalidity=row["uidvalidity"],
        last_uid=row["last_uid"],
    )


class ImapSession:
    """One logged-in connection, with the folder examined (read-only)."""

    def __init__(self, config: MailboxConfig, timeout: float = 30.0) -> None:
        self.config = config
        self.client = IMAPClient(
            config.host,
            port=config.port,
            ssl=config.security == "tls",
            timeout=timeout,
            use_uid=True,
        )
        try:
            if config.security == "starttls":
                self.client.starttls(ssl.create_default_context())
            self.client.login(config.user, config.password)
            try:
                selected = self.client.select_folder(config.folder, readonly=True)
            except IMAPClientAbortError:  # the connection broke: not the folder's fault
                raise
            except IMAPClientError as exc:
                raise FolderMissingError(str(exc)) from exc
        except BaseException:
            self.close()
            raise
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        self.can_idle = b"IDLE" in self.client.capabilities()

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending (``n:*`` may return the last mail: dropped)."""
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(int(uid) for uid in found if int(uid) > last_uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """``RFC822.SIZE`` of ``uids``; vanished UIDs are absent."""
        data = self.client.fetch(list(uids), ["RFC822.SIZE"])
        return {int(uid): int(item[b"RFC822.SIZE"]) for uid, item in data.items()}

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The raw bytes of ``uids`` without setting ``\\Seen``; vanished UIDs are absent."""
        data = self.client.fetch(list(uids), ["BODY.PEEK[]"])
        return {int(uid): bytes(item[b"BODY[]"]) for uid, item in data.items() if b"BODY[]" in item}

    def wait_for_news(self, seconds: float, stopping: Callable[[], bool] = lambda: False) -> bool:
        """IDLE up to ``seconds``; True when the server announced something.

        ``stopping`` is asked about once a second, so that a shutdown does not
        wait for the whole IDLE period.
        """
        deadline = time.monotonic() + seconds
        self.client.idle()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or stopping():
                    return False
                responses: list[Any] = self.client.idle_check(timeout=min(left, 1.0))
                if responses:
                    return True
        finally:
            self.client.idle_done()

    def close(self) -> None:
        """Log out, ignoring a connection that is already gone."""
        try:
            self.client.logout()
        except Exception:
            try:
                self.client.shutdown()
            except Exception:
                logger.debug("IMAP shutdown failed", exc_info=True)


async def _save_cursor(mailbox_id: int, uidvalidity: int, last_uid: int) -> None:
    await Mailbox.update(
        {
            Mailbox.uidvalidity: uidvalidity,
            Mailbox.last_uid: last_uid,
            Mailbox.last_polled_at: utcnow(),
            Mailbox.last_error: "",
            Mailbox.last_error_kind: "",
        }
    ).where(Mailbox.id == mailbox_id)


async def drain(session: ImapSession, config: MailboxConfig) -> list[IngestResult]:
    """File every mail above the cursor; returns what became of each."""
    last_uid = config.last_uid
    if config.uidvalidity != session.uidvalidity:
        if config.uidvalidity is not None:
            logger.warning("mailbox %s: UIDVALIDITY changed, rescanning", config.id)
        last_uid = 0
        await _save_cursor(config.id, session.uidvalidity, 0)
    uids = await asyncio.to_thread(session.uids_after, last_uid)
    results: list[IngestResult] = []
    for start in range(0, len(uids), BATCH_SIZE):
        chunk = uids[start : start + BATCH_SIZE]
        sizes = await asyncio.to_thread(session.sizes, chunk)
        for group in _by_size(chunk, sizes, FETCH_BYTES):
            mails = await asyncio.to_thread(session.fetch, group)
            for uid in group:
                if uid in mails:
                    raw = mails.pop(uid)
                    results.append(await ingest_mail(config.ref, session.uidvalidity, uid, raw))
            await _save_cursor(config.id, session.uidvalidity, group[-1])
        await _save_cursor(config.id, session.uidvalidity, chunk[-1])
    if not uids:
        await _save_cursor(config.id, session.uidvalidity, last_uid)
    return results


def _by_size(uids: list[int], sizes: dict[int, int], limit: int) -> list[list[int]]:
    """``uids`` (vanished ones left out) in groups of at most ``limit`` bytes together."""
    groups: list[list[int]] = []
    total = limit + 1
    for uid in uids:
        if uid not in sizes:
            continue
        if total + sizes[uid] > limit:
            groups.append([])
            total = 0
        groups[-1].append(uid)
        total += sizes[uid]
    return groups


async def fetch_once(mailbox_id: int) -> list[IngestResult]:
    """Connect, file everything pending, disconnect (``helpdesk mail --once``)."""
    config = await load_mailbox(mailbox_id)
    session = await asyncio.to_thread(ImapSession, config)
    try:
        return await drain(session, config)
    finally:
        await asyncio.to_thread(session.close)


async def run_mailbox(mailbox_id: int, stop: asyncio.Event, poll_seconds: float = 30.0) -> None:
    """Follow a mailbox until ``stop`` is set: IDLE where offered, else poll.

    When the server goes away (or anything else fails) the error is saved in
    ``mailboxes.last_error``, with its kind and time
    (:func:`~helpdesk.channels.email.health.record_fetch_error`), and the
    connection is retried after 1, 2, 4 … up to :data:`MAX_BACKOFF_SECONDS`
    seconds; the delay starts again at 1 s once a connection succeeded.
    """
    backoff = 1.0

    def connected() -> None:
        nonlocal backoff
        backoff = 1.0

    while not stop.is_set():
        try:
            await _follow(mailbox_id, stop, poll_seconds, connected)
        except Exception as exc:
            if isinstance(exc, NETWORK_ERRORS):
                logger.warning("mailbox %s: %s; retrying in %.0f s", mailbox_id, exc, backoff)
            else:
                logger.exception("mailbox %s failed; retrying in %.0f s", mailbox_id, backoff)
            await record_fetch_error(mailbox_id, exc)
            await _sleep_unless(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def _follow(
    mailbox_id: int, stop: asyncio.Event, poll_seconds: float, connected: Callable[[], None]
) -> None:
    config = await load_mailbox(mailbox_id)
    session = await asyncio.to_thread(ImapSession, config)
    connected()
    try:
        while not stop.is_set():
            await drain(session, config)
            config = await load_mailbox(mailbox_id)
            if stop.is_set():
                break
            if session.can_idle:
                await asyncio.to_thread(
                    session.wait_for_news, min(IDLE_SECONDS, poll_seconds), stop.is_set
                )
            else:
                await _sleep_unless(stop, poll_seconds)
    finally:
        await asyncio.to_thread(session.close)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
