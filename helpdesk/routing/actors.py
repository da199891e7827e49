"""Dramatiq actors of routing: thin, idempotent, taking ids."""

from __future__ import annotations

import asyncio

import dramatiq

from helpdesk.events import CaseOpened, Event
from helpdesk.routing.assign import route_case
from helpdesk.tasks import ACTOR_OPTIONS


@dramatiq.actor(queue_name="routing", **ACTOR_OPTIONS)
async def route_new_case(case_id: int) -> None:
    """Route a newly opened case (safe to run more than once)."""
    await route_case(case_id)


async def enqueue_on_open(event: Event) -> None:
    """Event listener: enqueue routing for each opened case, after commit."""
    if isinstance(event, CaseOpened):
        await asyncio.to_thread(route_new_case.send, event.case_id)
