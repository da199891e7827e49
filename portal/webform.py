"""The public web form page: open a request without an account."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from helpdesk.channels.webform import (
    WebFormIn,
    WebFormReceipt,
    parse_form,
    submit_web_form,
    submit_web_form_once,
)
from helpdesk.errors import HelpdeskError
from helpdesk.i18n import translator
from helpdesk.schemas import AttachmentIn
from knowledge_base.feedback import mark_submitted
from portal._pages import client_ip, page, request_locale

FIELDS = ("name", "email", "subject", "message")


def _new_key() -> str:
    """A fresh idempotency key for one rendering of the form."""
    return secrets.token_urlsafe(24)


@get("/support/request", include_in_schema=False)
async def show_form(request: Request[Any, Any, Any]) -> Template:
    """The empty form, with a fresh token for the article suggestions (deflection)
    and a fresh idempotency key (a double submit opens one case)."""
    return page(
        request,
        "portal/webform.html",
        form=dict.fromkeys(FIELDS, ""),
        error=None,
        kb_token=secrets.token_urlsafe(18),
        idempotency_key=_new_key(),
    )


async def _attachments(uploads: list[Any]) -> list[AttachmentIn]:
    files: list[AttachmentIn] = []
    for upload in uploads:
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            files.append(
                AttachmentIn(
                    filename=upload.filename[-255:],
                    content=content,
                    content_type=upload.content_type or "application/octet-stream",
                )
            )
    return files


@post("/support/request", include_in_schema=False, status_code=200)
async def submit_form(request: Request[Any, Any, Any]) -> Template:
    """Open a case from the submitted form; show the case number, or the form
    again with the error and everything the person typed."""
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in FIELDS}
    locale = request_locale(request)
    try:
        data = parse_form(
            {**values, "website": str(form.get("website") or ""), "locale": locale},
            await _attachments(form.getall("attachments", [])),
        )
        receipt = await _submit(
            data,
            client_ip(request),
            str(form.get("idempotency_key") or ""),
            str(form.get("kb_token") or ""),
        )
    except HelpdeskError as exc:
        message = translator(locale)(_ERRORS.get(exc.code, "Your request could not be sent."))
        return page(
            request,
            "portal/webform.html",
            status_code=exc.status,
            form=values,
            error=message,
            kb_token=str(form.get("kb_token") or "")[:64],
            idempotency_key=_new_key(),
        )
    return page(request, "portal/webform_done.html", reference=receipt.reference)


async def _submit(data: WebFormIn, ip: str, key: str, kb_token: str) -> WebFormReceipt:
    """Send the form once per rendering (its idempotency key); a page without a key
    (cached from before keys existed) is sent as it comes."""

    async def submitted(_: WebFormReceipt) -> None:
        await mark_submitted(kb_token)

    if key:
        return await submit_web_form_once(data, client_ip=ip, key=key, then=submitted)
    receipt = await submit_web_form(data, client_ip=ip)
    await submitted(receipt)
    return receipt


def _(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


_ERRORS = {
    "validation_error": _("Please fill in every field with a valid value."),
    "rate_limited": _("Too many requests were sent. Please try again later."),
    "spam_suspected": _("Your request could not be sent."),
    "attachment_too_large": _("An attachment is too large."),
    "idempotency_key_in_use": _(
        "Your request is still being sent. Please wait a moment, then check your email "
        "for our confirmation."
    ),
    "idempotency_key_reused": _(
        "This form was already sent with other content. Please check it and send it again."
    ),
}

webform_router = Router(path="/", route_handlers=[show_form, submit_form])
