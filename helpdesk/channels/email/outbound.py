"""Outbound mail: queue replies and automatic mails, and send each at most once.

A row in ``outbound_mail`` is created per mail with a deterministic
Message-ID (unique), then :func:`send_outbound` claims it (``pending`` →
``sending``), sends it over SMTP and marks it ``sent``. Running the send twice
sends once: the second run finds the row claimed or sent. The one window left
is a crash after the SMTP server accepted the mail and before the row is
marked: the claim expires after :data:`CLAIM_TIMEOUT` and the mail is sent
again. SMTP offers no way to close that window.

A temporary SMTP failure puts the row back to ``pending`` and raises, so the
actor retries with backoff; a permanent one (5xx), or the last of
:data:`MAX_ATTEMPTS`, marks it ``failed`` and leaves a note in the case.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from helpdesk.channels.email import compose
from helpdesk.channels.email.filing import case_language
from helpdesk.channels.email.loop_guard import claim_auto_reply
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import InboundMail, Mailbox, OutboundMail, ThreadKey
from helpdesk.channels.email.threading import remember_keys
from helpdesk.db import on_commit, transaction
from helpdesk.domain import Channel, MessageKind, case_reference
from helpdesk.i18n import translator
from helpdesk.policy import SYSTEM
from helpdesk.schemas import MessageIn
from helpdesk.services import messages as message_service
from helpdesk.services._convert import utcnow
from helpdesk.storage import blob_store
from helpdesk.tables import Attachment, Case, Customer, CustomerEmail, Message
from helpdesk.tasks import ACTOR_OPTIONS

CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = int(ACTOR_OPTIONS["max_retries"]) + 1
"""Attempts of one mail before it is marked failed: those of the sending actor."""
MAX_REFERENCES = 20


class _Identity:
    secret = "unset"  # noqa: S105 - replaced by configure() at start-up
    domain = "helpdesk.invalid"


def configure(secret_key: str, domain: str) -> None:
    """Set the key and domain of our Message-IDs (composition root)."""
    _Identity.secret = secret_key
    _Identity.domain = domain


async def _enqueue_after_commit(outbound_id: int) -> None:
    from helpdesk.channels.email.actors import send_mail

    async def send() -> None:
        await asyncio.to_thread(send_mail.send, outbound_id)

    on_commit(send)


async def _insert(values: dict[str, Any]) -> int | None:
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
            await _enqueue_after_commit(outbound_id)
    return outbound_id


async def queue_notice(
    mailbox_id: int, to_address: str, kind: str, key: int, subject: str, text: str
) -> int | None:
    """Queue an automatic mail that belongs to no case (e.g. a size notice).

    ``key`` makes its Message-ID (one notice per ``kind`` and ``key``); the
    caller has already asked the loop guard. Joins the caller's transaction;
    the send is enqueued after commit. None when the notice exists already.
    """
    mid = compose.make_message_id(kind, key, _Identity.secret, _Identity.domain)
    async with transaction():
        outbound_id = await _insert(
            {"case": None, "message": None, "mailbox": mailbox_id, "kind": kind,
             "to_address": to_address.lower(), "message_id": mid, "subject": subject,
             "body_text": text}
        )  # fmt: skip
        if outbound_id is not None:
            await _enqueue_after_commit(outbound_id)
    return outbound_id


async def _claim(outbound_id: int) -> int | None:
    """Take the mail for sending; the number of this attempt, or None when taken or done."""
    stale = utcnow() - CLAIM_TIMEOUT
    claimed = await OutboundMail.update(
        {OutboundMail.status: "sending", OutboundMail.claimed_at: utcnow(),
         OutboundMail.attempts: OutboundMail.attempts + 1}
    ).where(
        (OutboundMail.id == outbound_id)
        & ((OutboundMail.status == "pending")
           | ((OutboundMail.status == "sending") & (OutboundMail.claimed_at < stale)))
    ).returning(OutboundMail.attempts)  # fmt: skip
    return int(claimed[0]["attempts"]) if claimed else None


def is_permanent(exc: BaseException) -> bool:
    """True for SMTP answers that no retry will change (5xx)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


async def send_outbound(outbound_id: int) -> bool:
    """Send one queued mail if nobody did; True when this call sent it.

    On a temporary failure the row goes back to ``pending`` and the error is
    raised, so the actor's retries try again with backoff. A permanent
    failure, or the last attempt, marks it ``failed`` (see :func:`mark_failed`)
    and returns False.
    """
    attempt = await _claim(outbound_id)
    if attempt is None:
        return False
    try:
        message, mailbox = await _build(outbound_id)
        await asyncio.to_thread(_smtp_send, mailbox, message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if is_permanent(exc) or attempt >= MAX_ATTEMPTS:
            await mark_failed(outbound_id, error)
            return False
        await OutboundMail.update(
            {OutboundMail.status: "pending", OutboundMail.last_error: error[:2000]}
        ).where(OutboundMail.id == outbound_id)
        raise
    await OutboundMail.update({OutboundMail.status: "sent", OutboundMail.sent_at: utcnow()}).where(
        OutboundMail.id == outbound_id
    )
    return True


async def mark_failed(outbound_id: int, reason: str) -> None:
    """Give up on a mail, and tell the agents with a note in its case (if any),
    in the case's language."""
    async with transaction():
        updated = (
            await OutboundMail.update(
                {OutboundMail.status: "failed", OutboundMail.last_error: reason[:2000]}
            )
            .where((OutboundMail.id == outbound_id) & (OutboundMail.status != "failed"))
            .returning(OutboundMail.case, OutboundMail.to_address)
        )
        if updated and updated[0]["case"] is not None:
            row = updated[0]
            _ = translator(await case_language(row["case"]))
            text = _("Email to %(address)s could not be sent: %(reason)s",
                     address=row["to_address"], reason=reason[:1000])  # fmt: skip
            await message_service.add_note(SYSTEM, row["case"], MessageIn(body=text))


def _notice(row: dict[str, Any], mailbox: dict[str, Any]) -> EmailMessage:
    """A notice without a case: as rendered when queued, with no case reference."""
    return compose.build(
        compose.Outgoing(
            message_id=row["message_id"], from_address=mailbox["address"],
            from_name=mailbox["name"], to_address=row["to_address"], subject=row["subject"],
            text=row["body_text"], auto_submitted=True,
        )
    )  # fmt: skip


async def _build(outbound_id: int) -> tuple[EmailMessage, dict[str, Any]]:
    row = await OutboundMail.select().where(OutboundMail.id == outbound_id).first()
    assert row is not None
    mailbox = await Mailbox.select().where(Mailbox.id == row["mailbox"]).first()
    if mailbox is not None and row["case"] is None:
        return _notice(row, mailbox), mailbox
    case = await Case.select().where(Case.id == row["case"]).first()
    if mailbox is None or case is None:
        raise RuntimeError(f"outbound mail {outbound_id}: mailbox or case is gone")
    customer = (
        await Customer.select(Customer.name, Customer.locale)
        .where(Customer.id == case["customer"])
        .first()
    )
    locale = customer["locale"] if customer else "vi"
    keys = (
        await ThreadKey.select(ThreadKey.key)
        .where(ThreadKey.case == case["id"])
        .order_by(ThreadKey.id)
    )
    references = tuple(k["key"] for k in keys if k["key"] != row["message_id"])
    if len(references) > MAX_REFERENCES:  # keep the root, as RFC 5322 suggests
        references = (references[0], *references[-(MAX_REFERENCES - 1) :])
    subject, text, html, attachments = await _body(
        row, case, customer["name"] if customer else "", locale
    )
    outgoing = compose.Outgoing(
        message_id=row["message_id"],
        from_address=mailbox["address"],
        from_name=mailbox["name"],
        to_address=row["to_address"],
        subject=subject,
        text=text,
        html=html,
        in_reply_to=await _last_customer_message_id(case["id"]),
        references=references,
        attachments=attachments,
        auto_submitted=row["kind"] != "reply",
    )
    return compose.build(outgoing), mailbox


async def _last_customer_message_id(case_id: int) -> str | None:
    row = (
        await Message.select(Message.external_id)
        .where((Message.case == case_id) & Message.external_id.is_not_null())
        .order_by(Message.id, ascending=False)
        .first()
    )
    return row["external_id"] if row else None


async def _body(
    row: dict[str, Any], case: dict[str, Any], customer_name: str, locale: str
) -> tuple[str, str, str | None, tuple[compose.Attachment, ...]]:
    """Subject, text, HTML and attachments of the mail."""
    reference = case_reference(case["id"])
    if row["kind"] != "reply":
        subject, text = compose.render(
            row["kind"], locale, customer_name=customer_name,
            reference=reference, subject=case["subject"],
        )  # fmt: skip
        return f"{subject} [#{reference}]", text, None, ()
    message = await Message.select().where(Message.id == row["message"]).first()
    assert message is not None
    files = await Attachment.select().where(Attachment.message == row["message"])
    store = blob_store()
    attachments: list[compose.Attachment] = []
    for f in files:
        content = await asyncio.to_thread(store.get, f["sha256"])
        attachments.append(compose.Attachment(f["filename"], f["content_type"], content))
    subject = compose.subject_with_reference(case["subject"], case["id"])
    return subject, message["body_text"], message["body_html"] or None, tuple(attachments)


def _smtp_send(mailbox: dict[str, Any], message: EmailMessage) -> None:
    host, port, security = mailbox["smtp_host"], mailbox["smtp_port"], mailbox["smtp_security"]
    if not host:
        raise RuntimeError(f"mailbox {mailbox['id']} has no SMTP server")
    client: smtplib.SMTP
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=30, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=30)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if mailbox["smtp_user"]:
            client.login(mailbox["smtp_user"], mailbox["smtp_password"])
        client.send_message(message)


async def pending_outbound_ids(limit: int = 1000) -> list[int]:
    """Mails not sent yet (pending, or claimed by a sender that died)."""
    stale = utcnow() - CLAIM_TIMEOUT
    rows = (
        await OutboundMail.select(OutboundMail.id)
        .where(
            (OutboundMail.status == "pending")
            | ((OutboundMail.status == "sending") & (OutboundMail.claimed_at < stale))
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
            await _enqueue_after_commit(outbound_id)
    return outbound_id
