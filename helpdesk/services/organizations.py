"""Organizations (customer companies) and their email domains.

Staff who manage customers create and edit organizations, but what decides
who sees an organization's cases in the portal is for admins only
(:attr:`~helpdesk.policy.Action.SHARE_ORGANIZATION`, audited): switching
``shared_visibility`` on or off, changing the domains of an organization
that shares (a new domain lets new addresses in), and putting a customer
into a sharing organization (:func:`ensure_may_join`).
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.errors import ConflictError, NotFoundError
from helpdesk.events import AccessChanged, emit, organization_stream
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import OrganizationIn, OrganizationOut, OrganizationUpdate
from helpdesk.services import audit, case_search
from helpdesk.services.rows import as_utc
from helpdesk.tables import Organization, OrganizationDomain


def _out(row: dict[str, Any], domains: list[str]) -> OrganizationOut:
    return OrganizationOut(
        id=row["id"],
        name=row["name"],
        domains=sorted(domains),
        shared_visibility=row["shared_visibility"],
        notes=row["notes"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
    )


async def _set_domains(organization_id: int, domains: list[str]) -> None:
    wanted = sorted({d.lower() for d in domains})
    taken = await OrganizationDomain.select(OrganizationDomain.domain).where(
        OrganizationDomain.domain.is_in(wanted or [""])
        & (OrganizationDomain.organization != organization_id)
    )
    if taken:
        raise ConflictError(f"domain already belongs to another organization: {taken[0]['domain']}")
    await OrganizationDomain.delete().where(OrganizationDomain.organization == organization_id)
    if wanted:
        await OrganizationDomain.insert(
            *(OrganizationDomain(organization=organization_id, domain=d) for d in wanted)
        )


async def create_organization(principal: Principal, data: OrganizationIn) -> OrganizationOut:
    """Create an organization with its email domains (each domain belongs to one only)."""
    require(principal, Action.MANAGE_CUSTOMERS)
    if data.shared_visibility:
        require(principal, Action.SHARE_ORGANIZATION)
    async with transaction():
        rows = await Organization.insert(
            Organization(name=data.name, shared_visibility=data.shared_visibility, notes=data.notes)
        )
        org_id = rows[0]["id"]
        await _set_domains(org_id, data.domains)
        await audit.record(
            principal, "organization.created", entity="organization", entity_id=org_id,
            changes={"shared_visibility": [None, data.shared_visibility]},
        )  # fmt: skip
    return await get_organization(principal, org_id)


async def update_organization(
    principal: Principal, organization_id: int, data: OrganizationUpdate
) -> OrganizationOut:
    """Change an organization; ``domains`` replaces the list when given.

    Switching ``shared_visibility``, or changing the domains of an
    organization that shares, needs
    :attr:`~helpdesk.policy.Action.SHARE_ORGANIZATION` (admins): otherwise
    :class:`~helpdesk.errors.PermissionDeniedError` and nothing changes. A
    change of ``shared_visibility`` is audited with its old and new value.
    """
    require(principal, Action.MANAGE_CUSTOMERS)
    async with transaction():
        current = await get_organization(principal, organization_id)
        changes: dict[str, Any] = {}
        values: dict[Any, Any] = {}
        if data.name is not UNSET:
            values[Organization.name] = data.name
        if (
            data.shared_visibility is not UNSET
            and data.shared_visibility != current.shared_visibility
        ):
            require(principal, Action.SHARE_ORGANIZATION)
            values[Organization.shared_visibility] = data.shared_visibility
            changes["shared_visibility"] = [current.shared_visibility, data.shared_visibility]
        if (
            data.domains is not UNSET
            and current.shared_visibility
            and sorted({d.lower() for d in data.domains}) != sorted(current.domains)
        ):
            require(principal, Action.SHARE_ORGANIZATION)
        if data.notes is not UNSET:
            values[Organization.notes] = data.notes
        if values:
            await Organization.update(values).where(Organization.id == organization_id)
        if data.name is not UNSET and data.name != current.name:
            await case_search.reindex_organization(organization_id)
        if data.domains is not UNSET:
            await _set_domains(organization_id, data.domains)
        await audit.record(
            principal, "organization.updated", entity="organization", entity_id=organization_id,
            changes=changes or None,
        )  # fmt: skip
        if "shared_visibility" in changes:
            await audit.record(
                principal, "organization.sharing_changed", entity="organization",
                entity_id=organization_id, changes=changes,
            )  # fmt: skip
            await emit(  # open portal sockets following the organization re-check
                AccessChanged(face="portal", subject_id=organization_id),
                [organization_stream(organization_id)],
            )
    return await get_organization(principal, organization_id)


async def ensure_may_join(principal: Principal, organization_id: int | None) -> None:
    """Raise :class:`~helpdesk.errors.PermissionDeniedError` unless ``principal``
    may put a customer into ``organization_id``.

    Anyone who manages customers may use an organization that does not share
    visibility (or none); one that shares needs
    :attr:`~helpdesk.policy.Action.SHARE_ORGANIZATION`, because its members
    read every case of the organization in the portal. Raises
    :class:`~helpdesk.errors.NotFoundError` for an unknown organization.
    """
    if organization_id is None:
        return
    organization = await get_organization(principal, organization_id)
    if organization.shared_visibility:
        require(principal, Action.SHARE_ORGANIZATION)


async def get_organization(principal: Principal, organization_id: int) -> OrganizationOut:
    """One organization; customers may only read their own."""
    if principal.kind == "customer" and principal.organization_id != organization_id:
        raise NotFoundError(f"organization {organization_id} not found")
    row = await Organization.select().where(Organization.id == organization_id).first()
    if row is None:
        raise NotFoundError(f"organization {organization_id} not found")
    domains = await OrganizationDomain.select(OrganizationDomain.domain).where(
        OrganizationDomain.organization == organization_id
    )
    return _out(row, [d["domain"] for d in domains])


async def list_organizations(
    principal: Principal, *, after_id: int = 0, limit: int = 50
) -> list[OrganizationOut]:
    """Organizations by id, ``limit`` after ``after_id`` (two queries, no N+1)."""
    require(principal, Action.VIEW_DIRECTORY)
    rows = (
        await Organization.select()
        .where(Organization.id > after_id)
        .order_by(Organization.id)
        .limit(limit)
    )
    return await _with_domains(rows)


async def _with_domains(rows: list[dict[str, Any]]) -> list[OrganizationOut]:
    """The organizations of ``rows`` with their domains (one more query)."""
    ids = [row["id"] for row in rows]
    domains: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for d in await OrganizationDomain.select().where(
            OrganizationDomain.organization.is_in(ids)
        ):
            domains[d["organization"]].append(d["domain"])
    return [_out(row, domains[row["id"]]) for row in rows]


async def search_organizations(
    principal: Principal, text: str = "", *, after_id: int = 0, limit: int = 50
) -> list[OrganizationOut]:
    """Organizations by id whose name or one of whose domains contains
    ``text`` (case-insensitive; an empty text lists them all), ``limit``
    after ``after_id``. Names are matched with the database's ``LIKE``:
    diacritics count ("an binh" does not find "An Bình")."""
    require(principal, Action.VIEW_DIRECTORY)
    text = text.strip().replace("%", "").replace("_", "")[:200]
    if not text:
        return await list_organizations(principal, after_id=after_id, limit=limit)
    pattern = f"%{text}%"
    # SQLite's LIKE ignores the case of ASCII letters; PostgreSQL needs ILIKE.
    postgres = is_postgres(current_engine())
    name = Organization.name.ilike(pattern) if postgres else Organization.name.like(pattern)
    by_domain = OrganizationDomain.select(OrganizationDomain.organization).where(
        OrganizationDomain.domain.like(pattern.lower())
    )
    rows = (
        await Organization.select()
        .where((Organization.id > after_id) & (name | Organization.id.is_in(by_domain)))
        .order_by(Organization.id)
        .limit(limit)
    )
    return await _with_domains(rows)


async def organization_for_email(address: str) -> int | None:
    """The organization whose domain matches the address's domain, if any."""
    domain = address.rsplit("@", 1)[-1].lower()
    row = (
        await OrganizationDomain.select(OrganizationDomain.organization)
        .where(OrganizationDomain.domain == domain)
        .first()
    )
    return int(row["organization"]) if row else None
