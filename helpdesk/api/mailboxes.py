"""Mailboxes of the email channel (admins only); passwords go in, never out."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from helpdesk.api.params import ObjectId
from helpdesk.api.problems import responses
from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn, MailboxOut, MailboxUpdate
from helpdesk.policy import Principal


class MailboxController(Controller):
    """``/mailboxes``: support addresses fetched over IMAP and sent from over SMTP."""

    path = "/mailboxes"
    tags = ["mailboxes"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(409, 422))
    async def create_mailbox(
        self, principal: NamedDependency[Principal], data: JSONBody[MailboxIn]
    ) -> MailboxOut:
        """Add a mailbox (admins only). The response never contains a password."""
        return await mailboxes.create_mailbox(principal, data)

    @get("/", responses=responses())
    async def list_mailboxes(self, principal: NamedDependency[Principal]) -> list[MailboxOut]:
        """Every mailbox with its cursor, last error and quarantine count (admins only)."""
        return await mailboxes.list_mailboxes(principal)

    @get("/{mailbox_id:int}", responses=responses(404))
    async def get_mailbox(
        self, principal: NamedDependency[Principal], mailbox_id: ObjectId
    ) -> MailboxOut:
        """One mailbox (admins only)."""
        return await mailboxes.get_mailbox(principal, mailbox_id)

    @patch("/{mailbox_id:int}", responses=responses(404, 422))
    async def update_mailbox(
        self,
        principal: NamedDependency[Principal],
        mailbox_id: ObjectId,
        data: JSONBody[MailboxUpdate],
    ) -> MailboxOut:
        """Change a mailbox (admins only); a password left out is kept."""
        return await mailboxes.update_mailbox(principal, mailbox_id, data)
