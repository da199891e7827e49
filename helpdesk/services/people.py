"""What the console's people pages show: a customer and an organization with
their cases, within what the principal may see.

Read models composed from the domain services (the permission checks stay
theirs: :func:`~helpdesk.services.customers.get_customer`,
:func:`~helpdesk.services.organizations.get_organization` and the case list,
which applies :func:`helpdesk.policy.case_scope`), plus batched look-ups:
a page costs a fixed number of queries however many cases it lists.

Promised: a case the principal may not see is never listed, nor its
satisfaction answer; an agent of another team sees the customer but not
those cases. Not promised: the case counts of an organization include only
the cases filed while the customer belonged to it (a case keeps the
organization it was opened under).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.domain import Status, case_reference
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.rows import stamp
from helpdesk.schemas import CaseFilter, CaseOut, CustomerOut, OrganizationOut
from helpdesk.services._case_list import CaseSort, list_cases
from helpdesk.services.customer_addresses import addresses_of
from helpdesk.services.customers import get_customer
from helpdesk.services.organizations import get_organization
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.tables import Case, Customer, SurveyResponse

__all__ = [
    "AddressView",
    "CaseLine",
    "CustomerPage",
    "Member",
    "OrganizationPage",
    "SurveyAnswer",
    "customer_page",
    "organization_page",
    "sla_summaries",
]

CASES_PER_PAGE = 20
MAX_MEMBERS = 200
MAX_SURVEYS = 50


class AddressView(msgspec.Struct, frozen=True):
    """One address of a customer and what is known of it."""

    address: str
    is_primary: bool
    verified: bool
    added_by_staff: bool
    bounced: bool


class CaseLine(msgspec.Struct, frozen=True):
    """A case in a list, with the state of its SLA (None: no target measured)."""

    case: CaseOut
    sla_state: str | None


class SurveyAnswer(msgspec.Struct, frozen=True):
    """A satisfaction rating the customer gave to one solve of a case."""

    case_id: int
    reference: str
    rating: int
    comment: str
    created_at: datetime


class Member(msgspec.Struct, frozen=True):
    """A customer of an organization, as its page lists them."""

    id: int
    name: str
    email: str | None
    phone: str


class CustomerPage(msgspec.Struct):
    """A customer with everything staff may know of them (``notes`` is for staff only)."""

    customer: CustomerOut
    notes: str
    organization: OrganizationOut | None
    addresses: list[AddressView]
    cases: list[CaseLine]
    next_cursor: str | None
    surveys: list[SurveyAnswer]


class OrganizationPage(msgspec.Struct):
    """An organization, its members and the cases filed under it."""

    organization: OrganizationOut
    members: list[Member]
    cases: list[CaseLine]
    next_cursor: str | None
    customer_names: dict[int, str]


def _summary(rows: list[dict[str, Any]]) -> str:
    """One word for the SLA of a case from its timer rows, the most urgent first."""
    active = [r for r in rows if r["active"]]
    if any(r["breached_at"] is not None for r in active):
        return "breached"
    if any(r["warned_at"] is not None for r in active):
        return "at_risk"
    if active:
        return "paused" if all(r["paused"] for r in active) else "running"
    if any(r["breached_at"] is not None for r in rows):
        return "missed"
    return "met" if any(r["completed_at"] is not None for r in rows) else "cancelled"


async def sla_summaries(case_ids: list[int]) -> dict[int, str]:
    """The SLA state of each case that has targets (one query; callers pass
    only cases the principal may see)."""
    if not case_ids:
        return {}
    rows = await CaseSlaTimer.select(
        CaseSlaTimer.case,
        CaseSlaTimer.active,
        CaseSlaTimer.paused,
        CaseSlaTimer.warned_at,
        CaseSlaTimer.breached_at,
        CaseSlaTimer.completed_at,
    ).where(CaseSlaTimer.case.is_in(case_ids))
    by_case: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(int(row["case"]), []).append(row)
    return {case_id: _summary(timers) for case_id, timers in by_case.items()}


async def _lines(cases: list[CaseOut]) -> list[CaseLine]:
    states = await sla_summaries([c.id for c in cases])
    return [CaseLine(case=c, sla_state=states.get(c.id)) for c in cases]


async def _surveys(principal: Principal, customer_id: int) -> list[SurveyAnswer]:
    query = SurveyResponse.select(
        SurveyResponse.case,
        SurveyResponse.rating,
        SurveyResponse.comment,
        SurveyResponse.created_at,
    ).where(SurveyResponse.case.is_in(_visible_case_ids(principal, customer_id)))
    rows = await query.order_by(SurveyResponse.id, ascending=False).limit(MAX_SURVEYS)
    return [
        SurveyAnswer(
            case_id=int(r["case"]),
            reference=case_reference(int(r["case"])),
            rating=int(r["rating"]),
            comment=str(r["comment"]),
            created_at=stamp(r["created_at"]),
        )
        for r in rows
    ]


def _visible_case_ids(principal: Principal, customer_id: int) -> Any:
    """A sub-query: the ids of the customer's cases the principal may see."""
    query = Case.select(Case.id).where(Case.customer == customer_id)
    scope = case_scope(principal).where()
    return query.where(scope) if scope is not None else query


async def customer_page(
    principal: Principal, customer_id: int, *, cursor: str | None = None
) -> CustomerPage:
    """A customer, their addresses (verified or not), their notes, and their
    cases of every status, newest first, one page at a time (``cursor``).

    Raises ``NotFoundError`` for an unknown customer and
    ``PermissionDeniedError`` for a principal who may not read customers.
    """
    require(principal, Action.VIEW_DIRECTORY)
    customer = await get_customer(principal, customer_id)
    row = await Customer.select(Customer.notes).where(Customer.id == customer_id).first()
    organization = (
        await get_organization(principal, customer.organization_id)
        if customer.organization_id is not None
        else None
    )
    addresses = (await addresses_of([customer_id]))[customer_id]
    page = await list_cases(
        principal,
        CaseFilter(customer_id=customer_id, status=list(Status)),
        cursor=cursor,
        limit=CASES_PER_PAGE,
        sort=CaseSort.CREATED_DESC,
    )
    return CustomerPage(
        customer=customer,
        notes=str(row["notes"]) if row else "",
        organization=organization,
        addresses=[
            AddressView(
                address=a["address"],
                is_primary=bool(a["is_primary"]),
                verified=a["verified_at"] is not None,
                added_by_staff=bool(a["added_by_staff"]),
                bounced=a["bounced_at"] is not None,
            )
            for a in addresses
        ],
        cases=await _lines(page.items),
        next_cursor=page.next_cursor,
        surveys=await _surveys(principal, customer_id),
    )


async def _members(organization_id: int) -> list[Member]:
    rows = (
        await Customer.select(Customer.id, Customer.name, Customer.phone)
        .where((Customer.organization == organization_id) & Customer.merged_into.is_null())
        .order_by(Customer.name)
        .limit(MAX_MEMBERS)
    )
    addresses = await addresses_of([r["id"] for r in rows])
    return [
        Member(
            id=r["id"],
            name=r["name"],
            email=addresses[r["id"]][0]["address"] if addresses[r["id"]] else None,
            phone=r["phone"],
        )
        for r in rows
    ]


async def _names(customer_ids: set[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    rows = await Customer.select(Customer.id, Customer.name).where(
        Customer.id.is_in(sorted(customer_ids))
    )
    return {int(r["id"]): str(r["name"]) for r in rows}


async def organization_page(
    principal: Principal, organization_id: int, *, cursor: str | None = None
) -> OrganizationPage:
    """An organization, its members (at most :data:`MAX_MEMBERS`, by name) and
    the cases filed under it that the principal may see, newest first."""
    require(principal, Action.VIEW_DIRECTORY)
    organization = await get_organization(principal, organization_id)
    page = await list_cases(
        principal,
        CaseFilter(organization_id=organization_id, status=list(Status)),
        cursor=cursor,
        limit=CASES_PER_PAGE,
        sort=CaseSort.CREATED_DESC,
    )
    return OrganizationPage(
        organization=organization,
        members=await _members(organization_id),
        cases=await _lines(page.items),
        next_cursor=page.next_cursor,
        customer_names=await _names({c.customer_id for c in page.items}),
    )
