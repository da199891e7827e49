"""Who a chat visitor says they are: an **unverified** contact until proven.

A visitor types a name and an address into the widget; nothing proves the
address is theirs. So a new chat never joins the customer who owns that
address: :func:`new_contact` makes a customer record of its own for the chat
(the typed name, no organization, **no** ``customer_emails`` row: that table
holds proven addresses only, and mail, the portal and the directory's owner
lookup all go by it) and a :class:`~helpdesk.tables.ChatContact` row keeping
the typed name and address. The chat's case carries the tag
:data:`UNVERIFIED_TAG`, so the console shows that the contact is unverified;
the contact's record is found in the directory by the typed address.

A chat is linked to a real customer in one of two ways only:

* an agent merges the contact's record into the customer (the console's
  customer merge, :func:`helpdesk.services.customers.merge_customers`), having
  checked who the visitor is; or
* the visitor proves the address: :func:`request_verification` mails a
  one-time link (only the SHA-256 of its token is stored, and the queued mail
  holds a placeholder: :mod:`helpdesk.channels.email.mail_tokens`; it expires after
  :data:`VERIFY_HOURS`), and :func:`confirm_verification` marks the contact
  verified and links the chat to the customer owning the address, or, when no
  customer owns it, gives the contact's record the (now proven) address.

:func:`chat_verified` tells whether either happened. What is not promised: a
verification link proves control of a mailbox at the time of the click, not
who typed the chat; an agent's merge is the agent's judgement.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import msgspec

from helpdesk import ratelimit
from helpdesk.channels.email import mail_tokens
from helpdesk.channels.email.system_mail import queue_system_mail
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import case_reference
from helpdesk.errors import HelpdeskError
from helpdesk.events import CustomersMerged, customer_stream, emit
from helpdesk.i18n import translator
from helpdesk.policy import SYSTEM
from helpdesk.services import audit, case_search
from helpdesk.services.customers import resolve_merged_customer
from helpdesk.tables import Case, CaseTag, ChatContact, Customer, CustomerEmail, Message
from helpdesk.text import fold

__all__ = [
    "UNVERIFIED_TAG",
    "VERIFY_HOURS",
    "ChatContactRow",
    "LinkInvalidError",
    "NoSenderError",
    "chat_verified",
    "confirm_verification",
    "contact_of_case",
    "new_contact",
    "record_contact",
    "request_verification",
    "verification_usable",
]

UNVERIFIED_TAG = "chat-unverified"
"""The tag of a chat case whose contact is not proven (removed by a verification)."""
VERIFY_HOURS = 24
VERIFY_MAILS_PER_HOUR = 3
"""Verification mails one chat, and one address, may be sent in an hour (the
address is not proven: nobody may use the widget to flood someone's mailbox)."""


class LinkInvalidError(HelpdeskError):
    """The verification link is unknown, used or expired."""

    code = "chat_link_invalid"
    status = 400
    title = "Link not valid"


class NoSenderError(HelpdeskError):
    """No mailbox can send the verification mail."""

    code = "no_mailbox"
    status = 409
    title = "Mail cannot be sent"


class ChatContactRow(msgspec.Struct, frozen=True, kw_only=True):
    """The contact of one chat, as typed, and whether it is linked or verified."""

    id: int
    customer_id: int
    case_id: int | None
    name: str
    address: str
    verified: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_contact(name: str, address: str, locale: str) -> int:
    """A new customer record for an unverified chat visitor; its id.

    Call inside the transaction that opens the chat, then :func:`record_contact`.
    It holds the typed name, no organization and no address (the typed address
    is only in its search text, so that agents find it, and in the contact row).
    """
    rows = await Customer.insert(
        Customer(
            name=name[:200],
            locale=locale if locale in ("vi", "en") else "vi",
            organization=None,
            search_text=fold(f"{name} {address} {UNVERIFIED_TAG}"),
        )
    )
    return int(rows[0]["id"])


async def record_contact(customer_id: int, case_id: int, name: str, address: str) -> None:
    """Keep what the visitor typed, for the chat ``case_id`` of ``customer_id``."""
    await ChatContact.insert(
        ChatContact(customer=customer_id, case=case_id, name=name[:200], address=address)
    )


async def contact_of_case(case_id: int) -> ChatContactRow | None:
    """The contact who opened chat ``case_id`` (None for chats older than contacts).

    ``verified``: the visitor used a verification link, or an agent merged the
    contact's record into another customer.
    """
    row = await (
        ChatContact.select(
            ChatContact.id, ChatContact.customer, ChatContact.case, ChatContact.name,
            ChatContact.address, ChatContact.verified_at,
            ChatContact.customer.merged_into.as_alias("merged_into"),
        )
        .where(ChatContact.case == case_id)
        .order_by(ChatContact.id)
        .first()
    )  # fmt: skip
    if row is None:
        return None
    return ChatContactRow(
        id=int(row["id"]),
        customer_id=int(row["customer"]),
        case_id=row["case"],
        name=row["name"],
        address=row["address"],
        verified=row["verified_at"] is not None or row["merged_into"] is not None,
    )


async def chat_verified(case_id: int) -> bool:
    """True when the contact of chat ``case_id`` is proven (see :func:`contact_of_case`).

    False for a chat with no contact row (made before contacts existed): its
    customer was chosen by a typed address, so it proves nothing either.
    """
    contact = await contact_of_case(case_id)
    return contact is not None and contact.verified


async def request_verification(case_id: int, locale: str, base_url: str) -> None:
    """Mail a one-time link to the address the visitor of chat ``case_id`` typed.

    A new link replaces an earlier one (only the last works). The mail is a
    durable system mail, queued in the same transaction as the link: queued is
    not delivered. Raises :class:`LinkInvalidError` when the chat has no
    unverified contact, :class:`NoSenderError` when no mailbox can send, and
    :class:`~helpdesk.ratelimit.RateLimitedError` past :data:`VERIFY_MAILS_PER_HOUR`.
    """
    contact = await contact_of_case(case_id)
    if contact is None or contact.verified:
        raise LinkInvalidError("this chat has no contact to verify")
    await ratelimit.check(f"chat:verify:{case_id}", VERIFY_MAILS_PER_HOUR, 3600)
    await ratelimit.check(f"chat:verify:address:{contact.address}", VERIFY_MAILS_PER_HOUR, 3600)
    nonce = secrets.token_urlsafe(18)  # only the nonce is in the queued mail
    digest = _hash(mail_tokens.chat_token(nonce))
    _ = translator(locale if locale in ("vi", "en") else "vi")
    reference = case_reference(case_id)
    link = f"{base_url.rstrip('/')}/chat/verify/{mail_tokens.chat_placeholder(nonce)}"
    subject = _("Confirm your email address for chat %(reference)s", reference=reference)
    text = "\n".join([
        _("Hello %(name)s,", name=contact.name), "",
        _("Someone, probably you, started a chat with our support team (case number: "
          "%(reference)s) and gave this email address.", reference=reference),
        _("To confirm that this address is yours, open this link within %(hours)s hours:",
          hours=VERIFY_HOURS),
        link, "",
        _("If it was not you, ignore this mail: nothing will be linked to your address."),
    ]) + "\n"  # fmt: skip
    async with transaction():
        await ChatContact.update(
            {
                ChatContact.token_hash: digest,
                ChatContact.token_expires_at: utcnow() + timedelta(hours=VERIFY_HOURS),
            }
        ).where(ChatContact.id == contact.id)
        queued = await queue_system_mail(
            contact.address, kind="chat_verify", key=digest[:24], subject=subject, text=text,
            case_id=case_id,
        )  # fmt: skip
        if queued is None:
            raise NoSenderError("no mailbox can send the verification mail")


def _usable(token: str) -> Any:
    return (ChatContact.token_hash == _hash(token)) & (ChatContact.token_expires_at > utcnow())


async def verification_usable(token: str) -> bool:
    """True when ``token`` is a verification link not used yet and not expired."""
    return await ChatContact.exists().where(_usable(token))


async def confirm_verification(token: str) -> int:
    """Use a verification link up; the id of the chat case it verified.

    In one transaction: the contact is marked verified (one of two concurrent
    uses wins: a conditional update); the chat is linked to the customer who
    owns the address (the contact's record is merged into theirs, as an agent's
    merge would), or, when nobody owns it, the contact's record gets the address
    as its primary one. The case loses :data:`UNVERIFIED_TAG`. Raises
    :class:`LinkInvalidError` for an unknown, used or expired link.
    """
    now = utcnow()
    async with transaction():
        rows = await (
            ChatContact.update({ChatContact.token_hash: None, ChatContact.verified_at: now})
            .where(_usable(token))
            .returning(
                ChatContact.id,
                ChatContact.customer,
                ChatContact.case,
                ChatContact.name,
                ChatContact.address,
            )
        )
        if not rows:
            raise LinkInvalidError("the verification link is unknown, used or expired")
        contact_customer, case_id = int(rows[0]["customer"]), rows[0]["case"]
        address = str(rows[0]["address"])
        owner = await _owner_of(address)
        if owner is None:
            given = await (
                CustomerEmail.insert(
                    CustomerEmail(
                        customer=contact_customer,
                        address=address,
                        is_primary=True,
                        verified_at=now,  # proven by the link
                    )
                )
                .on_conflict(target=CustomerEmail.address, action="DO NOTHING")
                .returning(CustomerEmail.id)
            )
            if given:
                await Customer.update(
                    {Customer.search_text: fold(f"{rows[0]['name']} {address}")}
                ).where(Customer.id == contact_customer)
            else:  # mail from the address filed a customer for it meanwhile
                owner = await _owner_of(address)
        if owner is not None and owner != await resolve_merged_customer(contact_customer):
            await _link(contact_customer, owner)
        if case_id is not None:
            await _untag(int(case_id))
        await case_search.reindex_customer(await resolve_merged_customer(contact_customer))
        await audit.record(
            SYSTEM, "chat.contact_verified", entity="customer", entity_id=contact_customer,
            case_id=case_id, changes={"address": address},
        )  # fmt: skip
    return int(case_id) if case_id is not None else 0


async def _owner_of(address: str) -> int | None:
    """The (merge-resolved) customer owning ``address``, if any."""
    row = await (
        CustomerEmail.select(CustomerEmail.customer).where(CustomerEmail.address == address).first()
    )
    return await resolve_merged_customer(int(row["customer"])) if row else None


async def _link(source: int, target: int) -> None:
    """Move the contact record's cases and lines to ``target``, and point it there."""
    target_row = await Customer.select(Customer.organization).where(Customer.id == target).first()
    organization = target_row["organization"] if target_row else None
    await Case.update({Case.customer: target, Case.organization: organization}).where(
        Case.customer == source
    )
    await Message.update({Message.author_customer: target}).where(Message.author_customer == source)
    await Customer.update({Customer.merged_into: target, Customer.search_text: ""}).where(
        Customer.id == source
    )
    await emit(
        CustomersMerged(source_id=source, target_id=target),
        [customer_stream(source), customer_stream(target)],
    )


async def _untag(case_id: int) -> None:
    row = await Case.select(Case.tags).where(Case.id == case_id).output(load_json=True).first()
    current = list(row["tags"] or []) if row is not None else []
    if UNVERIFIED_TAG not in current:
        return
    tags = [tag for tag in current if tag != UNVERIFIED_TAG]
    await Case.update({Case.tags: tags, Case.version: Case.version + 1}).where(Case.id == case_id)
    await CaseTag.delete().where((CaseTag.case == case_id) & (CaseTag.tag == UNVERIFIED_TAG))
