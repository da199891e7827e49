"""The services behind the agent console: queues, sort orders, macros and screen read models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain import Channel, MessageKind, Role, Status
from helpdesk.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AssignIn, CaseFilter, CaseUpdate, MacroIn, MessageIn
from helpdesk.services import cases, macros, messages, workspace
from helpdesk.services._case_list import CaseSort, encode_cursor
from helpdesk.services.queues import Queue, list_queue, queue_counts
from helpdesk.tables import Case
from tests.factories import make_agent, make_case, make_team, set_updated_at


async def test_queues_of_an_agent(db):
    # Given an agent of team A, and cases around them
    team_a, team_b = await make_team(), await make_team()
    agent = await make_agent(team_ids=[team_a.id])
    mine = await make_case(team_id=team_a.id)
    await cases.assign_case(SYSTEM, mine.id, AssignIn(assignee_id=agent.id))
    waiting = await make_case(team_id=team_a.id, channel=Channel.EMAIL)
    triage = await make_case()
    other_team = await make_case(team_id=team_b.id)
    solved = await make_case(team_id=team_a.id)
    await cases.update_case(SYSTEM, solved.id, CaseUpdate(version=1, status=Status.SOLVED))

    async def ids(queue: Queue, **filters: object) -> set[int]:
        page = await list_queue(agent, queue, CaseFilter(**filters))
        return {case.id for case in page.items}

    # Then each queue holds what its name says, within what the agent may see
    assert await ids(Queue.MINE) == {mine.id}
    assert await ids(Queue.TEAM) == {mine.id, waiting.id}
    assert await ids(Queue.UNASSIGNED) == {waiting.id, triage.id}
    assert await ids(Queue.ALL) == {mine.id, waiting.id, triage.id}
    assert await ids(Queue.ALL, status=list(Status)) == {mine.id, waiting.id, triage.id, solved.id}
    assert await ids(Queue.TEAM, channel=[Channel.EMAIL]) == {waiting.id}
    assert await ids(Queue.ALL, team_id=team_b.id) == set()  # no leak through a filter
    assert other_team.id not in await ids(Queue.ALL, status=list(Status))
    assert await queue_counts(agent) == {
        Queue.MINE: 1,
        Queue.TEAM: 2,
        Queue.UNASSIGNED: 2,
        Queue.ALL: 3,
    }


async def test_a_manager_in_no_team_has_an_empty_team_queue(db):
    manager = await make_agent(Role.MANAGER)
    await make_case(team_id=(await make_team()).id)
    assert (await list_queue(manager, Queue.TEAM)).items == []
    assert (await queue_counts(manager))[Queue.ALL] == 1


@pytest.mark.parametrize("sort", list(CaseSort))
async def test_every_sort_order_pages_through_every_case_once(db, sort):
    created = [await make_case() for _ in range(7)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for index, case in enumerate(created):  # updated in the reverse order of creation, with ties
        await set_updated_at([case.id], base - timedelta(hours=index // 2))
    seen: list[int] = []
    cursor = None
    while True:
        page = await cases.list_cases(SYSTEM, CaseFilter(), cursor=cursor, limit=3, sort=sort)
        seen.extend(c.id for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.id for c in created)
    rows = {r["id"]: r for r in await Case.select(Case.id, Case.created_at, Case.updated_at)}
    keys = [(rows[i][sort.column], i) for i in seen]
    assert keys == sorted(keys, reverse=sort.descending)


async def test_a_cursor_only_continues_its_own_sort_order(db):
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        await cases.list_cases(
            SYSTEM, CaseFilter(), cursor=encode_cursor(stamp, 1, CaseSort.CREATED_ASC)
        )
    # the default order keeps the cursors it always had
    page = await cases.list_cases(SYSTEM, CaseFilter(), cursor=encode_cursor(stamp, 1))
    assert page.items == []


async def test_macros_are_managed_by_managers_and_used_by_everyone(db):
    manager = await make_agent(Role.MANAGER)
    agent = await make_agent()
    data = MacroIn(name="Lời chào", body="Chào {{customer_name}}")
    with pytest.raises(PermissionDeniedError):
        await macros.create_macro(agent, data)
    macro = await macros.create_macro(manager, data)
    assert macro.created_by_id == manager.id
    with pytest.raises(ConflictError):
        await macros.create_macro(manager, data)
    assert [m.name for m in await macros.list_macros(agent)] == ["Lời chào"]
    changed = await macros.update_macro(manager, macro.id, MacroIn(name="Chào", body="Xin chào"))
    assert (changed.name, changed.body) == ("Chào", "Xin chào")
    with pytest.raises(PermissionDeniedError):
        await macros.delete_macro(agent, macro.id)
    await macros.delete_macro(manager, macro.id)
    with pytest.raises(NotFoundError):
        await macros.get_macro(agent, macro.id)


async def test_the_case_view_has_everything_the_page_shows(db, count_queries):
    # Given a case of team A with a reply, a note by an agent, and a macro
    team = await make_team()
    agent = await make_agent(team_ids=[team.id], name="Nguyễn Thị Lan")
    case = await make_case(team_id=team.id, customer_name="Lê Thị Hoa")
    await make_case(customer_id=case.customer_id, team_id=team.id)
    await messages.reply(agent, case.id, MessageIn(body="Chào chị"))
    await messages.add_note(agent, case.id, MessageIn(body="VIP"))
    await macros.create_macro(SYSTEM, MacroIn(name="M", body="{{customer_name}}/{{case_number}}"))

    # When the agent opens it
    with count_queries:
        view = await workspace.case_view(agent, case.id)

    # Then the page has the conversation with its authors, the customer and the macros
    assert [(m.message.kind, m.author_name) for m in view.messages] == [
        (MessageKind.CUSTOMER, "Lê Thị Hoa"),
        (MessageKind.REPLY, "Nguyễn Thị Lan"),
        (MessageKind.NOTE, "Nguyễn Thị Lan"),
    ]
    assert view.customer.customer.name == "Lê Thị Hoa"
    assert len(view.customer.cases) == 2
    assert view.team_name == team.name
    assert [m.text for m in view.macros] == [f"Lê Thị Hoa/{case.reference}"]
    assert view.header.me.name == "Nguyễn Thị Lan"
    assert not view.header.may_manage_macros
    # in a fixed number of queries, however long the conversation
    fixed = count_queries.count
    for _ in range(5):
        await messages.add_note(agent, case.id, MessageIn(body="thêm"))
    with count_queries:
        await workspace.case_view(agent, case.id)
    assert count_queries.count == fixed


async def test_the_case_view_is_not_found_for_an_agent_of_another_team(db):
    case = await make_case(team_id=(await make_team()).id)
    outsider = await make_agent(team_ids=[(await make_team()).id])
    with pytest.raises(NotFoundError):
        await workspace.case_view(outsider, case.id)


async def test_the_queue_view_names_customers_teams_and_assignees(db, count_queries):
    team = await make_team()
    agent = await make_agent(team_ids=[team.id], name="Trần Văn Minh")
    for index in range(3):
        case = await make_case(team_id=team.id, customer_name=f"Khách {index}")
        await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=agent.id))
    with count_queries:
        view = await workspace.queue_view(agent, Queue.MINE, CaseFilter())
    assert sorted(row.customer_name for row in view.rows) == ["Khách 0", "Khách 1", "Khách 2"]
    assert {row.assignee_name for row in view.rows} == {"Trần Văn Minh"}
    assert {row.team_name for row in view.rows} == {team.name}
    assert view.header.counts["mine"] == 3
    fixed = count_queries.count
    await make_case(team_id=team.id)
    with count_queries:
        await workspace.queue_view(agent, Queue.TEAM, CaseFilter())
    assert count_queries.count == fixed
