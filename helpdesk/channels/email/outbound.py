"""Outbound mail: queue replies and automatic mails, and send each exactly once
where SMTP allows it.

A row in ``outbound_mail`` is created per mail with a deterministic
Message-ID (unique), in the transaction that also records its sending job.
:func:`send_outbound` claims the row (``pending`` → ``sending``), submits the
mail over SMTP (:mod:`helpdesk.channels.email._smtp`) and marks it ``sent``,
with the server's answer (``server_reply``), as soon as the server accepted
the data and before QUIT: whatever fails after that (QUIT, the connection)
neither fails nor resends the mail. Running the send twice, even at once,
sends once: the second run finds the row claimed or sent.

What is not promised, and why: SMTP has no way to ask a server whether it
holds a mail. Two windows remain in which the server may have accepted a mail
that is not marked ``sent``: the sender died between the server's answer and
the update of the row (milliseconds), or the connection broke after the whole
message went out and before the answer came. Both are resolved the one way
the protocol allows, by sending again with the **same Message-ID**, which the
recipient's mail system and mail client use to recognise a duplicate; each
such outcome is counted in ``unknown_outcomes`` and shown to agents. A sent
mail is never sent again.

The claim is short (:data:`CLAIM_TIMEOUT`, 3 minutes): an SMTP session never
runs past :data:`~helpdesk.channels.email._smtp.SEND_LIMIT` (150 s) after the
claim, and a claim older than that plus a margin belongs to a sender that
died. Whoever runs the job during a live claim that does not end within a few
seconds schedules a job for its expiry, which then takes the mail over.

A failed attempt is retried on the schedule :data:`RETRY_DELAYS` by a job for
``next_attempt_at``, recorded with the row's new state in one transaction; a
permanent answer (5xx), or the last of :data:`MAX_ATTEMPTS`, marks it
``failed`` and leaves a note in the case. The delivery state shown to people
is derived in :mod:`helpdesk.channels.email.delivery`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict

from piccolo.columns import Column

from helpdesk import jobs, secret_keys
from helpdesk.channels.email import _render, _smtp, compose, health
from helpdesk.channels.email._smtp import is_permanent
from helpdesk.channels.email.filing import case_language
from helpdesk.channels.email.loop_guard import claim_auto_reply
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import InboundMail, Mailbox, OutboundMail
from helpdesk.channels.email.threading import remember_keys
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import Channel, MessageKind
from helpdesk.i18n import translator
from helpdesk.policy import SYSTEM
from helpdesk.schemas import MessageIn
from helpdesk.services import messages as message_service
from helpdesk.tables import Case, CustomerEmail, Message

logger = logging.getLogger(__name__)

CLAIM_MARGIN = timedelta(seconds=30)
"""Added to the longest SMTP session: time to record the answer, and clocks of
workers that differ by a few seconds."""

CLAIM_TIMEOUT = timedelta(seconds=_smtp.SEND_LIMIT) + CLAIM_MARGIN
"""A claim older than this belongs to a sender that died: 150 s + 30 s."""

RETRY_DELAYS: tuple[timedelta, ...] = tuple(
    timedelta(minutes=m) for m in (0.5, 1, 2, 5, 10, 20, 30, 60)
)
"""Wait before the 2nd, 3rd, … attempt: about two hours in all."""

MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
"""Attempts of one mail before it is marked failed."""

LIVE_CLAIM_WAIT = timedelta(seconds=5)
"""How long a job that finds the mail being sent waits for that attempt to end
before it leaves a job for the claim's expiry instead."""

DIED_MID_SEND = (
    "Outcome unknown: the sender stopped during an attempt (its claim expired); "
    "sending again with the same Message-ID."
)


class _Identity:
    secret = "unset"  # noqa: S105 - replaced by configure() at start-up
    domain = "helpdesk.invalid"


def configure(secret_key: str, domain: str) -> None:
    """Set the key and domain of our Message-IDs (composition root), and the
    process's secret key of :mod:`helpdesk.secret_keys` (the tokens written
    into system mails when they are sent, the mailboxes' sealed passwords)."""
    _Identity.secret = secret_key
    _Identity.domain = domain
    secret_keys.configure(secret_key)


def enqueue_send(outbound_id: int) -> None:
    """Record the job that sends this mail, in the current transaction."""
    from helpdesk.channels.email.actors import send_mail

    jobs.enqueue(send_mail, outbound_id)


class NewMail(TypedDict):
    """The columns of an ``outbound_mail`` row being queued (the rest start as
    a pending mail with no attempt); ``subject`` and ``body_text`` only for a
    mail rendered when queued."""

    case: int | None
    message: int | None
    mailbox: int
    kind: str
    to_address: str
    message_id: str
    subject: NotRequired[str]
    body_text: NotRequired[str]


async def _insert(values: NewMail) -> int | None:
    """Insert an outbound row unless its Message-ID exists; its id, or None."""
    rows = await OutboundMail.raw(
        "INSERT INTO outbound_mail (\"case\", message, mailbox, kind, to_address, message_id,"
        " subject, body_text, status, attempts, last_error, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 'pending', 0, '', {})"
        " ON CONFLICT (message_id) DO NOTHING RETURNING id",
        values["case"], values["message"], values["mailbox"], values["kind"],
        values["to_address"], values["message_id"], values.get("subject", ""),
        values.get("body_text", ""), utcnow(),
    )  # fmt: skip
    return int(rows[0]["id"]) if rows else None


async def _mailbox_for_case(case_id: int, team_id: int | None) -> int | None:
    row = (
        await InboundMail.select(InboundMail.mailbox)
        .where(InboundMail.case == case_id)
        .order_by(InboundMail.id)
        .first()
    )
    if row is not None:
        return int(row["mailbox"])
    query = Mailbox.select(Mailbox.id).where(Mailbox.active == True)  # noqa: E712
    if team_id is not None:
        team_box = await query.where(Mailbox.team == team_id).first()
        if team_box is not None:
            return int(team_box["id"])
    any_box = await Mailbox.select(Mailbox.id).where(Mailbox.active == True).first()  # noqa: E712
    return int(any_box["id"]) if any_box else None


async def _customer_address(customer_id: int) -> str | None:
    row = (
        await CustomerEmail.select(CustomerEmail.address)
        .where((CustomerEmail.customer == customer_id) & CustomerEmail.bounced_at.is_null())
        .order_by(CustomerEmail.is_primary, ascending=False)
        .first()
    )
    return row["address"] if row else None


async def queue_reply(message_id: int) -> int | None:
    """Queue the mail of an agent's public reply; None when it goes by no mail
    (chat cases, customers without a working address, no mailbox)."""
    message = (
        await Message.select(Message.case, Message.kind).where(Message.id == message_id).first()
    )
    if message is None or message["kind"] != MessageKind.REPLY:
        return None
    case = (
        await Case.select(Case.channel, Case.customer, Case.team)
        .where(Case.id == message["case"])
        .first()
    )
    if case is None or case["channel"] == Channel.CHAT:
        return None
    to_address = await _customer_address(case["customer"])
    mailbox_id = await _mailbox_for_case(message["case"], case["team"])
    if to_address is None or mailbox_id is None:
        return None
    mid = compose.make_message_id("reply", message_id, _Identity.secret, _Identity.domain)
    async with transaction():
        outbound_id = await _insert(
            {"case": message["case"], "message": message_id, "mailbox": mailbox_id,
             "kind": "reply", "to_address": to_address, "message_id": mid}
        )  # fmt: skip
        if outbound_id is None:
            row = (
                await OutboundMail.select(OutboundMail.id)
                .where(OutboundMail.message_id == mid)
                .first()
            )
            return int(row["id"]) if row else None
        await remember_keys(message["case"], [mid])
    return outbound_id


async def queue_acknowledgement(mailbox_id: int, case_id: int, parsed: ParsedMail) -> int | None:
    """Queue the acknowledgement of a new case, unless the loop guard says no."""
    if parsed.auto_submitted or parsed.from_address is None:
        return None
    mid = compose.make_message_id("ack", case_id, _Identity.secret, _Identity.domain)
    async with transaction():
        if not await claim_auto_reply(mailbox_id, parsed.from_address, "acknowledgement"):
            return None
        outbound_id = await _insert(
            {"case": case_id, "message": None, "mailbox": mailbox_id, "kind": "acknowledgement",
             "to_address": parsed.from_address, "message_id": mid}
        )  # fmt: skip
        if outbound_id is not None:
            await remember_keys(case_id, [mid])
            enqueue_send(outbound_id)
    return outbound_id


async def queue_notice(
    mailbox_id: int, to_address: str, kind: str, key: int, subject: str, text: str
) -> int | None:
    """Queue an automatic mail that belongs to no case (e.g. a size notice).

    ``key`` makes its Message-ID (one notice per ``kind`` and ``key``); the
    caller has already asked the loop guard. Joins the caller's transaction;
    its sending job is recorded in it. None when the notice exists already.
    """
    mid = compose.make_message_id(kind, key, _Identity.secret, _Identity.domain)
    async with transaction():
        outbound_id = await _insert(
            {"case": None, "message": None, "mailbox": mailbox_id, "kind": kind,
             "to_address": to_address.lower(), "message_id": mid, "subject": subject,
             "body_text": text}
        )  # fmt: skip
        if outbound_id is not None:
            enqueue_send(outbound_id)
    return outbound_id


@dataclass(frozen=True)
class _Attempt:
    number: int
    started: float
    """:func:`time.monotonic` when the mail was claimed: the SMTP session's clock."""


async def _claim(outbound_id: int) -> _Attempt | None:
    """Take the mail for sending: a pending mail that is due, or one whose claim
    expired (its sender died mid-send; taking it over counts an unknown outcome).
    None when it is sent, failed, not due, or being sent under a live claim."""
    started, now = time.monotonic(), utcnow()
    claim: dict[Column | str, Any] = {
        OutboundMail.status: "sending",
        OutboundMail.claimed_at: now,
        OutboundMail.attempts: OutboundMail.attempts + 1,
        OutboundMail.next_attempt_at: None,
    }
    due = OutboundMail.next_attempt_at.is_null() | (OutboundMail.next_attempt_at <= now)
    claimed = (
        await OutboundMail.update(claim)
        .where((OutboundMail.id == outbound_id) & (OutboundMail.status == "pending") & due)
        .returning(OutboundMail.attempts)
    )
    if not claimed:
        takeover = {**claim, OutboundMail.unknown_outcomes: OutboundMail.unknown_outcomes + 1,
                    OutboundMail.last_error: DIED_MID_SEND}  # fmt: skip
        claimed = await OutboundMail.update(takeover).where(
            (OutboundMail.id == outbound_id) & (OutboundMail.status == "sending")
            & (OutboundMail.claimed_at < now - CLAIM_TIMEOUT)
        ).returning(OutboundMail.attempts)  # fmt: skip
    return _Attempt(int(claimed[0]["attempts"]), started) if claimed else None


async def send_outbound(outbound_id: int) -> bool:
    """Make one attempt at a queued mail, unless it is sent, failed, not due or
    being sent; True when this call sent it.

    The row is marked ``sent``, with the server's answer, as soon as the server
    accepted the data, before QUIT. A failed attempt schedules the next one
    (``pending`` with ``next_attempt_at`` and a job for that time) and returns
    False; a permanent failure (5xx), or the last of :data:`MAX_ATTEMPTS`,
    marks it ``failed`` (see :func:`mark_failed`). When another sender holds a
    live claim, this call waits a few seconds for it to end, and otherwise
    schedules a job for the moment the claim expires, so a sender that died is
    replaced within :data:`CLAIM_TIMEOUT`.

    Once begun, an attempt runs to its end and is recorded even if the caller
    is cancelled (a job's time limit): it is shielded. Raises only when the
    database fails; the job then runs again and finds the claim.
    """
    attempt = await _claim(outbound_id)
    if attempt is None:
        await _look_again_when_claim_expires(outbound_id)
        return False
    task = asyncio.ensure_future(_attempt(outbound_id, attempt))
    _IN_FLIGHT.add(task)
    task.add_done_callback(_forget)
    return await asyncio.shield(task)


_IN_FLIGHT: set[asyncio.Future[bool]] = set()


def _forget(task: asyncio.Future[bool]) -> None:
    _IN_FLIGHT.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.debug("outbound attempt failed", exc_info=task.exception())


async def _attempt(outbound_id: int, attempt: _Attempt) -> bool:
    mailbox_id: int | None = None
    try:
        message, mailbox = await _render.build(outbound_id)
        mailbox_id = mailbox.id
        session = await asyncio.to_thread(_smtp.deliver, mailbox, message, attempt.started)
    except Exception as exc:
        await health.record_send(mailbox_id, exc)
        await _attempt_failed(outbound_id, attempt, exc)
        return False
    try:
        await _record_sent(outbound_id, session.reply)
    finally:
        await asyncio.to_thread(_smtp.finish, session)
    await health.record_send(mailbox_id, None)
    return True


async def _record_sent(outbound_id: int, reply: str) -> None:
    """Mark the mail sent with the server's answer. Only this call knows of the
    acceptance, so a failing database is tried again for about 15 s (within the
    claim's margin) before the error is raised."""
    for pause in (0.5, 1, 2, 4, 8, None):
        try:
            await OutboundMail.update(
                {OutboundMail.status: "sent", OutboundMail.sent_at: utcnow(),
                 OutboundMail.server_reply: reply[:2000], OutboundMail.next_attempt_at: None}
            ).where((OutboundMail.id == outbound_id) & (OutboundMail.status != "sent"))  # fmt: skip
            return
        except Exception:
            if pause is None:
                raise
            logger.warning("recording the sending of mail %s failed; again in %s s",
                           outbound_id, pause, exc_info=True)  # fmt: skip
            await asyncio.sleep(pause)


async def _attempt_failed(outbound_id: int, attempt: _Attempt, exc: Exception) -> None:
    """Give up (permanent answer, or the last attempt), else schedule the next attempt."""
    error = _smtp.describe(exc)[:2000]
    if is_permanent(exc) or attempt.number >= MAX_ATTEMPTS:
        await mark_failed(outbound_id, error)
        return
    due = utcnow() + RETRY_DELAYS[min(attempt.number, len(RETRY_DELAYS)) - 1]
    unknown = int(isinstance(exc, _smtp.OutcomeUnknown))
    async with transaction():
        ours = await OutboundMail.update(
            {OutboundMail.status: "pending", OutboundMail.last_error: error,
             OutboundMail.next_attempt_at: due,
             OutboundMail.unknown_outcomes: OutboundMail.unknown_outcomes + unknown}
        ).where(
            (OutboundMail.id == outbound_id) & (OutboundMail.status == "sending")
            & (OutboundMail.attempts == attempt.number)
        ).returning(OutboundMail.id)  # fmt: skip
        if ours:
            _enqueue_send_at(outbound_id, due)


async def _look_again_when_claim_expires(outbound_id: int) -> None:
    """Another sender holds the mail. An attempt mostly ends within a second: wait
    up to :data:`LIVE_CLAIM_WAIT` for it; if it is still running, schedule a job
    for the moment its claim expires, so that a sender that died is replaced."""
    deadline = time.monotonic() + LIVE_CLAIM_WAIT.total_seconds()
    while True:
        row = (
            await OutboundMail.select(OutboundMail.status, OutboundMail.claimed_at)
            .where(OutboundMail.id == outbound_id)
            .first()
        )
        if row is None or row["status"] != "sending" or row["claimed_at"] is None:
            return  # done, or pending with its next attempt already scheduled
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.2)
    async with transaction():
        _enqueue_send_at(outbound_id, row["claimed_at"] + CLAIM_TIMEOUT + timedelta(seconds=1))


def _enqueue_send_at(outbound_id: int, run_at: datetime) -> None:
    """Record a job that tries this mail at ``run_at``, in the current transaction."""
    from helpdesk.channels.email.actors import send_mail

    jobs.enqueue(send_mail, outbound_id, run_at=run_at)


async def mark_failed(outbound_id: int, reason: str) -> None:
    """Give up on a mail (never one already sent) and tell the agents with a note
    in its case (if any), in the case's language."""
    open_ = (OutboundMail.id == outbound_id) & OutboundMail.status.not_in(["failed", "sent"])
    async with transaction():
        updated = (
            await OutboundMail.update(
                {OutboundMail.status: "failed", OutboundMail.last_error: reason[:2000],
                 OutboundMail.failed_at: utcnow(), OutboundMail.next_attempt_at: None}
            )
            .where(open_)
            .returning(OutboundMail.case, OutboundMail.to_address)
        )  # fmt: skip
        if updated and updated[0]["case"] is not None:
            row = updated[0]
            _ = translator(await case_language(row["case"]))
            text = _("Email to %(address)s could not be sent: %(reason)s",
                     address=row["to_address"], reason=reason[:1000])  # fmt: skip
            await message_service.add_note(SYSTEM, row["case"], MessageIn(body=text))


async def pending_outbound_ids(limit: int = 1000) -> list[int]:
    """Mails to try now: pending and due, or claimed by a sender that died."""
    now = utcnow()
    due = OutboundMail.next_attempt_at.is_null() | (OutboundMail.next_attempt_at <= now)
    rows = (
        await OutboundMail.select(OutboundMail.id)
        .where(
            ((OutboundMail.status == "pending") & due)
            | ((OutboundMail.status == "sending") & (OutboundMail.claimed_at < now - CLAIM_TIMEOUT))
        )
        .order_by(OutboundMail.id)
        .limit(limit)
    )
    return [int(r["id"]) for r in rows]


async def queue_case_acknowledgement(case_id: int, address: str) -> int | None:
    """Queue the confirmation of a case opened outside mail (e.g. the web form),
    sent from the case's mailbox; None when no mailbox exists.

    No auto-reply window here: people, not mail servers, fill in forms, and
    the form's own rate limit per address bounds what an abuser could send.
    """
    case = await Case.select(Case.team).where(Case.id == case_id).first()
    mailbox_id = await _mailbox_for_case(case_id, case["team"] if case else None)
    if mailbox_id is None:
        return None
    mid = compose.make_message_id("ack", case_id, _Identity.secret, _Identity.domain)
    async with transaction():
        outbound_id = await _insert(
            {"case": case_id, "message": None, "mailbox": mailbox_id, "kind": "acknowledgement",
             "to_address": address.lower(), "message_id": mid}
        )  # fmt: skip
        if outbound_id is not None:
            await remember_keys(case_id, [mid])
            enqueue_send(outbound_id)
    return outbound_id
