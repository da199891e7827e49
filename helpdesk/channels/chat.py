"""The live chat channel: a chat is a case on :attr:`Channel.CHAT`, each line a message.

A visitor starts a chat with name, email and a first line: :func:`start_chat`
opens the case through :func:`helpdesk.services.cases.open_case` (routing then
assigns it on ``case.opened`` like any case) and hands out a *visitor token*,
kept by the widget in ``localStorage``. The token is signed (HMAC-SHA256 under
a key derived from the secret key) and names the case and the customer, plus a
random nonce; :func:`resume_chat` accepts it while that case is on the chat
channel, belongs to that customer and is neither solved nor closed. A token
cannot be revoked before its case ends, and it is the only credential: anyone
holding it reads that one chat, nothing else.

Each operation that creates something (start, offline request, line) may carry
a *client id*, made at random by the widget: a retried or duplicated frame then
creates nothing more and gets the first answer (:func:`helpdesk.idempotency.run_once`;
scope ``chat:visitor`` for new chats and requests, ``chat:case:<id>`` for lines).

The typed name and address prove nothing, so a chat is **never** filed under
the customer who owns the typed address: it gets an unverified contact of its
own (:mod:`helpdesk.channels.chat_contacts`), linked to a real customer only by
an agent's merge or by the visitor using a link mailed to the address. What the
widget is told (:class:`ChatView`) is what the visitor typed and the chat's own
token, number and lines: never a customer id nor a stored name. A transcript is
mailed only once the chat is verified; before, :func:`email_transcript` mails
the verification link instead (:class:`VerificationSent`).

Customer lines go through :func:`helpdesk.services.messages.add_customer_message`;
agents answer from the console. :func:`widget_update` turns the customer's
stream frames into what the widget shows (public lines, status), never notes.
Nothing here knows of websockets or HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

import msgspec

from helpdesk import idempotency, ratelimit
from helpdesk.channels import chat_contacts
from helpdesk.channels.email.outbound import queue_notice
from helpdesk.channels.email.tables import Mailbox
from helpdesk.channels.webform import (
    WebFormIn,
    WebFormReceipt,
    submit_web_form,
    submit_web_form_once,
)
from helpdesk.db import transaction
from helpdesk.domain import Availability, Channel, MessageKind, Status, case_reference
from helpdesk.errors import HelpdeskError, ValidationError
from helpdesk.i18n import format_when, translator
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseCreate, MessageIn
from helpdesk.services import cases as case_service
from helpdesk.services import messages as message_service
from helpdesk.services.customers import principal_for_customer, resolve_merged_customer
from helpdesk.tables import Agent, Case, CustomerEmail, Message, TeamMember
from helpdesk.text import normalize_email

__all__ = [
    "ChatEndedError",
    "ChatLine",
    "ChatSession",
    "ChatStart",
    "ChatView",
    "LinkInvalidError",
    "NoMailboxError",
    "TranscriptQueued",
    "VerificationSent",
    "agents_available",
    "confirm_verification",
    "email_transcript",
    "leave_request",
    "read_visitor_token",
    "resume_chat",
    "say",
    "sign_visitor_token",
    "start_chat",
    "transcript",
    "verification_usable",
    "widget_update",
]

LinkInvalidError = chat_contacts.LinkInvalidError
confirm_verification = chat_contacts.confirm_verification
verification_usable = chat_contacts.verification_usable

PER_IP_PER_HOUR = 20
"""Chats one address may start in an hour."""
LINES_PER_MINUTE = 60
TRANSCRIPTS_PER_HOUR = 5
MAX_LINE = 5000
_ENDED = (Status.SOLVED, Status.CLOSED)
VISITOR_SCOPE = "chat:visitor"
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_PUBLIC = (MessageKind.CUSTOMER, MessageKind.REPLY)


class ChatEndedError(HelpdeskError):
    """The chat's case was solved or closed: a new chat must be started."""

    code = "chat_ended"
    status = 409
    title = "Chat ended"


class NoMailboxError(HelpdeskError):
    """No mailbox to send from, or no working address to send to."""

    code = "no_mailbox"
    status = 409
    title = "Mail cannot be sent"


class ChatStart(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the widget sends to start a chat (or, offline, a web request)."""

    name: str
    email: str
    message: str
    team_id: int | None = None
    locale: str = "vi"


class ChatLine(msgspec.Struct, kw_only=True):
    """One public line of the chat, as the widget shows it."""

    id: int
    who: str  # "customer" or "agent"
    name: str
    text: str
    at: str  # ISO 8601, UTC


class ChatView(msgspec.Struct, kw_only=True):
    """What the widget is told of its chat: the chat's own token, number, status
    and lines, the name the visitor typed, and whether the contact is verified;
    never a customer id nor a name stored for a customer."""

    token: str
    case_id: int
    reference: str
    name: str
    status: str
    verified: bool
    lines: list[ChatLine]


class ChatSession(msgspec.Struct, kw_only=True):
    """An open chat, on the server: its token, its case, the customer record it is
    filed under (the visitor's unverified contact until linked), the name the
    visitor typed and its transcript so far. Send :meth:`view` to the widget."""

    token: str
    case_id: int
    customer_id: int
    visitor_name: str
    reference: str
    status: str
    verified: bool
    lines: list[ChatLine]

    def view(self) -> ChatView:
        """The widget's share of the session (no customer id, no stored name)."""
        return ChatView(
            token=self.token, case_id=self.case_id, reference=self.reference,
            name=self.visitor_name, status=self.status, verified=self.verified,
            lines=self.lines,
        )  # fmt: skip


class TranscriptQueued(msgspec.Struct, frozen=True):
    """The transcript was queued by mail (``outbound_id`` None: it was queued before)."""

    outbound_id: int | None


class VerificationSent(msgspec.Struct, frozen=True):
    """The answer to a transcript asked for before the chat was verified: a link
    to verify the typed address was mailed to it, no transcript."""


# --- visitor tokens ---------------------------------------------------------


def _mac(secret_key: str, payload: str) -> str:
    key = hashlib.sha256(f"helpdesk-chat-visitor:{secret_key}".encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:40]


def sign_visitor_token(secret_key: str, case_id: int, customer_id: int) -> str:
    """A new random, signed token naming one chat case and its customer."""
    payload = f"v1.{case_id}.{customer_id}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_mac(secret_key, payload)}"


def read_visitor_token(secret_key: str, token: str) -> tuple[int, int] | None:
    """``(case_id, customer_id)`` of a genuine token; None when forged or malformed
    (non-ASCII text included: compare_digest would raise TypeError on it)."""
    if not token.isascii():
        return None
    payload, _, mac = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    if not hmac.compare_digest(mac, _mac(secret_key, payload)):
        return None
    return int(parts[1]), int(parts[2])


# --- availability and the chat's life ------------------------------------------


async def agents_available(team_id: int | None) -> bool:
    """True when an active agent is ``available`` (in ``team_id``, when given)."""
    query = Agent.select(Agent.id).where(
        (Agent.active == True) & (Agent.availability == Availability.AVAILABLE)  # noqa: E712
    )
    if team_id is not None:
        members = TeamMember.select(TeamMember.agent).where(TeamMember.team == team_id)
        query = query.where(Agent.id.is_in([r["agent"] for r in await members]))
    return await query.first() is not None


def _clean(data: ChatStart) -> tuple[str, str, str]:
    name, message = data.name.strip()[:200], data.message.strip()
    if not name or not message or len(message) > MAX_LINE:
        raise ValidationError("name and message are required", field="message")
    address = normalize_email(data.email)
    if len(address) > 320 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise ValidationError("a valid email address is required", field="email")
    return name, address, message


class _Started(msgspec.Struct):
    """What is kept of a started chat for a repeated start: never its token."""

    case_id: int
    customer_id: int


def _client_key(client_id: str) -> str:
    """A widget's operation id: 16 to 64 random URL-safe characters."""
    if not _CLIENT_ID.fullmatch(client_id):
        raise ValidationError("an operation id is 16 to 64 letters, digits, '-' or '_'", field="id")
    return client_id


async def start_chat(
    secret_key: str, data: ChatStart, *, client_ip: str, client_id: str | None = None
) -> ChatSession:
    """Open a chat case for the visitor with its first line, filed under a new
    unverified contact (never under the customer who owns the typed address);
    once per ``client_id``: a repeat gets the same chat (with a new token)."""
    if client_id is None:
        return await _start(secret_key, data, client_ip)

    async def replay(stored: bytes) -> ChatSession:
        ids = msgspec.json.decode(stored, type=_Started)
        token = sign_visitor_token(secret_key, ids.case_id, ids.customer_id)
        session = await _session(ids.case_id, ids.customer_id, token)
        if session is None:
            raise ChatEndedError("this chat has ended; start a new one")
        return session

    return await idempotency.run_once(
        VISITOR_SCOPE, _client_key(client_id), idempotency.data_fingerprint("chat.start", data),
        lambda: _start(secret_key, data, client_ip), replay=replay,
        encode=lambda s: msgspec.json.encode(_Started(s.case_id, s.customer_id)),
    )  # fmt: skip


async def _start(secret_key: str, data: ChatStart, client_ip: str) -> ChatSession:
    name, address, message = _clean(data)
    await ratelimit.check(f"chat:ip:{client_ip}", PER_IP_PER_HOUR, 3600)
    subject = " ".join(message.split())[:120]
    async with transaction():
        customer_id = await chat_contacts.new_contact(name, address, data.locale)
        case = await case_service.open_case(
            SYSTEM,
            CaseCreate(
                subject=subject,
                body=message,
                customer_id=customer_id,
                channel=Channel.CHAT,
                team_id=data.team_id,
                tags=[chat_contacts.UNVERIFIED_TAG],
            ),
            meta={"client_ip": client_ip, "locale": data.locale,
                  "contact": {"name": name, "email": address}},
        )  # fmt: skip
        await chat_contacts.record_contact(customer_id, case.id, name, address)
    token = sign_visitor_token(secret_key, case.id, case.customer_id)
    session = await _session(case.id, case.customer_id, token)
    assert session is not None
    return session


async def leave_request(
    data: ChatStart, subject: str, *, client_ip: str, client_id: str | None = None
) -> WebFormReceipt:
    """No one available: open a web request instead, through the web form's service
    (its rate limits and its confirmation mail); once per ``client_id``."""
    name, address, message = _clean(data)
    form = WebFormIn(name=name, email=address, subject=subject[:500], message=message,
                     locale=data.locale if data.locale in ("vi", "en") else "vi")  # fmt: skip
    if client_id is None:
        return await submit_web_form(form, client_ip=client_ip)
    key = _client_key(client_id)
    return await submit_web_form_once(form, client_ip=client_ip, key=key, scope=VISITOR_SCOPE)


async def resume_chat(secret_key: str, token: str) -> ChatSession | None:
    """The open chat of a genuine token with its transcript; None when the token is
    not genuine, or its case ended (solved, closed, merged) or is not that customer's."""
    ids = read_visitor_token(secret_key, token)
    if ids is None:
        return None
    return await _session(ids[0], ids[1], token)


async def _session(case_id: int, customer_id: int, token: str) -> ChatSession | None:
    case = await Case.select(
        Case.id, Case.status, Case.channel, Case.customer, Case.merged_into
    ).where(Case.id == case_id).first()  # fmt: skip
    owner = await resolve_merged_customer(customer_id)
    if (
        case is None
        or case["channel"] != Channel.CHAT
        or case["customer"] != owner
        or case["merged_into"] is not None
        or case["status"] in _ENDED
    ):
        return None
    contact = await chat_contacts.contact_of_case(case_id)
    return ChatSession(
        token=token,
        case_id=case_id,
        customer_id=owner,
        visitor_name=contact.name if contact else "",
        reference=case_reference(case_id),
        status=case["status"],
        verified=contact is not None and contact.verified,
        lines=await transcript(case_id),
    )


async def say(session: ChatSession, text: str, *, client_id: str | None = None) -> ChatLine:
    """Add a customer line to the chat (refused once the case is solved or closed);
    once per ``client_id``: a repeat gets the same line."""
    body = text.strip()
    if not body or len(body) > MAX_LINE:
        raise ValidationError("a line is 1 to 5000 characters", field="text")
    if client_id is None:
        return await _say(session, body)

    async def replay(stored: bytes) -> ChatLine:
        message_id = msgspec.json.decode(stored, type=int)
        lines = await transcript(session.case_id, message_id=message_id)
        if not lines:  # the chat was merged away meanwhile
            raise ChatEndedError("this chat has ended; start a new one")
        return lines[0]

    return await idempotency.run_once(
        f"chat:case:{session.case_id}", _client_key(client_id),
        idempotency.data_fingerprint("chat.say", body), lambda: _say(session, body),
        encode=lambda line: msgspec.json.encode(line.id), replay=replay,
    )  # fmt: skip


async def _say(session: ChatSession, body: str) -> ChatLine:
    await ratelimit.check(f"chat:lines:{session.case_id}", LINES_PER_MINUTE, 60)
    row = await Case.select(Case.status).where(Case.id == session.case_id).first()
    if row is None or row["status"] in _ENDED:
        raise ChatEndedError("this chat has ended; start a new one")
    principal = await principal_for_customer(session.customer_id)
    message = await message_service.add_customer_message(
        principal, session.case_id, MessageIn(body=body), channel=Channel.CHAT
    )
    return ChatLine(
        id=message.id,
        who="customer",
        name=session.visitor_name,
        text=message.body_text,
        at=message.created_at.isoformat(),
    )


# --- transcript and live updates ------------------------------------------------


async def transcript(case_id: int, *, message_id: int | None = None) -> list[ChatLine]:
    """The public lines of a chat (customer lines and replies, never notes), oldest first;
    only ``message_id`` when given. A customer line bears the name the visitor typed,
    never a name stored for a customer (the chat may be linked to one)."""
    contact = await chat_contacts.contact_of_case(case_id)
    visitor = contact.name if contact else ""
    query = Message.select(
        Message.id, Message.kind, Message.body_text, Message.created_at,
        Message.author_agent.name.as_alias("agent_name"),
    ).where((Message.case == case_id) & Message.kind.is_in(list(_PUBLIC)))  # fmt: skip
    if message_id is not None:
        query = query.where(Message.id == message_id)
    rows = await query.order_by(Message.id)
    return [_line(row, visitor) for row in rows]


def _line(row: dict[str, Any], visitor: str) -> ChatLine:
    agent = row["kind"] == MessageKind.REPLY
    return ChatLine(
        id=int(row["id"]),
        who="agent" if agent else "customer",
        name=(row["agent_name"] if agent else visitor) or "",
        text=row["body_text"],
        at=row["created_at"].isoformat(),
    )


async def widget_update(case_id: int, event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """What the widget of chat ``case_id`` shows for one event of the customer's stream:
    ``{"type": "line", "line": …}``, ``{"type": "status", …}``, ``{"type": "reload"}``
    (the chat's contact was merged or linked: the widget reconnects and resumes
    on the stream of the customer it is filed under now), or None (other cases,
    notes, other changes). Notes never reach a customer stream; they are refused
    here too, by kind."""
    if event == "customer.merged":  # the chat may now be filed elsewhere: resume it
        return {"type": "reload"}
    if payload.get("case_id") != case_id:
        return None
    if event == "case.message_added" and payload.get("kind") in _PUBLIC:
        lines = await transcript(case_id, message_id=int(payload["message_id"]))
        return {"type": "line", "line": msgspec.to_builtins(lines[0])} if lines else None
    if event == "case.updated" and "status" in (payload.get("changes") or {}):
        status = str(payload["changes"]["status"][1])
        return {"type": "status", "status": status, "ended": status in _ENDED}
    return None


async def _mailbox(team_id: int | None) -> int | None:
    query = Mailbox.select(Mailbox.id).where(Mailbox.active == True)  # noqa: E712
    if team_id is not None:
        team_box = await query.where(Mailbox.team == team_id).first()
        if team_box is not None:
            return int(team_box["id"])
    row = await Mailbox.select(Mailbox.id).where(Mailbox.active == True).first()  # noqa: E712
    return int(row["id"]) if row else None


async def email_transcript(
    session: ChatSession, locale: str, *, base_url: str, timezone: str = "UTC"
) -> TranscriptQueued | VerificationSent:
    """Queue the transcript by mail, once the chat is verified; else mail the link
    that verifies the typed address instead (:class:`VerificationSent`).

    Verified (an agent merged the contact into a customer, or the visitor used
    the mailed link): the transcript goes to the working, primary address of the
    customer the chat is filed under now, never to an unproven address. One
    mail per transcript state: asking twice without a new line queues nothing
    more (``outbound_id`` None). Rate-limited per case. Raises
    :class:`NoMailboxError` when there is no mailbox to send from or no address
    to send to. Delivery is the outbound actor's business: queued is not sent.
    """
    await ratelimit.check(f"chat:transcript:{session.case_id}", TRANSCRIPTS_PER_HOUR, 3600)
    if not await chat_contacts.chat_verified(session.case_id):
        try:
            await chat_contacts.request_verification(session.case_id, locale, base_url)
        except (chat_contacts.NoSenderError, chat_contacts.LinkInvalidError) as exc:
            # no mailbox, or a chat older than contacts (nothing to verify): no mail
            raise NoMailboxError("no verification link can be sent for this chat") from exc
        return VerificationSent()
    case = await Case.select(Case.team, Case.customer).where(Case.id == session.case_id).first()
    owner = await resolve_merged_customer(int(case["customer"])) if case else 0
    address = (
        await CustomerEmail.select(CustomerEmail.address)
        .where((CustomerEmail.customer == owner) & CustomerEmail.bounced_at.is_null())
        .order_by(CustomerEmail.is_primary, ascending=False)
        .first()
    )
    mailbox_id = await _mailbox(case["team"] if case else None)
    lines = await transcript(session.case_id)
    if address is None or mailbox_id is None or not lines:
        raise NoMailboxError("no mailbox or address to send the transcript")
    _ = translator(locale)
    reference = case_reference(session.case_id)
    subject = _("Transcript of your chat [#%(reference)s]", reference=reference)
    body = [_("Hello %(name)s,", name=session.visitor_name), "",
            _("Here is the transcript of your chat with our support team (case number: "
              "%(reference)s).", reference=reference), ""]  # fmt: skip
    body += [f"[{format_when(ln.at, locale, timezone)}] {ln.name}: {ln.text}" for ln in lines]
    outbound_id = await queue_notice(
        mailbox_id, address["address"], "chat_transcript", lines[-1].id, subject, "\n".join(body)
    )
    return TranscriptQueued(outbound_id=outbound_id)
