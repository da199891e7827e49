"""What a member of staff's screens show: a queue page and a case with its surroundings.

Read models for the agent console, composed from the domain services (every
permission check stays theirs) plus batched name look-ups, so that a page
costs a fixed number of queries however many cases or messages it shows.
They know nothing of HTTP or templates.
"""

from __future__ import annotations

import msgspec

from helpdesk.channels.email import delivery, health
from helpdesk.channels.email.schemas import OutboundMailOut
from helpdesk.domain import Status
from helpdesk.notifications import services as notification_services
from helpdesk.policy import Action, Principal, may, require
from helpdesk.schemas import AgentOut, CaseFilter, CaseOut, Customer360, MacroOut, MessageOut
from helpdesk.services import agents, cases, customers, macros, messages, search
from helpdesk.services._case_list import count_cases
from helpdesk.services.queues import CaseSort, Queue, list_queue, queue_counts, queue_filter
from helpdesk.sla.badges import SlaBadge, badges_for
from helpdesk.tables import Agent, Customer, Team

MAX_RELATED_CASES = 20


class Named(msgspec.Struct, frozen=True):
    """An id and the name shown for it."""

    id: int
    name: str


class Header(msgspec.Struct):
    """What every page's header shows: who is signed in, the size of each queue,
    and whether they may manage macros, view reports (and the settings pages)
    and change the settings."""

    me: AgentOut
    counts: dict[str, int]
    may_manage_macros: bool
    may_view_reports: bool = False
    may_administer: bool = False
    failing_mailboxes: int = 0
    """Active mailboxes whose last fetch or send failed (counted for admins only)."""
    unread_notifications: int = 0
    """The agent's unread notifications (:mod:`helpdesk.notifications`)."""


class CaseRow(msgspec.Struct):
    """One line of a queue or of search results, with its next SLA target."""

    case: CaseOut
    customer_name: str
    team_name: str | None
    assignee_name: str | None
    sla: SlaBadge | None = None


class QueueView(msgspec.Struct):
    """One page of a queue, with the teams to filter by."""

    header: Header
    queue: Queue
    rows: list[CaseRow]
    next_cursor: str | None
    teams: list[Named]
    total: int = 0
    """How many cases match the filters (the queue's size when none is set)."""


class SearchView(msgspec.Struct):
    """One page of search results, how many there are, and the teams to show."""

    header: Header
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    teams: list[Named]


class MessageView(msgspec.Struct):
    """A message of the conversation and the name of who wrote it."""

    message: MessageOut
    author_name: str


class MacroView(msgspec.Struct):
    """A macro with its placeholders filled for one case."""

    id: int
    name: str
    text: str


class CaseView(msgspec.Struct):
    """A case, its whole conversation with the delivery state of its mails, its
    customer and what the forms offer."""

    header: Header
    case: CaseOut
    messages: list[MessageView]
    customer: Customer360
    team_name: str | None
    assignee_name: str | None
    agents: list[Named]
    teams: list[Named]
    macros: list[MacroView]
    reply_mails: dict[int, OutboundMailOut] = msgspec.field(default_factory=dict)
    """The mail of each reply sent by mail, by the reply's message id."""
    automatic_mails: list[OutboundMailOut] = msgspec.field(default_factory=list)
    """Mails that carry no reply (acknowledgement, survey, …), oldest first."""


class MacrosView(msgspec.Struct):
    """The macros page of a manager: every macro, and the one being edited."""

    header: Header
    macros: list[MacroOut]
    editing: MacroOut | None


async def header(principal: Principal) -> Header:
    """The signed-in agent and the number of active cases in each queue."""
    assert principal.id is not None, "the console is for members of staff"
    me = await agents.get_agent(principal, principal.id)
    counts = await queue_counts(principal)
    return Header(
        me=me,
        counts={str(queue): count for queue, count in counts.items()},
        may_manage_macros=may(principal, Action.MANAGE_MACROS),
        may_view_reports=may(principal, Action.VIEW_REPORTS),
        may_administer=may(principal, Action.ADMINISTER),
        failing_mailboxes=(
            await health.failing_mailboxes() if may(principal, Action.ADMINISTER) else 0
        ),
        unread_notifications=await notification_services.unread_count(principal),
    )


async def queue_view(
    principal: Principal,
    queue: Queue,
    filters: CaseFilter,
    *,
    cursor: str | None = None,
    sort: CaseSort = CaseSort.UPDATED_DESC,
    limit: int = 50,
) -> QueueView:
    """One page of ``queue`` with the names of customers, teams and assignees."""
    require(principal, Action.VIEW_DIRECTORY)
    page = await list_queue(principal, queue, filters, cursor=cursor, limit=limit, sort=sort)
    teams = await _teams()
    top = await header(principal)
    total = top.counts[str(queue)]
    if filters != CaseFilter():
        total = await count_cases(principal, queue_filter(principal, queue, filters))
    return QueueView(
        header=top,
        queue=queue,
        rows=await _rows(page.items, teams),
        next_cursor=page.next_cursor,
        teams=teams,
        total=total,
    )


async def search_view(
    principal: Principal, text: str, statuses: list[Status], page: int = 1
) -> SearchView:
    """One page of :func:`helpdesk.services.search.search_cases` with names and SLA badges."""
    require(principal, Action.VIEW_DIRECTORY)
    found = await search.search_cases(principal, text, statuses=statuses, page=page)
    teams = await _teams()
    return SearchView(
        header=await header(principal),
        rows=await _rows(found.items, teams),
        total=found.total,
        page=found.page,
        pages=found.pages,
        teams=teams,
    )


async def _rows(items: list[CaseOut], teams: list[Named]) -> list[CaseRow]:
    """List lines for ``items``: names and SLA badges in a fixed number of queries."""
    customer_names = await _customer_names({c.customer_id for c in items})
    agent_names = await _agent_names({c.assignee_id for c in items if c.assignee_id})
    team_names = {team.id: team.name for team in teams}
    slas = await badges_for([c.id for c in items])
    return [
        CaseRow(
            case=case,
            customer_name=customer_names.get(case.customer_id, ""),
            team_name=team_names.get(case.team_id) if case.team_id else None,
            assignee_name=agent_names.get(case.assignee_id) if case.assignee_id else None,
            sla=slas.get(case.id),
        )
        for case in items
    ]


async def case_view(principal: Principal, case_id: int) -> CaseView:
    """The case page: raises :class:`~helpdesk.errors.NotFoundError` when the
    principal may not see the case, exactly as :func:`cases.get_case` does."""
    require(principal, Action.VIEW_DIRECTORY)
    case = await cases.get_case(principal, case_id)
    conversation = await messages.list_messages(principal, case_id)
    customer = await customers.customer_360(principal, case.customer_id, MAX_RELATED_CASES)
    staff = await _agents()
    staff_names = {agent.id: agent.name for agent, _ in staff}
    authors = await _customer_names(
        {m.author_customer_id for m in conversation if m.author_customer_id}
    )
    teams = await _teams()
    mails = await delivery.mails_of_case(case_id)
    top = await header(principal)
    values = {
        "customer_name": customer.customer.name,
        "case_number": case.reference,
        "agent_name": top.me.name,
    }
    return CaseView(
        header=top,
        case=case,
        messages=[
            MessageView(message=m, author_name=_author(m, staff_names, authors))
            for m in conversation
        ],
        customer=customer,
        team_name=next((t.name for t in teams if t.id == case.team_id), None),
        assignee_name=staff_names.get(case.assignee_id) if case.assignee_id else None,
        agents=[agent for agent, active in staff if active],
        teams=teams,
        macros=[
            MacroView(id=m.id, name=m.name, text=macros.render_macro(m.body, values))
            for m in await macros.list_macros(principal)
        ],
        reply_mails={m.case_message_id: m for m in mails if m.case_message_id is not None},
        automatic_mails=[m for m in mails if m.case_message_id is None],
    )


async def macros_view(principal: Principal, editing_id: int | None = None) -> MacrosView:
    """Every macro, for those who manage them; with ``editing_id``, that one too
    (:class:`~helpdesk.errors.NotFoundError` when it does not exist)."""
    require(principal, Action.MANAGE_MACROS)
    editing = await macros.get_macro(principal, editing_id) if editing_id is not None else None
    return MacrosView(
        header=await header(principal),
        macros=await macros.list_macros(principal),
        editing=editing,
    )


def _author(message: MessageOut, staff: dict[int, str], customers_: dict[int, str]) -> str:
    if message.author_agent_id is not None:
        return staff.get(message.author_agent_id, "")
    if message.author_customer_id is not None:
        return customers_.get(message.author_customer_id, "")
    return ""


async def _customer_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Customer.select(Customer.id, Customer.name).where(Customer.id.is_in(sorted(ids)))
    return {row["id"]: row["name"] for row in rows}


async def _agent_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Agent.select(Agent.id, Agent.name).where(Agent.id.is_in(sorted(ids)))
    return {row["id"]: row["name"] for row in rows}


async def _agents() -> list[tuple[Named, bool]]:
    """Every member of staff by name, and whether they are active."""
    rows = await Agent.select(Agent.id, Agent.name, Agent.active).order_by(Agent.name)
    return [(Named(id=row["id"], name=row["name"]), bool(row["active"])) for row in rows]


async def _teams() -> list[Named]:
    rows = await Team.select(Team.id, Team.name).order_by(Team.name)
    return [Named(id=row["id"], name=row["name"]) for row in rows]
