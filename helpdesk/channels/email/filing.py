"""Deciding where one parsed mail goes: a new case, an existing case, a note, or nowhere.

Runs inside the filing transaction of :mod:`helpdesk.channels.email.ingest`,
which records the outcome in the inbound ledger. The order of the checks: a
Message-ID stored before (a duplicate), no sender, one of our own addresses,
a delivery report, a case found by threading, else a new case (rate-limited
per sender). A reply to a closed case opens a follow-up case. A mail whose
thread had split into several open cases (replies that arrived before their
parents) joins the oldest, and the others are merged into it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from helpdesk.channels.email import threading as mail_threading
from helpdesk.channels.email.loop_guard import flag_bounced, may_open_case, our_addresses
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.domain import Channel, Status, case_reference
from helpdesk.errors import ConflictError
from helpdesk.i18n import DEFAULT_LOCALE, Translator, translator
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseCreate, MessageIn
from helpdesk.services import cases as case_service
from helpdesk.services import messages as message_service
from helpdesk.services.customers import find_or_create_by_email
from helpdesk.tables import Attachment, Case, Customer, Message
from helpdesk.text import detect_language

Outcome = Literal["message", "duplicate", "bounce", "ignored", "quarantined", "rejected"]
NO_SUBJECT = "(no subject)"
"""Subject of a case whose mail had none (the msgid: stored translated)."""
NO_BODY = "(empty message)"
"""Body of a message whose mail had no text, HTML or file (the msgid: stored translated)."""


class MailboxRef(msgspec.Struct, frozen=True, kw_only=True):
    """What ingestion needs to know about the mailbox a mail came through."""

    id: int
    address: str
    team_id: int | None
    auto_acknowledge: bool


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one mail."""

    outcome: Outcome
    case_id: int | None = None
    message_id: int | None = None
    new_case: bool = False
    reason: str = ""
    already_done: bool = False


async def decide(mailbox: MailboxRef, raw_sha: str, parsed: ParsedMail) -> IngestResult:
    """File ``parsed`` (inside the caller's transaction) and say what became of it."""
    existing = (
        await Message.select(Message.id, Message.case)
        .where(Message.external_id == parsed.message_id)
        .first()
    )
    if existing is not None:
        await mail_threading.remember(existing["case"], parsed)
        return IngestResult(
            outcome="duplicate", case_id=existing["case"], message_id=existing["id"]
        )
    sender = parsed.from_address
    if sender is None:
        return IngestResult(outcome="ignored", reason="no sender address")
    if sender in await our_addresses():
        return IngestResult(outcome="ignored", reason="sent by one of our own addresses")
    if parsed.bounce is not None:
        return await _file_bounce(parsed)
    case_id = await mail_threading.find_case(parsed)
    if case_id is not None:
        await _join_split_thread(case_id, parsed)
        return await _add_to_case(case_id, raw_sha, parsed)
    return await _open_case(mailbox, raw_sha, parsed)


async def _join_split_thread(case_id: int, parsed: ParsedMail) -> None:
    """Merge into ``case_id`` the other open cases this mail's thread opened
    (replies that arrived before their parents); their messages and thread
    keys move. A case merged or closed meanwhile by another ingester is skipped.
    """
    for stray in await mail_threading.split_cases(parsed, case_id):
        try:
            await case_service.merge_cases(SYSTEM, stray, case_id)
        except ConflictError:
            continue
        await mail_threading.move_keys(stray, case_id)


async def case_language(case_id: int) -> str:
    """The language of a case (``vi`` when unknown), for the texts we write into it."""
    row = await Case.select(Case.language).where(Case.id == case_id).first()
    return str(row["language"] or DEFAULT_LOCALE) if row else DEFAULT_LOCALE


async def _customer_locale(customer_id: int) -> str:
    row = await Customer.select(Customer.locale).where(Customer.id == customer_id).first()
    return str(row["locale"] or DEFAULT_LOCALE) if row else DEFAULT_LOCALE


def _body(parsed: ParsedMail, locale: str) -> str:
    """The text to store: a mail with no text, HTML or file still becomes a message,
    whose text says so in ``locale``."""
    if parsed.text.strip() or parsed.html or parsed.attachments:
        return parsed.text
    return translator(locale)(NO_BODY)


def _message_in(parsed: ParsedMail, locale: str) -> MessageIn:
    return MessageIn(
        body=_body(parsed, locale),
        html=parsed.html,
        attachments=[
            AttachmentIn(filename=a.filename, content=a.content, content_type=a.content_type)
            for a in parsed.attachments
        ],
    )


def _meta(raw_sha: str, parsed: ParsedMail) -> dict[str, Any]:
    return {
        "raw_sha256": raw_sha,
        "from": parsed.from_address,
        "to": list(parsed.to),
        "cc": list(parsed.cc),
        "subject": parsed.subject,
        "visible_length": len(parsed.visible_text),
        "auto_submitted": parsed.auto_submitted,
        "forwarded": parsed.forwarded,
        "content_ids": {
            a.content_id: a.filename for a in parsed.attachments if a.inline and a.content_id
        },
    }


async def _mark_inline(message_id: int, parsed: ParsedMail) -> None:
    """Flag the attachments that the HTML shows inline (``cid:`` images)."""
    names = [a.filename for a in parsed.attachments if a.inline]
    if names:
        await Attachment.update({Attachment.inline: True}).where(
            (Attachment.message == message_id) & Attachment.filename.is_in(names)
        )


async def _add_to_case(case_id: int, raw_sha: str, parsed: ParsedMail) -> IngestResult:
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    if case is None or case["status"] == Status.CLOSED:
        return await _open_follow_up(case_id, raw_sha, parsed)
    assert parsed.from_address is not None
    # A mail filed from an address proves it: it is marked verified.
    customer_id = await find_or_create_by_email(
        parsed.from_address, parsed.from_name, verified=True
    )
    message_in = _message_in(parsed, await case_language(case_id))
    message = await message_service.add_customer_message(
        SYSTEM, case_id, message_in, channel=Channel.EMAIL, customer_id=customer_id,
        external_id=parsed.message_id, meta=_meta(raw_sha, parsed),
    )  # fmt: skip
    await _mark_inline(message.id, parsed)
    await mail_threading.remember(case_id, parsed)
    return IngestResult(outcome="message", case_id=case_id, message_id=message.id)


async def _open_case(
    mailbox: MailboxRef, raw_sha: str, parsed: ParsedMail, *, follow_up_of: int | None = None
) -> IngestResult:
    assert parsed.from_address is not None
    if follow_up_of is None and not await may_open_case(parsed.from_address):
        return IngestResult(outcome="ignored", reason="too many new cases from this sender")
    # A new customer gets the language they wrote in (for the acknowledgement).
    language = detect_language(f"{parsed.subject}\n{parsed.visible_text}")
    customer_id = await find_or_create_by_email(
        parsed.from_address, parsed.from_name, language, verified=True
    )
    locale = await _customer_locale(customer_id)
    subject = parsed.subject.strip() or translator(locale)(NO_SUBJECT)
    message_in = _message_in(parsed, locale)
    data = CaseCreate(
        subject=subject[:500],
        body=message_in.body,
        html=parsed.html,
        customer_id=customer_id,
        channel=Channel.EMAIL,
        team_id=mailbox.team_id,
        attachments=message_in.attachments,
    )
    meta = _meta(raw_sha, parsed) | ({"follow_up_of": follow_up_of} if follow_up_of else {})
    if mailbox.id:
        meta["mailbox_id"] = mailbox.id  # routing rules may look at it
    case = await case_service.open_case(SYSTEM, data, external_id=parsed.message_id, meta=meta)
    await mail_threading.remember(case.id, parsed)
    first = await Message.select(Message.id).where(Message.case == case.id).first()
    if first is not None:
        await _mark_inline(first["id"], parsed)
    return IngestResult(
        outcome="message", case_id=case.id, message_id=first["id"] if first else None, new_case=True
    )


async def _open_follow_up(closed_case_id: int, raw_sha: str, parsed: ParsedMail) -> IngestResult:
    """A reply to a closed case opens a new case that points back to it."""
    row = await Case.select(Case.team).where(Case.id == closed_case_id).first()
    mailbox = MailboxRef(
        id=0, address="", team_id=row["team"] if row else None, auto_acknowledge=False
    )
    result = await _open_case(mailbox, raw_sha, parsed, follow_up_of=closed_case_id)
    if result.case_id is not None:
        _ = translator(await case_language(result.case_id))
        text = _("Follow-up of closed case %(reference)s", reference=case_reference(closed_case_id))
        await message_service.add_note(SYSTEM, result.case_id, MessageIn(body=text))
    return result


async def _file_bounce(parsed: ParsedMail) -> IngestResult:
    """Attach a delivery report to the case of the mail that bounced; open nothing.

    Addresses that failed for good are flagged on the customer record; a
    report of delay only leaves the note, written in the case's language (the
    ledger's reason stays in English).
    """
    assert parsed.bounce is not None
    case_id = await mail_threading.case_of_message_id(parsed.bounce.original_message_id)
    for address in parsed.bounce.failed:
        await flag_bounced(address)
    summary = _bounce_summary(parsed, translator("en"))
    if parsed.bounce.failed and parsed.bounce.original_message_id:
        await _mark_bounced(parsed.bounce.original_message_id, summary)
    if case_id is None:
        return IngestResult(outcome="bounce", reason=f"{summary} (unknown mail)"[:2000])
    text = _bounce_summary(parsed, translator(await case_language(case_id)))
    note = await message_service.add_note(
        SYSTEM, case_id, MessageIn(body=f"{text}\n\n{parsed.visible_text[:2000]}")
    )
    return IngestResult(outcome="bounce", case_id=case_id, message_id=note.id, reason=summary)


async def _mark_bounced(message_id: str, reason: str) -> None:
    """Mark the mail we sent with ``message_id`` as bounced (its delivery state), once."""
    await OutboundMail.update(
        {OutboundMail.bounced_at: utcnow(), OutboundMail.bounce_reason: reason[:2000]}
    ).where((OutboundMail.message_id == message_id) & OutboundMail.bounced_at.is_null())


def _bounce_summary(parsed: ParsedMail, _: Translator) -> str:
    """One line about a delivery report: the failed addresses, else each recipient's action."""
    assert parsed.bounce is not None
    if parsed.bounce.failed:
        return _("Delivery failed: %(addresses)s", addresses=", ".join(parsed.bounce.failed))
    actions = sorted(
        {f"{r.address}: {r.action or _('(no action given)')}" for r in parsed.bounce.recipients}
    )
    named = ", ".join(actions) or _("no recipient named")
    return _("Delivery report: %(recipients)s", recipients=named)
