"""No N+1: the list reads run a fixed number of queries, however many rows they return."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from helpdesk.domain import Role
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseFilter, MessageIn
from helpdesk.services import agents, cases, customers, messages, teams
from tests.factories import make_agent, make_case, make_customer, make_organization, make_team


async def queries(counter, read: Callable[[], Awaitable[object]]) -> int:
    with counter:
        await read()
    return counter.count


async def test_list_cases(db, count_queries):
    agent = await make_agent()
    await make_case(tags=["a"])
    few = await queries(count_queries, lambda: cases.list_cases(agent, CaseFilter(tag="a")))
    for _ in range(15):
        await make_case(tags=["a"])
    many = await queries(count_queries, lambda: cases.list_cases(agent, CaseFilter(tag="a")))
    assert few == many == 1, count_queries.statements


async def test_list_messages(db, count_queries):
    case = await make_case()
    few = await queries(count_queries, lambda: messages.list_messages(SYSTEM, case.id))
    for i in range(10):
        files = [
            AttachmentIn(filename=f"{i}-{j}.txt", content=f"{i}{j}".encode()) for j in range(2)
        ]
        await messages.reply(SYSTEM, case.id, MessageIn(body=f"reply {i}", attachments=files))
        await messages.add_note(SYSTEM, case.id, MessageIn(body=f"note {i}"))
    many = await queries(count_queries, lambda: messages.list_messages(SYSTEM, case.id))
    assert len(await messages.list_messages(SYSTEM, case.id)) == 21
    assert few == many == 3, count_queries.statements


async def test_list_agents_and_teams(db, count_queries):
    first = await make_team()
    await make_agent(team_ids=[first.id])
    agents_few = await queries(count_queries, lambda: agents.list_agents(SYSTEM))
    teams_few = await queries(count_queries, lambda: teams.list_teams(SYSTEM))
    for _ in range(6):
        team = await make_team()
        await make_agent(Role.MANAGER, team_ids=[team.id, first.id])
    agents_many = await queries(count_queries, lambda: agents.list_agents(SYSTEM))
    teams_many = await queries(count_queries, lambda: teams.list_teams(SYSTEM))
    assert agents_few == agents_many == 2, count_queries.statements
    assert teams_few == teams_many == 2, count_queries.statements


async def test_customer_360(db, count_queries):
    agent = await make_agent()
    await make_organization(domains=["acme.vn"])
    lan = await make_customer(email="lan@acme.vn")
    await make_case(customer_id=lan.id)
    few = await queries(count_queries, lambda: customers.customer_360(agent, lan.id))
    for i in range(8):
        await make_case(customer_id=lan.id)
        await make_case(email=f"colleague{i}@acme.vn")
    many = await queries(count_queries, lambda: customers.customer_360(agent, lan.id))
    view = await customers.customer_360(agent, lan.id)
    assert (len(view.cases), len(view.organization_cases)) == (9, 8)
    assert few == many <= 7, count_queries.statements
