"""The conversation of a case (customer messages, replies, internal notes) and attachments."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from helpdesk.api.params import ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.schemas import MessageIn, MessageOut
from helpdesk.services import messages
from helpdesk.web.downloads import download


class MessageController(Controller):
    """``/cases/{case_id}/…``: the messages of one case."""

    path = "/cases/{case_id:int}"
    tags = ["messages"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/messages", responses=responses(404))
    async def list_messages(
        self, principal: NamedDependency[Principal], case_id: ObjectId
    ) -> list[MessageOut]:
        """The conversation, oldest first. Staff see internal notes (``kind`` "note");
        customers never do."""
        return await messages.list_messages(principal, case_id)

    @post("/messages", responses=responses(404, 409, 413, 422))
    async def reply(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[MessageIn]
    ) -> MessageOut:
        """A public reply by the calling agent, sent to the customer.

        The first reply records the first response time and moves a new case
        to open. A closed case refuses it (``409 invalid_transition``).
        """
        return await messages.reply(principal, case_id, data)

    @post("/customer-messages", responses=responses(404, 409, 413, 422))
    async def add_customer_message(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[MessageIn]
    ) -> MessageOut:
        """Record a message from the customer, taken down by staff (e.g. a phone call).

        A pending or solved case reopens; a closed case refuses it.
        """
        return await messages.add_customer_message(principal, case_id, data)

    @post("/notes", responses=responses(404, 413, 422))
    async def add_note(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[MessageIn]
    ) -> MessageOut:
        """An internal note: visible to staff only, never to the customer."""
        return await messages.add_note(principal, case_id, data)


@get(
    "/attachments/{attachment_id:int}",
    tags=["messages"],
    media_type="application/octet-stream",
    responses=responses(404),
    response_description="The attachment's bytes, as a download.",
)
async def download_attachment(
    principal: NamedDependency[Principal], attachment_id: ObjectId
) -> Response[bytes]:
    """Download an attachment, if the caller may see its case.

    Always served as a download (``Content-Disposition: attachment``, with
    ``nosniff`` and a sandboxing CSP), so a stored HTML file cannot run in
    the helpdesk's origin.
    """
    attachment, data = await messages.get_attachment(principal, attachment_id)
    return download(data, attachment.filename, attachment.content_type)
