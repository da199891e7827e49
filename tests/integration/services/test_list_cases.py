"""The case list: every filter, text search, keyset pagination, and who sees what."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain import Priority, Role, Status
from helpdesk.errors import ValidationError
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AssignIn, CaseFilter, CaseUpdate
from helpdesk.services import cases
from tests.factories import (
    customer_principal,
    make_agent,
    make_case,
    make_customer,
    make_organization,
    make_team,
    set_updated_at,
)


async def listed(principal: Principal = SYSTEM, **filters: object) -> list[int]:
    page = await cases.list_cases(principal, CaseFilter(**filters), limit=500)
    assert page.next_cursor is None
    return sorted(c.id for c in page.items)


async def test_filters(db):
    team = await make_team()
    agent = await make_agent()
    org = await make_organization(domains=["acme.vn"])
    new = await make_case(team_id=team.id, tags=["vip"], email="a@acme.vn")
    urgent = await make_case(priority=Priority.URGENT, tags=["vip", "billing"])
    mine = await make_case(team_id=team.id)
    await cases.assign_case(SYSTEM, mine.id, AssignIn(assignee_id=agent.id))
    pending = await make_case(customer_id=new.customer_id)
    await cases.update_case(SYSTEM, pending.id, CaseUpdate(version=1, status=Status.PENDING))

    assert await listed() == sorted([new.id, urgent.id, mine.id, pending.id])
    assert await listed(status=[Status.PENDING]) == [pending.id]
    assert await listed(status=[Status.NEW, Status.PENDING]) == sorted(
        [new.id, urgent.id, mine.id, pending.id]
    )
    assert await listed(priority=[Priority.URGENT, Priority.HIGH]) == [urgent.id]
    assert await listed(assignee_id=agent.id) == [mine.id]
    assert await listed(assignee_id=0) == sorted([new.id, urgent.id, pending.id])
    assert await listed(team_id=team.id) == sorted([new.id, mine.id])
    assert await listed(team_id=0) == sorted([urgent.id, pending.id])
    assert await listed(customer_id=new.customer_id) == sorted([new.id, pending.id])
    assert await listed(organization_id=org.id) == sorted([new.id, pending.id])
    assert await listed(tag="VIP") == sorted([new.id, urgent.id])
    assert await listed(tag="billing", priority=[Priority.URGENT]) == [urgent.id]
    assert await listed(tag="nothing") == []
    assert await listed(team_id=team.id, assignee_id=0) == [new.id]


BODY = "Xin chào."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dang nhap", "login"),
        ("ĐĂNG NHẬP", "login"),
        ("DON HANG", "order"),
        ("đơn  hàng", "order"),
        ("Nguyen Van", "name"),
        ("50%", "percent"),
        ("on_hold", "underscore"),
    ],
)
async def test_text_search_ignores_case_and_diacritics(db, query, expected):
    # The first messages say nothing of these words: the search reads them too.
    made = {
        "login": await make_case(body=BODY, subject="Không đăng nhập được"),
        "order": await make_case(body=BODY, subject="Đơn hàng #123 bị huỷ"),
        "name": await make_case(body=BODY, subject="Hello", customer_name="Nguyễn Văn Bình"),
        "percent": await make_case(body=BODY, subject="Giảm 50% không áp dụng"),
        "underscore": await make_case(body=BODY, subject="status on_hold stuck"),
        "decoy": await make_case(body=BODY, subject="500 off; onXhold"),
    }
    assert await listed(text=query) == [made[expected].id]


async def test_text_search_finds_the_case_reference(db):
    first = await make_case()
    await make_case()
    assert await listed(text=first.reference.lower()) == [first.id]
    assert await listed(text="   ") == await listed()


async def test_pagination_walks_every_case_exactly_once_across_ties(db):
    # Given 23 cases whose updated_at collide in groups of five
    made = [await make_case() for _ in range(23)]
    base = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    for group in range(5):
        ids = [c.id for c in made[group * 5 : group * 5 + 5]]
        await set_updated_at(ids, base + timedelta(seconds=group, microseconds=group * 250))

    # When walking the list four at a time
    seen, cursor, pages = [], None, 0
    while True:
        page = await cases.list_cases(SYSTEM, CaseFilter(), cursor=cursor, limit=4)
        seen.extend(page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    # Then every case comes once, newest first, ties broken by id
    assert pages == 6
    assert sorted(c.id for c in seen) == sorted(c.id for c in made)
    keys = [(c.updated_at, c.id) for c in seen]
    assert keys == sorted(keys, reverse=True)


async def test_pagination_with_a_filter_and_an_exact_last_page(db):
    made = [await make_case(tags=["x"]) for _ in range(6)]
    await make_case()
    first = await cases.list_cases(SYSTEM, CaseFilter(tag="x"), limit=3)
    second = await cases.list_cases(SYSTEM, CaseFilter(tag="x"), cursor=first.next_cursor, limit=3)
    assert second.next_cursor is None
    assert sorted(c.id for c in first.items + second.items) == sorted(c.id for c in made)


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        base64.urlsafe_b64encode(b"yesterday|12").decode(),
        base64.urlsafe_b64encode(b"2025-01-01T00:00:00+00:00|twelve").decode(),
        base64.urlsafe_b64encode(b"2025-01-01T00:00:00+00:00").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe|1").decode(),
    ],
)
async def test_invalid_cursor_is_a_validation_error(db, cursor):
    with pytest.raises(ValidationError) as raised:
        await cases.list_cases(SYSTEM, CaseFilter(), cursor=cursor)
    assert raised.value.status == 422


async def test_page_size_must_be_positive(db):
    with pytest.raises(ValidationError):
        await cases.list_cases(SYSTEM, CaseFilter(), limit=0)


@pytest.fixture
async def spread(db):
    """Cases in team A, team B, no team, and one team-B case assigned to an A agent."""
    a, b = await make_team(), await make_team()
    agent = await make_agent(team_ids=[a.id])
    org = await make_organization(domains=["acme.vn"])
    shared = await make_organization(domains=["shared.vn"], shared_visibility=True)
    made = {
        "a": await make_case(team_id=a.id, email="x@acme.vn"),
        "b": await make_case(team_id=b.id, email="y@acme.vn"),
        "none": await make_case(email="z@gmail.com"),
        "b_mine": await make_case(team_id=b.id, email="p@shared.vn"),
        "shared_other": await make_case(team_id=b.id, email="q@shared.vn"),
    }
    await cases.assign_case(SYSTEM, made["b_mine"].id, AssignIn(assignee_id=agent.id))
    return {"agent": agent, "org": org, "shared": shared, "cases": made}


def ids_of(spread, *names):
    return sorted(spread["cases"][n].id for n in names)


async def test_agent_sees_own_teams_teamless_and_assigned_cases(spread):
    assert await listed(spread["agent"]) == ids_of(spread, "a", "none", "b_mine")


async def test_agent_without_teams_sees_teamless_and_assigned(spread):
    loner = await make_agent()
    assert await listed(loner) == ids_of(spread, "none")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
async def test_managers_and_admins_see_everything(spread, role):
    boss = await make_agent(role)
    assert await listed(boss) == ids_of(spread, *spread["cases"])


async def test_customer_sees_only_own_cases_without_shared_visibility(spread):
    x = await customer_principal(spread["cases"]["a"].customer_id)
    assert x.organization_id == spread["org"].id
    assert not x.organization_shared
    assert await listed(x) == ids_of(spread, "a")


async def test_customer_sees_organization_cases_with_shared_visibility(spread):
    p = await customer_principal(spread["cases"]["b_mine"].customer_id)
    assert await listed(p) == ids_of(spread, "b_mine", "shared_other")


async def test_customer_without_cases_sees_nothing(spread):
    nobody = await customer_principal((await make_customer()).id)
    assert await listed(nobody) == []


async def test_filters_cannot_widen_the_scope(spread):
    other_team = spread["cases"]["b"].team_id
    assert await listed(spread["agent"], team_id=other_team) == ids_of(spread, "b_mine")
