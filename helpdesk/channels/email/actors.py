"""Dramatiq actors of the email channel: thin, idempotent, taking ids."""

from __future__ import annotations

import asyncio

import dramatiq

from helpdesk.channels.email.outbound import queue_reply, send_outbound
from helpdesk.events import Event, MessageAdded
from helpdesk.tasks import ACTOR_OPTIONS


@dramatiq.actor(queue_name="mail", **ACTOR_OPTIONS)
async def send_mail(outbound_id: int) -> None:
    """Send one queued outbound mail (sends at most once however often it runs)."""
    await send_outbound(outbound_id)


@dramatiq.actor(queue_name="mail", **ACTOR_OPTIONS)
async def deliver_reply(message_id: int) -> None:
    """Queue and send the mail of an agent's reply (idempotent per message)."""
    outbound_id = await queue_reply(message_id)
    if outbound_id is not None:
        await send_outbound(outbound_id)


async def enqueue_on_reply(event: Event) -> None:
    """Event listener: mail every public reply to the customer, after commit."""
    if isinstance(event, MessageAdded) and event.kind == "reply":
        await asyncio.to_thread(deliver_reply.send, event.message_id)
