"""The survey link of the satisfaction mail: rate a solved request without signing in."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from helpdesk.errors import ValidationError
from helpdesk.services import surveys
from portal._render import PathToken, portal_page

PUBLIC = {"public": True}


@get("/survey/{token:str}", opt=PUBLIC)
async def survey_page(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """The 1–5 rating form, or a thank-you when this solve was rated already."""
    offer = await surveys.offer_by_token(request.app.state.settings.secret_key, token)
    return portal_page(request, "portal/survey.html", offer=offer, token=token)


@post("/survey/{token:str}", opt=PUBLIC, status_code=200)
async def answer(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """Record the rating of the link's solve."""
    form = await request.form()
    rating = str(form.get("rating") or "")
    if not rating.isdigit():
        raise ValidationError("rating must be from 1 to 5", field="rating")
    offer = await surveys.answer_by_token(
        request.app.state.settings.secret_key, token, int(rating), str(form.get("comment") or "")
    )
    return portal_page(request, "portal/survey.html", offer=offer, token=token)
