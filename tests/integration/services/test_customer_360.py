"""The customer 360 view: own cases, the organization's cases, within the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain import Role, Status
from helpdesk.errors import NotFoundError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn, CaseUpdate
from helpdesk.services import cases
from helpdesk.services.customers import customer_360
from tests.factories import (
    customer_principal,
    make_agent,
    make_case,
    make_customer,
    make_organization,
    make_team,
    set_updated_at,
)


@pytest.fixture
async def world(db):
    """Two teams; an organization with two customers; cases spread over the teams."""
    sales, support = await make_team("Sales"), await make_team("Support")
    org = await make_organization(domains=["acme.vn"])
    lan = await make_customer(email="lan@acme.vn")
    minh = await make_customer(email="minh@acme.vn")
    outsider = await make_customer(email="x@gmail.com")
    c = {
        "lan_sales": await make_case(customer_id=lan.id, team_id=sales.id),
        "lan_support": await make_case(customer_id=lan.id, team_id=support.id),
        "lan_teamless": await make_case(customer_id=lan.id),
        "minh_sales": await make_case(customer_id=minh.id, team_id=sales.id),
        "minh_support": await make_case(customer_id=minh.id, team_id=support.id),
        "outsider": await make_case(customer_id=outsider.id, team_id=sales.id),
    }
    base = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    for i, case in enumerate(c.values()):
        await set_updated_at([case.id], base + timedelta(minutes=i))
    return {"sales": sales, "support": support, "org": org, "lan": lan, "minh": minh, "c": c}


def ids(world, *names):
    return [world["c"][n].id for n in names]


async def test_manager_sees_own_and_organization_cases_newest_first(world):
    manager = await make_agent(Role.MANAGER)
    view = await customer_360(manager, world["lan"].id)

    assert view.customer.id == world["lan"].id
    assert view.organization is not None
    assert view.organization.id == world["org"].id
    assert [c.id for c in view.cases] == ids(world, "lan_teamless", "lan_support", "lan_sales")
    assert [c.id for c in view.organization_cases] == ids(world, "minh_support", "minh_sales")
    assert view.open_count == 3


async def test_open_count_leaves_out_solved_and_closed(world):
    case = world["c"]["lan_sales"]
    await cases.update_case(SYSTEM, case.id, CaseUpdate(version=1, status=Status.SOLVED))
    view = await customer_360(SYSTEM, world["lan"].id)
    assert view.open_count == 2


async def test_team_agent_sees_only_their_teams_teamless_and_own_cases(world):
    # Given an agent of Sales, who also holds one Support case
    agent = await make_agent(team_ids=[world["sales"].id])
    mine = world["c"]["minh_support"]
    await cases.assign_case(SYSTEM, mine.id, AssignIn(assignee_id=agent.id))
    await set_updated_at([mine.id], datetime(2025, 3, 1, 7, 0, tzinfo=UTC))

    view = await customer_360(agent, world["lan"].id)

    # Then Lan's Support case is missing, Minh's Support case is there because it is theirs
    assert [c.id for c in view.cases] == ids(world, "lan_teamless", "lan_sales")
    assert [c.id for c in view.organization_cases] == ids(world, "minh_sales", "minh_support")
    assert view.open_count == 2


async def test_customer_sees_only_own_cases_when_the_organization_does_not_share(world):
    lan = await customer_principal(world["lan"].id)
    view = await customer_360(lan, world["lan"].id)
    assert [c.id for c in view.cases] == ids(world, "lan_teamless", "lan_support", "lan_sales")
    assert view.organization_cases == []


async def test_customer_sees_colleagues_cases_when_the_organization_shares(db):
    org = await make_organization(domains=["shared.vn"], shared_visibility=True)
    lan = await make_customer(email="lan@shared.vn")
    minh = await make_customer(email="minh@shared.vn")
    colleague_case = await make_case(customer_id=minh.id)
    principal = await customer_principal(lan.id)
    assert principal.organization_id == org.id
    assert principal.organization_shared

    view = await customer_360(principal, lan.id)

    assert [c.id for c in view.organization_cases] == [colleague_case.id]


async def test_customer_cannot_open_someone_elses_360(world):
    lan = await customer_principal(world["lan"].id)
    with pytest.raises(NotFoundError):
        await customer_360(lan, world["minh"].id)
