"""The knowledge-base panel of the case page: suggested articles and search.

``GET /console/kb/search`` returns an HTML fragment (htmx): with ``q``, the
articles matching it; without, the articles suggested for the case ``case``
from its subject and first message. Staff see drafts, marked as such; their
"Insert link" button is disabled, since customers cannot open them. What the
agent may see is decided by the services (a case they may not see is a 404).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Template

from agent_console._pages import render, settings_of
from helpdesk.policy import Principal
from knowledge_base import search, suggest
from knowledge_base.schemas import SearchHit, SearchQuery

AnyRequest = Request[Any, Any, Any]
SUGGESTIONS = 5
RESULTS = 10


@get("/kb/search", include_in_schema=False)
async def kb_search(
    request: AnyRequest,
    principal: NamedDependency[Principal],
    q: Annotated[str, Parameter(max_length=200)] = "",
    case: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
) -> Template:
    """Search results, or the case's suggestions when ``q`` is empty (a fragment)."""
    hits: list[SearchHit] = []
    if q.strip():
        hits = (await search.search_articles(principal, SearchQuery(q=q, limit=RESULTS))).items
    elif case is not None:
        hits = await suggest.suggest_for_case(principal, case, limit=SUGGESTIONS)
    return render(
        request,
        "console/_kb_results.html",
        hits=hits,
        searched=bool(q.strip()),
        base_url=settings_of(request).base_url.rstrip("/"),
    )
