"""Replies and notes as agents write them in the console: Markdown, signature, and
"send and set status" in one transaction.

:func:`send_reply` adds the reply (the agent's signature appended, its
Markdown rendered to the HTML part of the mail) and, when asked, changes
the case's status in the same transaction, through the same services as a
reply and a status change made one after the other
(:func:`helpdesk.services.messages.reply`,
:func:`helpdesk.services.cases.update_case`): the same events, audit
entries, SLA reactions and survey follow, and nothing is written when any
part is refused (a stale version, a transition that is not allowed, an
attachment too large). Notes get the Markdown but never the signature.
"""

from __future__ import annotations

from helpdesk.db import transaction
from helpdesk.domain import Status
from helpdesk.errors import VersionConflictError
from helpdesk.markup import render_markdown, with_signature
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import CaseUpdate, MessageIn, MessageOut
from helpdesk.services import cases, messages
from helpdesk.services.lookup import case_row, visible_case_row
from helpdesk.services.signatures import signature_of

__all__ = ["add_note", "preview", "send_reply"]


async def _signed(principal: Principal, body: str) -> str:
    signature = await signature_of(principal.id) if principal.id is not None else ""
    return with_signature(body, signature)


async def send_reply(
    principal: Principal,
    case_id: int,
    data: MessageIn,
    *,
    status: Status | None = None,
    version: int | None = None,
) -> MessageOut:
    """Send a public reply written in Markdown, signed; with ``status``, also set
    the case's status, all in one transaction.

    ``version`` (the version the agent's page showed) is checked first when
    given: a case changed meanwhile raises :class:`VersionConflictError` and
    nothing is sent. The status change is checked as
    :func:`~helpdesk.services.cases.update_case` checks it
    (:class:`~helpdesk.errors.InvalidTransitionError`).
    """
    require(principal, Action.WORK_CASES)
    body = await _signed(principal, data.body)
    signed = MessageIn(body=body, html=render_markdown(body) or None, attachments=data.attachments)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if version is not None and case.version != version:
            raise VersionConflictError(
                f"case {case_id} is at version {case.version}, not {version}",
                current_version=case.version,
            )
        message = await messages.reply(principal, case_id, signed)
        if status is not None:
            current = await case_row(case_id)  # the reply moved its version on
            if current.status != status:
                change = CaseUpdate(version=current.version, status=status)
                await cases.update_case(principal, case_id, change)
    return message


async def add_note(principal: Principal, case_id: int, data: MessageIn) -> MessageOut:
    """Add an internal note written in Markdown (never signed)."""
    html = render_markdown(data.body)
    note = MessageIn(body=data.body, html=html or None, attachments=data.attachments)
    return await messages.add_note(principal, case_id, note)


async def preview(principal: Principal, case_id: int, body: str, *, reply: bool) -> str:
    """The HTML a reply (signed) or a note would show, for a case the agent may see."""
    require(principal, Action.WORK_CASES)
    await visible_case_row(principal, case_id)
    return render_markdown(await _signed(principal, body) if reply else body)
