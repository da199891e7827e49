"""Customers: find or create by address, edit, merge, and the 360 view."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError
from helpdesk.events import CustomersMerged, customer_stream, emit
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.rows import CaseRow
from helpdesk.schemas import (
    CaseOut,
    Customer360,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
)
from helpdesk.services import audit
from helpdesk.services.organizations import get_organization, organization_for_email
from helpdesk.services.rows import as_utc, case_out
from helpdesk.tables import Case, Customer, CustomerEmail, Message
from helpdesk.text import fold, normalize_email

OPEN_STATUSES = ("new", "open", "pending", "on_hold")


def _out(row: dict[str, Any], emails: list[str]) -> CustomerOut:
    return CustomerOut(
        id=row["id"],
        name=row["name"],
        emails=emails,
        phone=row["phone"],
        locale=row["locale"],
        organization_id=row["organization"],
        merged_into_id=row["merged_into"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
    )


async def _emails_of(customer_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {i: [] for i in customer_ids}
    if customer_ids:
        rows = (
            await CustomerEmail.select()
            .where(CustomerEmail.customer.is_in(customer_ids))
            .order_by(CustomerEmail.is_primary, ascending=False)
            .order_by(CustomerEmail.id)
        )
        for row in rows:
            result[row["customer"]].append(row["address"])
    return result


def _search_text(name: str, emails: list[str], phone: str) -> str:
    return fold(" ".join([name, *emails, phone]))


async def _add_emails(customer_id: int, emails: list[str], *, primary_first: bool) -> None:
    addresses = list(dict.fromkeys(normalize_email(e) for e in emails))
    taken = await CustomerEmail.select(CustomerEmail.address).where(
        CustomerEmail.address.is_in(addresses) & (CustomerEmail.customer != customer_id)
    )
    if taken:
        raise ConflictError(f"email already belongs to another customer: {taken[0]['address']}")
    await CustomerEmail.insert(
        *(
            CustomerEmail(customer=customer_id, address=a, is_primary=primary_first and i == 0)
            for i, a in enumerate(addresses)
        )
    )


async def create_customer(principal: Principal, data: CustomerIn) -> CustomerOut:
    """Create a customer; every address must be new. The organization defaults
    to the one owning the first address's domain."""
    require(principal, Action.MANAGE_CUSTOMERS)
    async with transaction():
        org_id = data.organization_id or await organization_for_email(data.emails[0])
        if data.organization_id is not None:
            await get_organization(principal, data.organization_id)
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
        await _add_emails(customer_id, data.emails, primary_first=True)
        await audit.record(principal, "customer.created", entity="customer", entity_id=customer_id)
    return await get_customer(principal, customer_id)


async def find_or_create_by_email(address: str, name: str | None = None, locale: str = "vi") -> int:
    """The id of the customer owning ``address``, created when new.

    Call inside a transaction. Merged customers resolve to their target.
    Safe under concurrency: when two transactions create a customer for the
    same new address at once, the second finds the first one's customer
    (the unique address decides) instead of failing.
    """
    normalized = normalize_email(address)
    existing = await _owner_of(normalized)
    if existing is not None:
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
            CustomerEmail(customer=customer_id, address=normalized, is_primary=True)
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
    emails = await _emails_of([customer_id])
    return _out(row, emails[customer_id])


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
    emails = await _emails_of([row["id"] for row in rows])
    return [_out(row, emails[row["id"]]) for row in rows]


def _escape_like(value: str) -> str:
    return value.replace("%", "").replace("_", "")


async def update_customer(
    principal: Principal, customer_id: int, data: CustomerUpdate
) -> CustomerOut:
    """Change a customer; ``emails`` replaces the addresses (first is primary)."""
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
            if data.organization_id is not None:
                await get_organization(principal, data.organization_id)
            values[Customer.organization] = data.organization_id
        emails = current.emails
        if data.emails is not UNSET:
            await CustomerEmail.delete().where(CustomerEmail.customer == customer_id)
            await _add_emails(customer_id, data.emails, primary_first=True)
            emails = [normalize_email(e) for e in data.emails]
        name = data.name if data.name is not UNSET else current.name
        phone = data.phone if data.phone is not UNSET else current.phone
        values[Customer.search_text] = _search_text(name, emails, phone)
        await Customer.update(values).where(Customer.id == customer_id)
        await audit.record(principal, "customer.updated", entity="customer", entity_id=customer_id)
    return await get_customer(principal, customer_id)


async def merge_customers(principal: Principal, source_id: int, target_id: int) -> CustomerOut:
    """Merge ``source_id`` into ``target_id``: addresses, cases and messages move;
    the source stays as a pointer to the target."""
    require(principal, Action.MERGE_CUSTOMERS)
    if source_id == target_id:
        raise ValidationError("a customer cannot be merged into itself")
    async with transaction():
        await _lock_customers([source_id, target_id])
        source = await get_customer(principal, source_id)
        target = await get_customer(principal, target_id)
        if source.merged_into_id is not None or target.merged_into_id is not None:
            raise ConflictError("one of the customers was already merged")
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
