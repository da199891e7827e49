"""Factories that build valid rows through the domain services.

Every factory goes through the public service functions, so what it builds
is what the application itself would have built (events and audit included).
Names and addresses are unique per call.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from helpdesk.domain import Channel, Priority, Role
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import (
    AgentIn,
    AgentUpdate,
    AttachmentIn,
    CaseCreate,
    CaseOut,
    CustomerIn,
    CustomerOut,
    OrganizationIn,
    OrganizationOut,
    TeamIn,
    TeamOut,
    TeamUpdate,
)
from helpdesk.services import agents, cases, customers, organizations, teams
from helpdesk.tables import Case

_seq = itertools.count(1)

VIETNAMESE_BODY = "Tôi không đăng nhập được vào tài khoản."


def unique() -> int:
    """A number never handed out before in this test session."""
    return next(_seq)


async def make_agent(
    role: Role = Role.AGENT,
    *,
    team_ids: list[int] | None = None,
    name: str | None = None,
    active: bool = True,
    password: str | None = None,
) -> Principal:
    """A member of staff in ``team_ids``; returns their principal (with teams).

    No password unless one is given: hashing one costs about 50 ms.
    """
    n = unique()
    out = await agents.create_agent(
        SYSTEM,
        AgentIn(
            name=name or f"Agent {n}",
            email=f"agent{n}@support.test",
            role=role,
            password=password,
        ),
    )
    for team_id in team_ids or []:
        team = await teams.get_team(SYSTEM, team_id)
        await teams.update_team(SYSTEM, team_id, TeamUpdate(member_ids=[*team.member_ids, out.id]))
    if not active:
        await agents.update_agent(SYSTEM, out.id, AgentUpdate(active=False))
        return Principal(kind="agent", id=out.id, role=role, team_ids=frozenset(team_ids or []))
    return await agents.principal_for_agent(out.id)


async def make_team(name: str | None = None, *, is_default: bool = False) -> TeamOut:
    return await teams.create_team(
        SYSTEM, TeamIn(name=name or f"Team {unique()}", is_default=is_default)
    )


async def make_organization(
    *, domains: list[str] | None = None, shared_visibility: bool = False, name: str | None = None
) -> OrganizationOut:
    n = unique()
    return await organizations.create_organization(
        SYSTEM,
        OrganizationIn(
            name=name or f"Công ty {n}",
            domains=domains if domains is not None else [f"org{n}.vn"],
            shared_visibility=shared_visibility,
        ),
    )


async def make_customer(
    *, email: str | None = None, name: str | None = None, organization_id: int | None = None
) -> CustomerOut:
    n = unique()
    return await customers.create_customer(
        SYSTEM,
        CustomerIn(
            name=name or f"Khách hàng {n}",
            emails=[email or f"customer{n}@example.vn"],
            organization_id=organization_id,
        ),
    )


async def customer_principal(customer_id: int) -> Principal:
    """The principal a customer acts as in the portal."""
    return await customers.principal_for_customer(customer_id)


async def make_case(
    principal: Principal = SYSTEM,
    *,
    email: str | None = None,
    team_id: int | None = None,
    subject: str = "Cannot log in",
    body: str = VIETNAMESE_BODY,
    customer_id: int | None = None,
    customer_name: str | None = None,
    tags: list[str] | None = None,
    priority: Priority = Priority.NORMAL,
    channel: Channel = Channel.API,
    attachments: list[AttachmentIn] | None = None,
) -> CaseOut:
    """A case with its first customer message, by a new customer unless one is named."""
    n = unique()
    by_email = customer_id is None and principal.kind != "customer"
    return await cases.open_case(
        principal,
        CaseCreate(
            subject=subject,
            body=body,
            customer_id=customer_id,
            customer_email=(email or f"customer{n}@example.vn") if by_email else None,
            customer_name=customer_name or (f"Khách hàng {n}" if by_email else None),
            team_id=team_id,
            tags=tags or [],
            priority=priority,
            channel=channel,
            attachments=attachments or [],
        ),
    )


async def set_updated_at(case_ids: list[int], moment: datetime) -> None:
    """Force ``updated_at`` (to build ties and orderings for list tests)."""
    await Case.update({Case.updated_at: moment}).where(Case.id.is_in(case_ids))


def as_dict(case: CaseOut) -> dict[str, Any]:
    """A case in the shape the policy module checks (``team``, ``assignee``…)."""
    return {
        "id": case.id,
        "team": case.team_id,
        "assignee": case.assignee_id,
        "customer": case.customer_id,
        "organization": case.organization_id,
    }
