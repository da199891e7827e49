"""List endpoints cost the same number of queries whatever the number of rows (no N+1)."""

from __future__ import annotations

import pytest

from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CustomerIn, MessageIn, OrganizationIn, TeamIn
from helpdesk.services import customers, messages, organizations, teams
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in


def _grow(api: Api, n: int, offset: int) -> tuple[int, int]:
    """Add ``n`` of each kind of object; return a case and a customer with many rows."""
    org = api.run(organizations.create_organization, SYSTEM, OrganizationIn(name=f"Org {offset}"))
    customer = api.run(
        customers.create_customer,
        SYSTEM,
        CustomerIn(name="Nhiều", emails=[f"many{offset}@x.vn"], organization_id=org.id),
    )
    case_id = 0
    for i in range(n):
        case = api.make_case(api.team_a, customer_email=f"many{offset}@x.vn", tags=[f"t{i}"])
        case_id = case.id
        note = MessageIn(body="n", attachments=[AttachmentIn(filename="a.txt", content=b"a")])
        api.run(messages.add_note, SYSTEM, case_id, note)
        api.run(
            customers.create_customer,
            SYSTEM,
            CustomerIn(
                name=f"K{offset}-{i}", emails=[f"k{offset}-{i}@x.vn", f"k{offset}-{i}@y.vn"]
            ),
        )
        api.run(organizations.create_organization, SYSTEM, OrganizationIn(name=f"O{offset}-{i}"))
        api.run(teams.create_team, SYSTEM, TeamIn(name=f"T{offset}-{i}"))
        api.post("/api/v1/agents", json={"name": "A", "email": f"a{offset}-{i}@support.test"})
    return case_id, customer.id


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases",
        "/api/v1/cases?status=new&priority=normal",
        "/api/v1/customers",
        "/api/v1/organizations",
        "/api/v1/agents",
        "/api/v1/teams",
        "/api/v1/cases/{case}/messages",
        "/api/v1/customers/{customer}/360",
    ],
)
def test_list_endpoints_do_not_grow_with_the_rows(api: Api, url: str) -> None:
    def cost(case_id: int, customer_id: int) -> int:
        target = url.format(case=case_id, customer=customer_id)
        api.get(target, role="agent_a")  # warm the token cache
        with api.count_queries() as queries:
            response = api.get(target, role="agent_a")
        assert response.status_code == 200, response.text
        return len(queries)

    small = cost(*_grow(api, 2, offset=1))
    case_id, customer_id = _grow(api, 12, offset=2)
    # The messages of one case: make the big case's conversation long too.
    for _ in range(10):
        api.run(messages.add_note, SYSTEM, case_id, MessageIn(body="more"))
    big = cost(case_id, customer_id)
    assert big == small, f"{url}: {small} queries with few rows, {big} with many"
    assert big <= 8


@pytest.mark.parametrize("url", ["/console/queues/all", "/console/search?q=nhieu&status=any"])
def test_console_lists_with_sla_badges_do_not_grow_with_the_rows(api: Api, url: str) -> None:
    targets = {"first_response": "PT1H", "resolution": "PT16H"}
    policy = {"name": "SLA", "targets": dict.fromkeys(("low", "normal", "high", "urgent"), targets)}
    assert api.post("/api/v1/sla/policies", json=policy).status_code == 201
    console_sign_in(api, "manager")

    def cost() -> tuple[int, int]:
        api.client.get(url)  # warm the session
        with api.count_queries() as queries:
            response = api.client.get(url)
        assert response.status_code == 200, response.text[:300]
        return len(queries), response.text.count('data-sla="running"')

    _grow(api, 2, offset=1)
    small, small_badges = cost()
    _grow(api, 12, offset=2)
    big, big_badges = cost()
    assert (small_badges, big_badges) == (2, 14)  # every line has its badge
    assert big == small, f"{url}: {small} queries with few rows, {big} with many"
