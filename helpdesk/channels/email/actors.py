"""Mail jobs: thin, idempotent, taking ids (see :mod:`helpdesk.jobs`)."""

from __future__ import annotations

from helpdesk import jobs
from helpdesk.channels.email.outbound import queue_reply, send_outbound
from helpdesk.events import Event, MessageAdded


@jobs.durable_actor("mail")
async def send_mail(outbound_id: int) -> None:
    """Send one queued outbound mail (sends at most once however often it runs)."""
    await send_outbound(outbound_id)


@jobs.durable_actor("mail")
async def deliver_reply(message_id: int) -> None:
    """Queue and send the mail of an agent's reply (idempotent per message)."""
    outbound_id = await queue_reply(message_id)
    if outbound_id is not None:
        await send_outbound(outbound_id)


async def enqueue_on_reply(event: Event) -> None:
    """Event reactor: every public reply gets a mail job, in the reply's transaction."""
    if isinstance(event, MessageAdded) and event.kind == "reply":
        jobs.enqueue(deliver_reply, event.message_id)
