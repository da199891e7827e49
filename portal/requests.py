"""My requests: the list, one request's public conversation, replies, the survey."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from helpdesk.domain import Channel
from helpdesk.errors import ValidationError
from helpdesk.markup import message_html
from helpdesk.policy import Principal
from helpdesk.schemas import MessageIn, MessageOut
from helpdesk.services import messages, portal_views, surveys
from helpdesk.web.downloads import download
from helpdesk.web.uploads import uploaded_files
from portal._render import PathId, portal_page


@get("/requests")
async def list_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    """The customer's requests (and their company's, when it shares them)."""
    cursor = request.query_params.get("cursor") or None
    page = await portal_views.my_requests(principal, cursor)
    return portal_page(
        request, "portal/requests.html", page=page, customer_id=principal.id,
        shared_organization_id=_shared_organization(principal),
    )  # fmt: skip


@get("/requests/{case_id:int}")
async def request_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], case_id: PathId
) -> Template:
    """One request: status, last update, the public conversation, reply and survey."""
    view = await portal_views.request_view(principal, case_id)
    return portal_page(
        request, "portal/request.html", view=view, customer_id=principal.id,
        shared_organization_id=_shared_organization(principal), message_html=_message_html,
    )  # fmt: skip


@post("/requests/{case_id:int}/reply")
async def reply(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], case_id: PathId
) -> Redirect:
    """Add the customer's message (with files); a solved request reopens."""
    form = await request.form()
    body = str(form.get("body") or "").strip()
    files = await uploaded_files(form)
    if not body and not files:
        raise ValidationError("a message needs a body or an attachment", field="body")
    data = MessageIn(body=body, attachments=files)
    await messages.add_customer_message(principal, case_id, data, channel=Channel.WEB)
    return Redirect(path=f"/support/requests/{case_id}", status_code=303)


@post("/requests/{case_id:int}/survey")
async def answer_survey(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], case_id: PathId
) -> Redirect:
    """Rate the current solve of the request."""
    form = await request.form()
    rating = surveys.rating_from_text(str(form.get("rating") or ""))
    comment = str(form.get("comment") or "")
    await surveys.answer_survey(principal, case_id, rating, comment)
    return Redirect(path=f"/support/requests/{case_id}", status_code=303)


@get("/attachments/{attachment_id:int}")
async def download_attachment(
    principal: NamedDependency[Principal], attachment_id: PathId
) -> Response[bytes]:
    """A file of a message the customer may see (never of an internal note)."""
    attachment, content = await messages.get_attachment(principal, attachment_id)
    return download(content, attachment.filename, attachment.content_type)


def _shared_organization(principal: Principal) -> int | None:
    """The organization whose requests the customer sees live too (shared visibility)."""
    return principal.organization_id if principal.organization_shared else None


def _message_html(message: MessageOut) -> str:
    """A reply's HTML, its pasted images shown through the portal's checked route."""
    return message_html(message, lambda attachment_id: f"/support/attachments/{attachment_id}")
