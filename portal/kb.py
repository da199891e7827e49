"""The public knowledge base under ``/support/kb``: browse, search, read, and
"Was this helpful?"; no sign-in needed.

Only published articles are shown (a draft is "not found"), in the reader's
language when translated. An article opened from a suggestion on the request
form (``?t=`` the form's token) is recorded for the deflection report
(:mod:`knowledge_base.feedback`), as are the suggestions the form showed
(``POST /support/kb/shown``, from ``static/kb-suggest.js``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from helpdesk import ratelimit
from helpdesk.web.clients import client_address
from helpdesk.web.errors import error_text, page_exception_handlers
from knowledge_base import feedback, search, services, suggest
from knowledge_base.schemas import FeedbackIn, SearchQuery
from portal._pages import page, request_locale

AnyRequest = Request[Any, Any, Any]
SearchText = Annotated[str, Parameter(max_length=200)]
ArticleId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
FEEDBACK_PER_HOUR = 30  # per client address
SHOWN_PER_MINUTE = 120
SEARCH_PER_MINUTE = 120


def article_url(article_id: int) -> str:
    """The public page of an article (relative to the site)."""
    return f"/support/kb/articles/{article_id}"


@get("/", include_in_schema=False)
async def browse(request: AnyRequest) -> Template:
    """Every published article, by category, in the reader's language."""
    groups = await suggest.browse_published(request_locale(request))
    return page(request, "portal/kb_index.html", groups=groups, q="")


@get("/search", include_in_schema=False)
async def search_page(
    request: AnyRequest, q: Annotated[str, Parameter(max_length=200)] = ""
) -> Template:
    """Published articles matching ``q``, with the words found highlighted."""
    locale = request_locale(request)
    results = None
    if q.strip():
        await ratelimit.check(
            f"kb-portal-search:ip:{client_address(request)}", SEARCH_PER_MINUTE, 60
        )
        results = await search.search_public(SearchQuery(q=q, locale=locale, limit=20))
    return page(request, "portal/kb_search.html", q=q, results=results)


@get("/articles/{article_id:int}", include_in_schema=False)
async def article_page(request: AnyRequest, article_id: ArticleId) -> Template:
    """A published article in the reader's language (or the one it exists in)."""
    locale = request_locale(request)
    article = await services.read_public_article(article_id, locale)
    token = request.query_params.get("t")
    if token:
        await feedback.record_read(token, article_id)
    return page(
        request,
        "portal/kb_article.html",
        article=article,
        thanks=request.query_params.get("thanks") == "1",
        q="",
    )


@post("/articles/{article_id:int}/feedback", include_in_schema=False, status_code=303)
async def answer_feedback(request: AnyRequest, article_id: ArticleId) -> Redirect:
    """Store "Was this helpful?" (yes/no and an optional comment), then thank the reader."""
    await ratelimit.check(f"kb-feedback:ip:{client_address(request)}", FEEDBACK_PER_HOUR, 3600)
    form = await request.form()
    data = FeedbackIn(
        helpful=form.get("helpful") == "yes",
        comment=str(form.get("comment") or "")[:2000],
        locale=request_locale(request),
    )
    await feedback.record_feedback(article_id, data)
    return Redirect(path=f"{article_url(article_id)}?thanks=1#feedback", status_code=303)


@post("/shown", include_in_schema=False, status_code=204)
async def suggestions_shown(request: AnyRequest) -> None:
    """The request form ``t`` showed the articles ``ids`` (comma-separated)."""
    await ratelimit.check(f"kb-shown:ip:{client_address(request)}", SHOWN_PER_MINUTE, 60)
    form = await request.form()
    ids = [
        int(i) for i in str(form.get("ids") or "").split(",")[:10] if i.isdigit() and len(i) < 10
    ]
    await feedback.record_shown(str(form.get("t") or ""), ids)


def _error_page(request: AnyRequest, status: int, code: str) -> Response[Any]:
    message = error_text(code, "customer")
    return page(request, "portal/error.html", status_code=status, message=message)


kb_portal_router = Router(
    path="/support/kb",
    route_handlers=[
        browse,
        search_page,
        article_page,
        answer_feedback,
        suggestions_shown,
    ],
    exception_handlers=page_exception_handlers(_error_page, lambda _wanted: "/support/login"),
    include_in_schema=False,
)
