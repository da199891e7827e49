"""A customer's email addresses: which are proven, which is primary, and
telling the customer when staff change them.

An address is proven (``verified_at``) by a magic link sent to it or by a
mail from it (:func:`mark_address_verified`). Staff may add addresses, which
grant nothing until proven and never become primary; every change by staff
is audited and told to the customer at their proven addresses; the last
proven one may be removed by an administrator only
(:class:`LastVerifiedAddressError`).
"""

from __future__ import annotations

from typing import Any

from helpdesk.clock import utcnow
from helpdesk.errors import ConflictError
from helpdesk.policy import Action, Principal, may
from helpdesk.schemas import CustomerOut
from helpdesk.services import audit
from helpdesk.tables import CustomerEmail
from helpdesk.text import normalize_email

__all__ = [
    "LastVerifiedAddressError",
    "add_emails",
    "addresses_of",
    "ensure_free",
    "mark_address_verified",
    "replace_emails",
]


class LastVerifiedAddressError(ConflictError):
    """The change would remove the customer's last verified address."""

    code = "last_verified_address"
    title = "The last verified address cannot be removed"


async def addresses_of(customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The address rows of each customer, primary first."""
    result: dict[int, list[dict[str, Any]]] = {i: [] for i in customer_ids}
    if customer_ids:
        rows = (
            await CustomerEmail.select()
            .where(CustomerEmail.customer.is_in(customer_ids))
            .order_by(CustomerEmail.is_primary, ascending=False)
            .order_by(CustomerEmail.id)
        )
        for row in rows:
            result[row["customer"]].append(row)
    return result


async def ensure_free(customer_id: int, addresses: list[str]) -> None:
    """ConflictError when one of ``addresses`` belongs to another customer."""
    taken = await CustomerEmail.select(CustomerEmail.address).where(
        CustomerEmail.address.is_in(addresses or [""]) & (CustomerEmail.customer != customer_id)
    )
    if taken:
        raise ConflictError(f"email already belongs to another customer: {taken[0]['address']}")


async def add_emails(customer_id: int, emails: list[str], *, by_staff: bool) -> None:
    """Add new, unverified addresses (the first is primary)."""
    addresses = list(dict.fromkeys(normalize_email(e) for e in emails))
    await ensure_free(customer_id, addresses)
    await CustomerEmail.insert(
        *(
            CustomerEmail(
                customer=customer_id, address=a, is_primary=i == 0, added_by_staff=by_staff
            )
            for i, a in enumerate(addresses)
        )
    )


async def mark_address_verified(address: str) -> None:
    """Record that the owner of ``address`` proved it is theirs (kept when set before)."""
    await CustomerEmail.update({CustomerEmail.verified_at: utcnow()}).where(
        (CustomerEmail.address == normalize_email(address)) & CustomerEmail.verified_at.is_null()
    )


async def replace_emails(
    principal: Principal, current: CustomerOut, emails: list[str], locale: str
) -> list[str]:
    """Make ``emails`` the customer's addresses; the new list, primary first."""
    customer_id = current.id
    wanted = list(dict.fromkeys(normalize_email(e) for e in emails))
    rows = {r["address"]: r for r in (await addresses_of([customer_id]))[customer_id]}
    removed = [r for a, r in rows.items() if a not in wanted]
    added = [a for a in wanted if a not in rows]
    verified_kept = [rows[a] for a in wanted if a in rows and rows[a]["verified_at"] is not None]
    if (
        any(r["verified_at"] is not None for r in removed)
        and not verified_kept
        and not may(principal, Action.ADMINISTER)
    ):
        raise LastVerifiedAddressError(
            f"customer {customer_id} would lose their last verified address"
        )
    await ensure_free(customer_id, added)
    if removed:
        await CustomerEmail.delete().where(CustomerEmail.id.is_in([r["id"] for r in removed]))
    inserted: list[dict[str, Any]] = []
    if added:
        by_staff = principal.kind == "agent"
        inserted = await CustomerEmail.insert(
            *(
                CustomerEmail(customer=customer_id, address=a, added_by_staff=by_staff)
                for a in added
            )
        ).returning(CustomerEmail.id, CustomerEmail.address)
    primary = _primary_of(wanted, rows)
    await CustomerEmail.update({CustomerEmail.is_primary: False}).where(
        (CustomerEmail.customer == customer_id) & (CustomerEmail.address != primary)
    )
    await CustomerEmail.update({CustomerEmail.is_primary: True}).where(
        CustomerEmail.address == primary
    )
    if removed or added:
        changes = {"emails_added": added, "emails_removed": [r["address"] for r in removed]}
        await audit.record(
            principal, "customer.emails_changed", entity="customer", entity_id=customer_id,
            changes=changes,
        )  # fmt: skip
        told = [(r["id"], r["address"]) for r in verified_kept]
        for row in inserted:
            await _tell_customer(current.name, locale, "address_added", row, told)
        for row in removed:
            also = [(row["id"], row["address"])] if row["verified_at"] is not None else []
            await _tell_customer(current.name, locale, "address_removed", row, told + also)
    return [primary, *(a for a in wanted if a != primary)]


def _primary_of(wanted: list[str], rows: dict[str, dict[str, Any]]) -> str:
    """The primary address of the list ``wanted`` (``rows``: the addresses known
    before): the first verified one, else the first the customer gave us
    (not typed by staff), else the first. Replies go to the primary address
    first, so an address staff typed in never takes it from the customer's."""
    kept = [rows[a] for a in wanted if a in rows]
    for row in kept:
        if row["verified_at"] is not None:
            return str(row["address"])
    for row in kept:
        if not row["added_by_staff"]:
            return str(row["address"])
    return wanted[0]


async def _tell_customer(
    name: str, locale: str, kind: str, changed: dict[str, Any], recipients: list[tuple[int, str]]
) -> None:
    """Queue a system mail ``kind`` about the address row ``changed`` to each
    ``(address id, address)`` of ``recipients`` (in the caller's transaction).

    One mail per recipient and change: the Message-ID key is made of the two
    row ids, so queueing it again queues nothing.
    """
    # Imported here: the mail modules import this one (through the survey tokens).
    from helpdesk.channels.email.system_mail import queue_system_mail, render_system_mail

    subject, text = render_system_mail(kind, locale, name=name, address=changed["address"])
    for recipient_id, address in recipients:
        await queue_system_mail(
            address, kind=kind, key=f"{changed['id']}-{recipient_id}", subject=subject, text=text
        )
