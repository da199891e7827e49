"""Staff changing a customer from the console, and opening a case for one who
phoned or came in.

Everything goes through the customer services and their rules
(:mod:`helpdesk.services.customers`,
:mod:`helpdesk.services.customer_addresses`): an address added here is
unverified and ``added_by_staff`` (it grants nothing until the customer
writes from it), the customer is told of added and removed addresses, the
last verified address stays unless an admin removes it, and putting a
customer into an organization that shares its cases needs an admin.

``notes`` is free text about the customer for staff: never in
:class:`~helpdesk.schemas.CustomerOut`, so never shown to the customer.

A case opened for a customer (:func:`open_case_for_customer`) is an
ordinary new case (:func:`helpdesk.services.cases.open_case`: the same
event, so routing and the SLA apply), on the channel ``phone`` or
``walk_in``, its first message written by the agent as the customer's words
(marked ``entered_by_agent`` in its meta) or, when the agent keeps it as an
internal note, a customer message holding the subject and the note after it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.db import transaction
from helpdesk.domain import Channel, MessageKind, Priority
from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.schemas import (
    Body,
    CaseCreate,
    CaseOut,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    Email,
    Id,
    Language,
    MessageIn,
    Name,
    Subject,
    clean_lines,
)
from helpdesk.services import audit, cases, customers
from helpdesk.services.lookup import case_row
from helpdesk.services.messages import insert_message
from helpdesk.tables import Customer, CustomerEmail
from helpdesk.text import fold, normalize_email

__all__ = [
    "ASSISTED_CHANNELS",
    "AddressIn",
    "AssistedCaseIn",
    "NewCustomerIn",
    "ProfileUpdate",
    "add_address",
    "find_or_add_customer",
    "may_see",
    "open_case_for_customer",
    "remove_address",
    "update_profile",
]

ASSISTED_CHANNELS = (Channel.PHONE, Channel.WALK_IN)
Notes = Annotated[str, Meta(max_length=10_000)]
Phone = Annotated[str, Meta(max_length=50)]


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a customer from their page; fields left out stay as they are."""

    name: Name | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    locale: Language | UnsetType = UNSET
    organization_id: Id | UnsetType | None = UNSET
    notes: Notes | UnsetType = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "name", "phone")


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    """An email address typed by staff."""

    address: Email


class NewCustomerIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A customer typed in by staff: a name, and an email address or a phone (or both)."""

    name: Name
    email: Email | None = None
    phone: Phone = ""
    locale: Language = "vi"

    def __post_init__(self) -> None:
        clean_lines(self, "name", "phone")
        self.phone = self.phone.strip()


class AssistedCaseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A case an agent opens for a customer: an existing one (``customer_id``)
    or one found or created from ``new_customer``."""

    subject: Subject
    body: Body
    channel: Channel = Channel.PHONE
    customer_id: Id | None = None
    new_customer: NewCustomerIn | None = None
    as_note: bool = False
    priority: Priority = Priority.NORMAL
    team_id: Id | None = None

    def __post_init__(self) -> None:
        clean_lines(self, "subject")


def _search_text(name: str, emails: list[str], phone: str) -> str:
    return fold(" ".join([name, *emails, phone]))


async def update_profile(
    principal: Principal, customer_id: int, data: ProfileUpdate
) -> CustomerOut:
    """Change a customer's name, phone, language, organization and notes, in
    one transaction (audited; the notes' text is not copied into the log)."""
    require(principal, Action.MANAGE_CUSTOMERS)
    change = CustomerUpdate(
        name=data.name, phone=data.phone, locale=data.locale, organization_id=data.organization_id
    )
    async with transaction():
        updated = await customers.update_customer(principal, customer_id, change)
        if data.notes is not UNSET:
            await Customer.update({Customer.notes: data.notes}).where(Customer.id == customer_id)
            await audit.record(
                principal, "customer.notes_changed", entity="customer", entity_id=customer_id
            )
    return updated


async def add_address(principal: Principal, customer_id: int, data: AddressIn) -> CustomerOut:
    """Add an address to a customer: unverified, marked as typed by staff,
    told to the customer at their verified addresses (409 when it belongs to
    another customer)."""
    current = await customers.get_customer(principal, customer_id)
    address = normalize_email(data.address)
    if address in current.emails:
        return current
    change = CustomerUpdate(emails=[*current.emails, address])
    return await customers.update_customer(principal, customer_id, change)


async def remove_address(principal: Principal, customer_id: int, address: str) -> CustomerOut:
    """Remove one address of a customer, by the rules of
    :func:`~helpdesk.services.customer_addresses.replace_emails` (the last
    verified one only by an admin). The only address of a customer stays:
    :class:`~helpdesk.errors.ValidationError`."""
    current = await customers.get_customer(principal, customer_id)
    address = normalize_email(address)
    if address not in current.emails:
        raise NotFoundError(f"customer {customer_id} has no address {address}")
    kept = [a for a in current.emails if a != address]
    if not kept:
        raise ValidationError("the only address of a customer cannot be removed", field="address")
    return await customers.update_customer(principal, customer_id, CustomerUpdate(emails=kept))


async def _owner_of_address(address: str) -> int | None:
    row = (
        await CustomerEmail.select(CustomerEmail.customer)
        .where(CustomerEmail.address == normalize_email(address))
        .first()
    )
    return await customers.resolve_merged_customer(int(row["customer"])) if row else None


async def _only_owner_of_phone(phone: str) -> int | None:
    rows = await Customer.select(Customer.id).where(
        (Customer.phone == phone) & Customer.merged_into.is_null()
    )
    return int(rows[0]["id"]) if len(rows) == 1 else None


async def find_or_add_customer(principal: Principal, data: NewCustomerIn) -> tuple[int, bool]:
    """The customer named by ``data``, and whether it was created now.

    An address that belongs to a customer finds that customer; else a phone
    number that exactly one customer has finds them; else a new customer is
    created (their address unverified, typed by staff). Nothing of a found
    customer changes. Call inside a transaction.
    """
    require(principal, Action.MANAGE_CUSTOMERS)
    if data.email is None and not data.phone:
        raise ValidationError("give an email address or a phone number", field="email")
    if data.email is not None:
        owner = await _owner_of_address(data.email)
        if owner is not None:
            return owner, False
        new = CustomerIn(name=data.name, emails=[data.email], phone=data.phone, locale=data.locale)
        return (await customers.create_customer(principal, new)).id, True
    owner = await _only_owner_of_phone(data.phone)
    if owner is not None:
        return owner, False
    rows = await Customer.insert(
        Customer(
            name=data.name,
            phone=data.phone,
            locale=data.locale,
            search_text=_search_text(data.name, [], data.phone),
        )
    )
    customer_id = int(rows[0]["id"])
    await audit.record(principal, "customer.created", entity="customer", entity_id=customer_id)
    return customer_id, True


async def open_case_for_customer(principal: Principal, data: AssistedCaseIn) -> CaseOut:
    """Open a case on behalf of a customer who phoned or came in, in one
    transaction: the customer found or created, the case opened as any new
    case (routing and SLA follow its ``case.opened`` event)."""
    require(principal, Action.WORK_CASES)
    if data.channel not in ASSISTED_CHANNELS:
        raise ValidationError("the channel must be phone or walk-in", field="channel")
    if not data.body.strip():
        raise ValidationError("write what the customer said", field="body")
    async with transaction():
        if data.customer_id is not None:
            customer_id = (await customers.get_customer(principal, data.customer_id)).id
        elif data.new_customer is not None:
            customer_id, _ = await find_or_add_customer(principal, data.new_customer)
        else:
            raise ValidationError("choose a customer or enter a new one", field="customer")
        first = data.subject if data.as_note else data.body
        case = await cases.open_case(
            principal,
            CaseCreate(
                subject=data.subject,
                body=first,
                customer_id=customer_id,
                priority=data.priority,
                channel=data.channel,
                team_id=data.team_id,
            ),
            meta={"entered_by_agent": principal.id},
        )
        if data.as_note:
            await insert_message(
                case=await case_row(case.id),
                kind=MessageKind.NOTE,
                data=MessageIn(body=data.body),
                channel=data.channel,
                author_agent_id=principal.id,
            )
    return case


def may_see(principal: Principal, case: CaseOut) -> bool:
    """True when ``principal`` may see ``case`` (e.g. after opening it for another team)."""
    return case_scope(principal).allows(
        {
            "team": case.team_id,
            "assignee": case.assignee_id,
            "customer": case.customer_id,
            "organization": case.organization_id,
        }
    )
