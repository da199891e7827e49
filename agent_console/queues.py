"""The queue pages: ``/console/`` (my cases) and ``/console/queues/{name}``.

Each shows the agent's saved views (``?view=ID`` names the one shown, see
:mod:`agent_console.list_actions`), the filter form, and the bulk bar that
changes the ticked rows.
"""

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
from helpdesk.policy import Action, Principal, may
from helpdesk.services import agents, saved_views, workspace
from helpdesk.services.queues import CaseSort, Queue
from helpdesk.services.saved_views import ViewOut


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
    views = await saved_views.list_views(principal)
    return render(
        request,
        "console/queue.html",
        view=view,
        views=views,
        current_view=_current_view(views, request.query_params.get("view")),
        may_share_views=may(principal, Action.SHARE_VIEWS),
        bulk_agents=await agents.list_agents(principal, active_only=True),
        bulk_teams=view.teams,
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


def _current_view(views: list[ViewOut], raw: str | None) -> ViewOut | None:
    """The saved view named by ``?view=`` (one the agent may see), if any."""
    return next((v for v in views if raw and str(v.id) == raw), None)


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
