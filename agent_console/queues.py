"""The queue pages: ``/console/`` (my cases) and ``/console/queues/{name}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._forms import ANY_STATUS, NO_TEAM, queue_query
from agent_console._pages import PathName, render
from helpdesk.domain import Channel, Priority, Status
from helpdesk.errors import NotFoundError
from helpdesk.policy import Principal
from helpdesk.services import workspace
from helpdesk.services.queues import CaseSort, Queue


async def _queue_page(
    request: Request[Any, Any, Any], principal: Principal, queue: Queue
) -> Template:
    query = queue_query(request.query_params)
    view = await workspace.queue_view(
        principal,
        queue,
        query.filters(),
        cursor=query.cursor or None,
        sort=query.case_sort(),
    )
    next_url = None
    if view.next_cursor:
        params = {**query.query_without_cursor(), "cursor": view.next_cursor}
        next_url = f"/console/queues/{queue}?{urlencode(params)}"
    return render(
        request,
        "console/queue.html",
        view=view,
        header=view.header,
        query=query,
        next_url=next_url,
        first_url=f"/console/queues/{queue}?{urlencode(query.query_without_cursor())}",
        statuses=list(Status),
        priorities=list(Priority),
        channels=list(Channel),
        sorts=list(CaseSort),
        any_status=ANY_STATUS,
        no_team=NO_TEAM,
    )


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """The console's start page: the cases assigned to me."""
    return await _queue_page(request, principal, Queue.MINE)


@get("/queues/{name:str}", include_in_schema=False)
async def queue_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], name: PathName
) -> Template:
    """One queue, filtered, sorted and paged by the query string."""
    if name not in set(Queue):
        raise NotFoundError(f"no queue named {name!r}")
    return await _queue_page(request, principal, Queue(name))
