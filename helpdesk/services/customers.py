"""Customers: find or create by address, edit, merge, and the 360 view.

Addresses and identity (see also :mod:`helpdesk.services.portal_access`):

* an address is *verified* (``verified_at``) once the customer proved it is
  theirs: the email channel files a mail from it
  (``find_or_create_by_email(..., verified=True)``), or a sign-in link sent
  to it is used. Only verified addresses sign in to the portal;
* addresses typed in by staff (:func:`create_customer`,
  :func:`update_customer`) are unverified and marked ``added_by_staff``: they
  grant nothing until the customer writes from them. Adding or removing an
  address by staff is audited, and the customer is told by a system mail in
  their language at their verified addresses (a removed verified address is
  told too);
* staff may not remove a customer's last verified address (409
  ``last_verified_address``, :mod:`helpdesk.services.customer_addresses`); an
  admin may (e.g. a mailbox the customer lost);
* merging two customers (and merging cases of two customers, in
  :mod:`helpdesk.services.cases`) needs a confirmation naming both
  (:class:`ConfirmationRequiredError`, 409 ``confirmation_required``), and
  an admin when they belong to different organizations
  (:class:`CrossOrganizationMergeError`, 403 ``cross_organization_merge``).

Does not: verify that an inbound mail's sender is genuine (no SPF/DKIM check
here); a mail filed from an address counts as proof of it.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from helpdesk.clock import utcnow
from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.events import CustomersMerged, customer_stream, emit
from helpdesk.policy import Action, Principal, case_scope, may, require
from helpdesk.rows import CaseRow
from helpdesk.schemas import (
    CaseOut,
    Customer360,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
)
from helpdesk.services import audit, case_search, web_sessions
from helpdesk.services.customer_addresses import (
    add_emails,
    addresses_of,
    mark_address_verified,
    replace_emails,
)
from helpdesk.services.organizations import (
    ensure_may_join,
    get_organization,
    organization_for_email,
)
from helpdesk.services.rows import as_utc, case_out
from helpdesk.tables import Case, Customer, CustomerEmail, Message, Organization
from helpdesk.text import fold, normalize_email


class ConfirmationRequiredError(ConflictError):
    """A merge of two customers' data was not confirmed by naming both.

    ``extra``: ``confirm_customers`` (the ids to send back, source first),
    ``source_customer`` and ``target_customer`` (``id`` and ``name``).
    """

    code = "confirmation_required"
    title = "Confirmation required"


class CrossOrganizationMergeError(PermissionDeniedError):
    """Merging data of customers of different organizations needs an admin."""

    code = "cross_organization_merge"
    title = "Only an admin may merge across organizations"


OPEN_STATUSES = ("new", "open", "pending", "on_hold")


def _out(row: dict[str, Any], addresses: list[dict[str, Any]]) -> CustomerOut:
    return CustomerOut(
        id=row["id"],
        name=row["name"],
        emails=[a["address"] for a in addresses],
        phone=row["phone"],
        locale=row["locale"],
        organization_id=row["organization"],
        merged_into_id=row["merged_into"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        verified_emails=[a["address"] for a in addresses if a["verified_at"] is not None],
    )


def _search_text(name: str, emails: list[str], phone: str) -> str:
    return fold(" ".join([name, *emails, phone]))


async def create_customer(principal: Principal, data: CustomerIn) -> CustomerOut:
    """Create a customer; every address must be new. The organization defaults
    to the one owning the first address's domain.

    The addresses are unverified; typed in by an agent they are marked
    ``added_by_staff`` and sign nobody in until the customer writes from
    them. Naming an organization that shares visibility needs
    :attr:`~helpdesk.policy.Action.SHARE_ORGANIZATION`.
    """
    require(principal, Action.MANAGE_CUSTOMERS)
    async with transaction():
        org_id = data.organization_id or await organization_for_email(data.emails[0])
        if data.organization_id is not None:
            await ensure_may_join(principal, data.organization_id)
        rows = await Customer.insert(
            Customer(
                name=data.name,
                phone=data.phone,
                locale=data.locale,
                organization=org_id,
                search_text=_search_text(data.name, data.emails, data.phone),
            )
        )
        customer_id = rows[0]["id"]
        await add_emails(customer_id, data.emails, by_staff=principal.kind == "agent")
        await audit.record(principal, "customer.created", entity="customer", entity_id=customer_id)
    return await get_customer(principal, customer_id)


async def find_or_create_by_email(
    address: str, name: str | None = None, locale: str = "vi", *, verified: bool = False
) -> int:
    """The id of the customer owning ``address``, created when new.

    Call inside a transaction. Merged customers resolve to their target.
    Safe under concurrency: when two transactions create a customer for the
    same new address at once, the second finds the first one's customer
    (the unique address decides) instead of failing.

    ``verified``: the caller has proof that the customer controls the address
    (the email channel filing a mail from it); the address is marked
    verified, new or not. Others (web form, chat, API) leave it as it is.
    """
    normalized = normalize_email(address)
    existing = await _owner_of(normalized)
    if existing is not None:
        if verified:
            await mark_address_verified(normalized)
        return existing
    display = (name or "").strip() or normalized.split("@", 1)[0]
    org_id = await organization_for_email(normalized)
    rows = await Customer.insert(
        Customer(
            name=display[:200],
            locale=locale,
            organization=org_id,
            search_text=_search_text(display, [normalized], ""),
        )
    )
    customer_id = int(rows[0]["id"])
    inserted = (
        await CustomerEmail.insert(
            CustomerEmail(
                customer=customer_id,
                address=normalized,
                is_primary=True,
                verified_at=utcnow() if verified else None,
            )
        )
        .on_conflict(target=CustomerEmail.address, action="DO NOTHING")
        .returning(CustomerEmail.id)
    )
    if inserted:
        return customer_id
    # A concurrent transaction committed this address first: use its customer.
    await Customer.delete().where(Customer.id == customer_id)
    winner = await _owner_of(normalized)
    if winner is None:  # pragma: no cover - the conflicting row was committed
        raise ConflictError(f"could not create a customer for {normalized}")
    return winner


_OWNER_OF = (
    "SELECT e.customer AS customer, c.merged_into AS merged_into"
    " FROM customer_emails e JOIN customers c ON c.id = e.customer WHERE e.address = {}"
)


async def _owner_of(normalized: str) -> int | None:
    """The (merge-resolved) customer owning an address: one query in the usual case."""
    rows = await CustomerEmail.raw(_OWNER_OF, normalized)
    if not rows:
        return None
    if rows[0]["merged_into"] is None:
        return int(rows[0]["customer"])
    return await resolve_merged_customer(int(rows[0]["merged_into"]))


async def resolve_merged_customer(customer_id: int) -> int:
    """The customer that ``customer_id`` was merged into (itself if never merged)."""
    seen: set[int] = set()
    while customer_id not in seen:
        seen.add(customer_id)
        row = await Customer.select(Customer.merged_into).where(Customer.id == customer_id).first()
        if row is None or row["merged_into"] is None:
            return customer_id
        customer_id = int(row["merged_into"])
    return customer_id


async def principal_for_customer(customer_id: int) -> Principal:
    """The principal of a customer, with their organization and whether it
    shares visibility of its cases. A merged customer acts as its target."""
    customer_id = await resolve_merged_customer(customer_id)
    row = (
        await Customer.select(
            Customer.id,
            Customer.organization,
            Customer.organization.shared_visibility.as_alias("shared"),
        )
        .where(Customer.id == customer_id)
        .first()
    )
    if row is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return Principal(
        kind="customer",
        id=customer_id,
        organization_id=row["organization"],
        organization_shared=bool(row["shared"]),
    )


async def get_customer(principal: Principal, customer_id: int) -> CustomerOut:
    """One customer; a customer principal may only read themselves."""
    if principal.kind == "customer" and principal.id != customer_id:
        raise NotFoundError(f"customer {customer_id} not found")
    if principal.kind == "agent":
        require(principal, Action.VIEW_DIRECTORY)
    row = await Customer.select().where(Customer.id == customer_id).first()
    if row is None:
        raise NotFoundError(f"customer {customer_id} not found")
    addresses = await addresses_of([customer_id])
    return _out(row, addresses[customer_id])


async def list_customers(
    principal: Principal, *, text: str | None = None, after_id: int = 0, limit: int = 50
) -> list[CustomerOut]:
    """Customers by id, optionally matching ``text`` in name, address or phone
    (case- and diacritics-insensitive)."""
    require(principal, Action.VIEW_DIRECTORY)
    query = Customer.select().where(Customer.id > after_id, Customer.merged_into.is_null())
    if text:
        query = query.where(Customer.search_text.like(f"%{_escape_like(fold(text))}%"))
    rows = await query.order_by(Customer.id).limit(limit)
    addresses = await addresses_of([row["id"] for row in rows])
    return [_out(row, addresses[row["id"]]) for row in rows]


def _escape_like(value: str) -> str:
    return value.replace("%", "").replace("_", "")


async def update_customer(
    principal: Principal, customer_id: int, data: CustomerUpdate
) -> CustomerOut:
    """Change a customer; ``emails`` is the new list of addresses.

    Addresses kept keep what is known of them (verified, bounced); new ones
    are unverified and, added by an agent, grant nothing until the customer
    writes from them. The primary address is the first verified one of the
    list (else the first the customer gave us, else the first). The
    customer is told of added and removed addresses at their verified
    addresses (:func:`helpdesk.services.customer_addresses.replace_emails`).
    Raises ``LastVerifiedAddressError`` (409) when the list leaves out every
    verified address (admins may), and
    :class:`~helpdesk.errors.PermissionDeniedError` when moving the customer
    into an organization that shares visibility without
    :attr:`~helpdesk.policy.Action.SHARE_ORGANIZATION`.
    """
    require(principal, Action.MANAGE_CUSTOMERS)
    async with transaction():
        current = await get_customer(principal, customer_id)
        values: dict[Any, Any] = {}
        if data.name is not UNSET:
            values[Customer.name] = data.name
        if data.phone is not UNSET:
            values[Customer.phone] = data.phone
        if data.locale is not UNSET:
            values[Customer.locale] = data.locale
        if data.organization_id is not UNSET:
            if data.organization_id != current.organization_id:
                await ensure_may_join(principal, data.organization_id)
                await web_sessions.access_changed("portal", [customer_id])  # open portals
            values[Customer.organization] = data.organization_id
        emails = current.emails
        if data.emails is not UNSET:
            locale = data.locale if data.locale is not UNSET else current.locale
            emails = await replace_emails(principal, current, data.emails, locale)
        name = data.name if data.name is not UNSET else current.name
        phone = data.phone if data.phone is not UNSET else current.phone
        values[Customer.search_text] = _search_text(name, emails, phone)
        await Customer.update(values).where(Customer.id == customer_id)
        await case_search.reindex_customer(customer_id)
        await audit.record(principal, "customer.updated", entity="customer", entity_id=customer_id)
    return await get_customer(principal, customer_id)


async def check_merge_allowed(
    principal: Principal,
    source: CustomerOut,
    target: CustomerOut,
    confirm_customers: list[int] | None,
) -> None:
    """Refuse to merge data of ``source`` into ``target`` unless it is allowed and confirmed.

    Nothing to check for one customer. Customers of different organizations
    need :attr:`~helpdesk.policy.Action.MERGE_ACROSS_ORGANIZATIONS` (admins):
    :class:`CrossOrganizationMergeError` otherwise. Two organizations always
    count as different; a customer without an organization and one with an
    organization count as different when that organization shares
    visibility (the merge would open its cases to the other's addresses).
    Then ``confirm_customers`` must be exactly ``[source.id, target.id]``:
    :class:`ConfirmationRequiredError` otherwise, naming both customers so
    the caller can ask a person.

    The system principal (workers, e.g. the email channel joining a split
    thread) decided itself and is not asked.
    """
    if source.id == target.id or principal.kind == "system":
        return
    if await _different_organizations(source.organization_id, target.organization_id) and not may(
        principal, Action.MERGE_ACROSS_ORGANIZATIONS
    ):
        raise CrossOrganizationMergeError(
            f"customers {source.id} and {target.id} belong to different organizations:"
            " only an admin may merge them"
        )
    if confirm_customers != [source.id, target.id]:
        raise ConfirmationRequiredError(
            f"this merges data of customer {source.id} ({source.name}) into customer"
            f" {target.id} ({target.name}): confirm with confirm_customers"
            f" [{source.id}, {target.id}]",
            confirm_customers=[source.id, target.id],
            source_customer={"id": source.id, "name": source.name},
            target_customer={"id": target.id, "name": target.name},
        )


async def _different_organizations(first: int | None, second: int | None) -> bool:
    if first == second:
        return False
    if first is not None and second is not None:
        return True
    org = (
        await Organization.select(Organization.shared_visibility)
        .where(Organization.id == (first if first is not None else second))
        .first()
    )
    return bool(org and org["shared_visibility"])


async def merge_customers(
    principal: Principal,
    source_id: int,
    target_id: int,
    confirm_customers: list[int] | None = None,
) -> CustomerOut:
    """Merge ``source_id`` into ``target_id``: addresses (verified or not, as
    they were), cases and messages move; the source stays as a pointer to the
    target, and its verified addresses sign in as the target from then on.

    Needs ``confirm_customers == [source_id, target_id]`` and, for customers
    of different organizations, an admin (see :func:`check_merge_allowed`).
    """
    require(principal, Action.MERGE_CUSTOMERS)
    if source_id == target_id:
        raise ValidationError("a customer cannot be merged into itself")
    async with transaction():
        await _lock_customers([source_id, target_id])
        source = await get_customer(principal, source_id)
        target = await get_customer(principal, target_id)
        if source.merged_into_id is not None or target.merged_into_id is not None:
            raise ConflictError("one of the customers was already merged")
        await check_merge_allowed(principal, source, target, confirm_customers)
        await CustomerEmail.update(
            {CustomerEmail.customer: target_id, CustomerEmail.is_primary: False}
        ).where(CustomerEmail.customer == source_id)
        await Case.update({Case.customer: target_id}).where(Case.customer == source_id)
        await Message.update({Message.author_customer: target_id}).where(
            Message.author_customer == source_id
        )
        await Customer.update(
            {
                Customer.merged_into: target_id,
                Customer.search_text: "",
            }
        ).where(Customer.id == source_id)
        await Customer.update(
            {
                Customer.search_text: _search_text(
                    target.name, target.emails + source.emails, target.phone
                )
            }
        ).where(Customer.id == target_id)
        await case_search.reindex_customer(target_id)
        changes = {"source_id": source_id, "target_id": target_id}
        await audit.record(
            principal, "customer.merged", entity="customer", entity_id=target_id, changes=changes
        )
        await emit(
            CustomersMerged(source_id=source_id, target_id=target_id),
            [customer_stream(source_id), customer_stream(target_id)],
        )
    return await get_customer(principal, target_id)


async def _lock_customers(customer_ids: list[int]) -> None:
    """Lock customer rows in id order (PostgreSQL; SQLite's writers are serialised).

    Without it two crossed merges (A into B, B into A) could both pass the
    "not merged yet" check and leave a cycle.
    """
    if is_postgres(current_engine()):
        await (
            Customer.select(Customer.id)
            .where(Customer.id.is_in(sorted(set(customer_ids))))
            .order_by(Customer.id)
            .lock_rows("NO KEY UPDATE")
        )


async def customer_360(principal: Principal, customer_id: int, limit: int = 100) -> Customer360:
    """The customer, their organization, their cases and their organization's
    other cases (newest first, each list at most ``limit``), within what the
    principal may see. ``open_count`` counts every visible open case of the
    customer, listed or not. A fixed number of queries, however many cases."""
    customer = await get_customer(principal, customer_id)
    organization = (
        await get_organization(principal, customer.organization_id)
        if customer.organization_id is not None
        else None
    )
    scope = case_scope(principal).where()
    own = Case.select().where(Case.customer == customer_id)
    if scope is not None:
        own = own.where(scope)
    cases = [
        case_out(CaseRow.from_row(r))
        for r in await own.order_by(Case.updated_at, Case.id, ascending=False).limit(limit)
    ]
    org_cases: list[CaseOut] = []
    if organization is not None:
        query = Case.select().where(
            (Case.organization == organization.id) & (Case.customer != customer_id)
        )
        if scope is not None:
            query = query.where(scope)
        rows = await query.order_by(Case.updated_at, Case.id, ascending=False).limit(limit)
        org_cases = [case_out(CaseRow.from_row(r)) for r in rows]
    open_query = Case.count().where(
        (Case.customer == customer_id) & Case.status.is_in(list(OPEN_STATUSES))
    )
    if scope is not None:
        open_query = open_query.where(scope)
    return Customer360(
        customer=customer,
        organization=organization,
        cases=cases,
        organization_cases=org_cases,
        open_count=int(await open_query),
    )
