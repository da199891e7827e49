"""The public web form page: open a request without an account."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Router, get, post
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
from helpdesk.web.clients import client_address
from helpdesk.web.errors import error_text
from helpdesk.web.uploads import uploaded_files
from knowledge_base.feedback import mark_submitted
from portal._pages import page, request_locale

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
            await uploaded_files(form),
        )
        receipt = await _submit(
            data,
            client_address(request),
            str(form.get("idempotency_key") or ""),
            str(form.get("kb_token") or ""),
        )
    except HelpdeskError as exc:
        message = translator(locale)(error_text(exc.code, "customer"))
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


webform_router = Router(path="/", route_handlers=[show_form, submit_form])
