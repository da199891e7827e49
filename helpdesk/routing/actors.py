"""Dramatiq actors of routing: thin, idempotent, taking ids.

:func:`enqueue_routing` is the event listener (set in :mod:`helpdesk.runtime`):
after a transaction commits, it enqueues the actor that each event calls
for. Every actor reads the current state when it runs, so running one twice,
late, or for an event that changed nothing is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

import dramatiq

from helpdesk.domain import Status
from helpdesk.events import (
    AgentAvailabilityChanged,
    CaseAssigned,
    CaseOpened,
    CasesMerged,
    CaseUpdated,
    Event,
    TeamRoutingChanged,
)
from helpdesk.routing.assign import route_case
from helpdesk.routing.queue import after_agent_change, assign_waiting, refill_after_case
from helpdesk.tasks import ACTOR_OPTIONS

_FINAL = (Status.SOLVED, Status.CLOSED)


@dramatiq.actor(queue_name="routing", **ACTOR_OPTIONS)
async def route_new_case(case_id: int) -> None:
    """Route a newly opened case (safe to run more than once)."""
    await route_case(case_id)


@dramatiq.actor(queue_name="routing", **ACTOR_OPTIONS)
async def refill_queues_for_case(case_id: int, freed_agent_id: int | None = None) -> None:
    """Fill the team queues a change of this case may have unblocked."""
    await refill_after_case(case_id, freed_agent_id)


@dramatiq.actor(queue_name="routing", **ACTOR_OPTIONS)
async def agent_routing_changed(agent_id: int) -> None:
    """Requeue or fill after an agent's availability, active flag or capacity changed."""
    await after_agent_change(agent_id)


@dramatiq.actor(queue_name="routing", **ACTOR_OPTIONS)
async def fill_team_queue(team_id: int) -> None:
    """Assign a team's waiting cases to its agents with room."""
    await assign_waiting(team_id)


def _work_for(event: Event) -> Callable[[], object] | None:
    """The routing work ``event`` calls for, as a ``send`` to make, if any."""
    match event:
        case CaseOpened(case_id=case_id):
            return partial(route_new_case.send, case_id)
        case CaseUpdated(case_id=case_id, changes=changes) if "team_id" in changes or (
            "status" in changes and changes["status"][-1] in _FINAL
        ):
            return partial(refill_queues_for_case.send, case_id, None)
        case CaseAssigned(case_id=case_id, previous_assignee_id=previous) if previous is not None:
            return partial(refill_queues_for_case.send, case_id, previous)
        case CasesMerged(source_id=source_id):
            return partial(refill_queues_for_case.send, source_id, None)
        case AgentAvailabilityChanged(agent_id=agent_id):
            return partial(agent_routing_changed.send, agent_id)
        case TeamRoutingChanged(team_id=team_id):
            return partial(fill_team_queue.send, team_id)
    return None


async def enqueue_routing(event: Event) -> None:
    """Event listener: enqueue the routing work an event calls for, after commit.

    New cases are routed; room that may have appeared (a case solved, closed,
    merged, unassigned or moved, an agent's availability or capacity, a
    team's strategy) lets the team queues fill.
    """
    work = _work_for(event)
    if work is not None:
        await asyncio.to_thread(work)
