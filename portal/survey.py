"""The survey link of the satisfaction mail: rate a solved request without signing in."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from helpdesk.services import surveys
from helpdesk.services.surveys import SurveyLinkExpiredError
from portal._render import PathToken, portal_page

PUBLIC = {"public": True}


def _expired(request: Request[Any, Any, Any], exc: SurveyLinkExpiredError) -> Template:
    return portal_page(request, "portal/survey_expired.html", status_code=exc.status)


@get("/survey/{token:str}", opt=PUBLIC)
async def survey_page(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """The 1–5 rating form, a thank-you when this solve was rated already, or
    (410) a friendly page when the link has expired."""
    try:
        offer = await surveys.offer_by_token(request.app.state.settings.secret_key, token)
    except SurveyLinkExpiredError as exc:
        return _expired(request, exc)
    return portal_page(request, "portal/survey.html", offer=offer, token=token)


@post("/survey/{token:str}", opt=PUBLIC, status_code=200)
async def answer(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """Record the rating of the link's solve (410 page when the link has expired)."""
    form = await request.form()
    rating = surveys.rating_from_text(str(form.get("rating") or ""))
    try:
        offer = await surveys.answer_by_token(
            request.app.state.settings.secret_key, token, rating,
            str(form.get("comment") or ""),
        )  # fmt: skip
    except SurveyLinkExpiredError as exc:
        return _expired(request, exc)
    return portal_page(request, "portal/survey.html", offer=offer, token=token)
