"""My requests: the list, one request's public conversation, replies, the survey."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from helpdesk.api.messages import content_disposition, safe_content_type
from helpdesk.domain import Channel
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import messages, portal_views, surveys
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
        shared_organization_id=_shared_organization(principal),
    )  # fmt: skip


async def _attachments(uploads: list[Any]) -> list[AttachmentIn]:
    files: list[AttachmentIn] = []
    for upload in uploads:
        if isinstance(upload, UploadFile) and upload.filename:
            files.append(
                AttachmentIn(
                    filename=upload.filename[-255:],
                    content=await upload.read(),
                    content_type=upload.content_type or "application/octet-stream",
                )
            )
    return files


@post("/requests/{case_id:int}/reply")
async def reply(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], case_id: PathId
) -> Redirect:
    """Add the customer's message (with files); a solved request reopens."""
    form = await request.form()
    body = str(form.get("body") or "").strip()
    files = await _attachments(form.getall("attachments", []))
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
    rating = str(form.get("rating") or "")
    comment = str(form.get("comment") or "")
    if not rating.isdigit():
        raise ValidationError("rating must be from 1 to 5", field="rating")
    await surveys.answer_survey(principal, case_id, int(rating), comment)
    return Redirect(path=f"/support/requests/{case_id}", status_code=303)


@get("/attachments/{attachment_id:int}")
async def download_attachment(
    principal: NamedDependency[Principal], attachment_id: PathId
) -> Response[bytes]:
    """A file of a message the customer may see (never of an internal note)."""
    attachment, content = await messages.get_attachment(principal, attachment_id)
    headers = {
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(content, media_type=safe_content_type(attachment.content_type), headers=headers)


def _shared_organization(principal: Principal) -> int | None:
    """The organization whose requests the customer sees live too (shared visibility)."""
    return principal.organization_id if principal.organization_shared else None
