"""The search page, ``/console/search``: every case the agent may see, found by anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._pages import render
from helpdesk.domain import Priority, Status
from helpdesk.policy import Principal
from helpdesk.services import agents, workspace
from helpdesk.services.queues import ACTIVE_STATUSES
from helpdesk.services.search import MAX_PAGE

ACTIVE = "active"


class SearchQuery(msgspec.Struct, kw_only=True):
    """The search form as typed; a value that means nothing is ignored."""

    q: str = ""
    status: str = ""  # "": every status; "active"; or one status
    page: str = ""

    def statuses(self) -> list[Status]:
        """The statuses asked for (empty: all of them)."""
        if self.status == ACTIVE:
            return list(ACTIVE_STATUSES)
        return [Status(self.status)] if self.status in set(Status) else []

    def page_number(self) -> int:
        """The page asked for (1 when it is not a page number)."""
        page = self.page
        return int(page) if page.isascii() and page.isdigit() and 0 < int(page) <= MAX_PAGE else 1

    def url(self, page: int) -> str:
        """This search at another page."""
        params = {"q": self.q, "status": self.status, "page": str(page)}
        return "/console/search?" + urlencode({k: v for k, v in params.items() if v})


def search_query(params: Mapping[str, str]) -> SearchQuery:
    """The search form from a query string (values cut to a sane length)."""
    return SearchQuery(
        q=str(params.get("q") or "").strip()[:200],
        status=str(params.get("status") or "")[:20],
        page=str(params.get("page") or "")[:8],
    )


@get("/search", include_in_schema=False)
async def search_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    """Ranked results of a search over every field, with a status filter, paged."""
    query = search_query(request.query_params)
    page = query.page_number()
    view = await workspace.search_view(principal, query.q, query.statuses(), page)
    return render(
        request,
        "console/search.html",
        view=view,
        header=view.header,
        query=query,
        statuses=list(Status),
        priorities=list(Priority),
        bulk_agents=await agents.list_agents(principal, active_only=True),
        bulk_teams=view.teams,
        active=ACTIVE,
        live_queue=True,
        previous_url=query.url(page - 1) if page > 1 else None,
        next_url=query.url(page + 1) if page < view.pages else None,
    )
