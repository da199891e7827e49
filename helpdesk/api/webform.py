"""The public web form as JSON: for a company's own site, no account needed."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.params import JSONBody

from helpdesk.api.params import reject_nul_characters
from helpdesk.api.problems import responses
from helpdesk.channels.webform import WebFormIn, WebFormReceipt, submit_web_form
from helpdesk.web.clients import client_address


@post("/webform", status_code=201, responses=responses(413, 422, 429), tags=["public"])
async def submit(request: Request[Any, Any, Any], data: JSONBody[WebFormIn]) -> WebFormReceipt:
    """Open a case from a public form. Leave ``website`` empty (it is a trap for
    bots); attachments are base64. Rate-limited per address and per client IP."""
    return await submit_web_form(data, client_ip=client_address(request))


public_router = Router(
    path="/api/v1/public",
    route_handlers=[submit],
    before_request=reject_nul_characters,
    security=[],
)
