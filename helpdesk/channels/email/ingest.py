"""Turning one fetched mail into a case or a message, exactly once.

:func:`ingest_mail` is what the IMAP ingester calls for every UID. It is safe
to call again for the same copy (the ledger row of ``(mailbox, uidvalidity,
uid)`` answers) and for another copy of the same mail (the Message-ID in
``messages.external_id`` answers; for mails that stored no message, such as
quarantined ones and bounces, the SHA-256 of the raw bytes does). Everything a
mail changes, its acknowledgement included, is written in one transaction, so
a crash leaves either all of it or none of it.

A mail never blocks its mailbox: one that cannot be parsed, or whose filing
fails for a reason of its own, is quarantined with its raw bytes kept. Only
infrastructure failures (database or network gone) propagate, so that the
ingester retries the same mail later. A mail over the size limit, or with an
attachment over the attachment limit, is rejected (raw bytes kept, never
retried), and its sender gets at most one size notice per loop-guard window
(:mod:`helpdesk.channels.email.notices`), queued in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any, NamedTuple

import asyncpg  # type: ignore[import-untyped]
import msgspec

from helpdesk.channels.email.filing import (
    NO_BODY,
    NO_SUBJECT,
    IngestResult,
    MailboxRef,
    Outcome,
    decide,
)
from helpdesk.channels.email.notices import MailHeaders, queue_size_notice, read_headers
from helpdesk.channels.email.parse import UnparseableMail, parse_mail
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import InboundMail
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import AttachmentTooLargeError, NotFoundError
from helpdesk.storage import blob_store

__all__ = [
    "NO_BODY",
    "NO_SUBJECT",
    "IngestResult",
    "MailboxRef",
    "Outcome",
    "file_parsed",
    "ingest_mail",
    "max_mail_bytes",
    "reprocess_quarantined",
]

logger = logging.getLogger(__name__)

_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    sqlite3.OperationalError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.OperatorInterventionError,
)
"""Failures of the infrastructure, not of the mail: they propagate (the ingester retries)."""
_CONFLICT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.UniqueViolationError,
    sqlite3.IntegrityError,
)
_INSERT_LEDGER = (
    "INSERT INTO inbound_mail (mailbox, uidvalidity, uid, message_id, raw_sha256, size, outcome,"
    ' reason, "case", message, attempts, received_at)'
    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {})"
    " ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET outcome = excluded.outcome,"
    ' reason = excluded.reason, message_id = excluded.message_id, "case" = excluded."case",'
    " message = excluded.message, attempts = inbound_mail.attempts + 1"
    " WHERE inbound_mail.outcome = 'quarantined'"
)


async def ingest_mail(mailbox: MailboxRef, uidvalidity: int, uid: int, raw: bytes) -> IngestResult:
    """Store the raw mail, parse it and file it; idempotent per copy and per Message-ID.

    Raises only for infrastructure failures (see the module docstring).
    """
    done = await _ledger_entry(mailbox.id, uidvalidity, uid)
    if done is not None:
        return done
    store = blob_store()
    raw_sha = await asyncio.to_thread(store.put, raw)
    same_bytes = await _filed_copy(raw_sha)
    if same_bytes is not None:
        await _record(
            mailbox.id, uidvalidity, uid, raw_sha, len(raw), "duplicate", "same bytes as an"
            f" earlier copy ({same_bytes.outcome})", "", case_id=same_bytes.case_id,
            stored_message_id=same_bytes.message_id,
        )  # fmt: skip
        return msgspec.structs.replace(same_bytes, outcome="duplicate", already_done=False)
    try:
        parsed = await asyncio.to_thread(parse_mail, raw, max_bytes=max_mail_bytes())
    except UnparseableMail as exc:
        if exc.reason == "too_large":
            headers = await asyncio.to_thread(read_headers, raw)
            logger.warning("rejected mail uid=%s in mailbox %s: %s", uid, mailbox.id, exc.detail)
            ledger = _Ledger(mailbox.id, uidvalidity, uid, raw_sha, len(raw))
            return await _reject_too_large(ledger, exc.detail, headers, max_mail_bytes())
        logger.warning("quarantined mail uid=%s in mailbox %s: %s", uid, mailbox.id, exc.detail)
        await _record(
            mailbox.id, uidvalidity, uid, raw_sha, len(raw), "quarantined", exc.detail, ""
        )
        return IngestResult(outcome="quarantined", reason=exc.detail)
    return await file_parsed(mailbox, uidvalidity, uid, raw_sha, len(raw), parsed)


class _Ledger(NamedTuple):
    """The ledger key and raw-mail facts of one fetched copy."""

    mailbox_id: int
    uidvalidity: int
    uid: int
    raw_sha: str
    size: int


async def _reject_too_large(
    ledger: _Ledger, reason: str, headers: MailHeaders, limit_bytes: int
) -> IngestResult:
    """Record a mail refused for its size and queue the size notice, in one transaction."""
    async with transaction():
        await _record(*ledger, "rejected", reason, headers.message_id)
        row = await (
            InboundMail.select(InboundMail.id)
            .where(
                (InboundMail.mailbox == ledger.mailbox_id)
                & (InboundMail.uidvalidity == ledger.uidvalidity)
                & (InboundMail.uid == ledger.uid)
            )
            .first()
        )
        if row is not None:
            await queue_size_notice(
                ledger.mailbox_id, int(row["id"]), headers, limit_bytes=limit_bytes
            )
    return IngestResult(outcome="rejected", reason=reason)


def max_mail_bytes() -> int:
    """The largest mail accepted: twice the attachment limit (base64 costs a third more)."""
    return max(blob_store().max_bytes * 2, 1)


async def _filed_copy(raw_sha: str) -> IngestResult | None:
    """What became of an earlier copy with exactly these bytes, if any was filed."""
    return await _ledger_row(InboundMail.raw_sha256 == raw_sha)


async def _ledger_entry(mailbox_id: int, uidvalidity: int, uid: int) -> IngestResult | None:
    return await _ledger_row(
        (InboundMail.mailbox == mailbox_id)
        & (InboundMail.uidvalidity == uidvalidity)
        & (InboundMail.uid == uid)
    )


async def _ledger_row(where: Any) -> IngestResult | None:
    row = await (
        InboundMail.select(InboundMail.outcome, InboundMail.case, InboundMail.message)
        .where(where)
        .order_by(InboundMail.id)
        .first()
    )
    if row is None:
        return None
    return IngestResult(
        outcome=row["outcome"], case_id=row["case"], message_id=row["message"], already_done=True
    )


async def _record(
    mailbox_id: int,
    uidvalidity: int,
    uid: int,
    raw_sha: str,
    size: int,
    outcome: Outcome,
    reason: str,
    message_id: str,
    *,
    case_id: int | None = None,
    stored_message_id: int | None = None,
) -> None:
    await InboundMail.raw(
        _INSERT_LEDGER,
        mailbox_id, uidvalidity, uid, message_id[:998], raw_sha, size, outcome, reason,
        case_id, stored_message_id, utcnow(),
    )  # fmt: skip


async def file_parsed(
    mailbox: MailboxRef, uidvalidity: int, uid: int, raw_sha: str, size: int, parsed: ParsedMail
) -> IngestResult:
    """File an already parsed mail (also used by :func:`reprocess_quarantined`).

    A failure caused by the mail itself quarantines it (an attachment over the
    limit rejects it, with a size notice); infrastructure failures propagate.
    When another ingester files the same Message-ID at the same moment, the
    unique key decides and this copy is filed again, as a duplicate.
    """
    for attempt in (1, 2):
        try:
            return await _file_once(mailbox, uidvalidity, uid, raw_sha, size, parsed)
        except _TRANSIENT:
            raise
        except _CONFLICT:
            if attempt == 1:
                continue
            logger.exception("mail uid=%s in mailbox %s: conflict again", uid, mailbox.id)
            reason = "conflict while filing"
            outcome: Outcome = "quarantined"
        except AttachmentTooLargeError as exc:
            headers = MailHeaders(
                from_address=parsed.from_address, subject=parsed.subject,
                message_id=parsed.message_id, machine=parsed.loop_reason,
            )  # fmt: skip
            ledger = _Ledger(mailbox.id, uidvalidity, uid, raw_sha, size)
            return await _reject_too_large(ledger, exc.detail, headers, blob_store().max_bytes)
        except Exception as exc:  # a mail that breaks filing must not block the mailbox
            logger.exception("mail uid=%s in mailbox %s could not be filed", uid, mailbox.id)
            reason, outcome = f"filing failed: {type(exc).__name__}: {exc}"[:2000], "quarantined"
        await _record(
            mailbox.id, uidvalidity, uid, raw_sha, size, outcome, reason, parsed.message_id
        )
        return IngestResult(outcome=outcome, reason=reason)
    raise AssertionError("unreachable")  # pragma: no cover


async def _file_once(
    mailbox: MailboxRef, uidvalidity: int, uid: int, raw_sha: str, size: int, parsed: ParsedMail
) -> IngestResult:
    async with transaction():
        result = await decide(mailbox, raw_sha, parsed)
        await _record(
            mailbox.id, uidvalidity, uid, raw_sha, size, result.outcome, result.reason,
            parsed.message_id, case_id=result.case_id, stored_message_id=result.message_id,
        )  # fmt: skip
        if result.new_case and mailbox.auto_acknowledge and result.case_id is not None:
            from helpdesk.channels.email.outbound import queue_acknowledgement

            await queue_acknowledgement(mailbox.id, result.case_id, parsed)
    return result


async def reprocess_quarantined(limit: int = 500) -> list[IngestResult]:
    """Try the quarantined mails again (``helpdesk mail reprocess``).

    A mail that parses now is filed as if it had just arrived; one that still
    does not stays in quarantine with its attempt count raised.
    """
    rows = (
        await InboundMail.select(
            *InboundMail.all_columns(),
            InboundMail.mailbox.address.as_alias("address"),
            InboundMail.mailbox.team.as_alias("team_id"),
            InboundMail.mailbox.auto_acknowledge.as_alias("auto_acknowledge"),
        )
        .where(InboundMail.outcome == "quarantined")
        .order_by(InboundMail.id)
        .limit(limit)
    )
    store = blob_store()
    results: list[IngestResult] = []
    for row in rows:
        ref = MailboxRef(
            id=row["mailbox"], address=row["address"], team_id=row["team_id"],
            auto_acknowledge=row["auto_acknowledge"],
        )  # fmt: skip
        try:
            raw = await asyncio.to_thread(store.get, row["raw_sha256"])
            parsed = await asyncio.to_thread(parse_mail, raw, max_bytes=max_mail_bytes())
        except (UnparseableMail, NotFoundError) as exc:
            reason = exc.detail if isinstance(exc, UnparseableMail) else "raw bytes are missing"
            await InboundMail.update(
                {InboundMail.attempts: InboundMail.attempts + 1, InboundMail.reason: reason}
            ).where(InboundMail.id == row["id"])
            results.append(IngestResult(outcome="quarantined", reason=reason))
            continue
        results.append(
            await file_parsed(
                ref, row["uidvalidity"], row["uid"], row["raw_sha256"], len(raw), parsed
            )
        )
    return results
