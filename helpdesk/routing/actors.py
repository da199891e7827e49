"""Routing jobs: thin, idempotent, taking ids.

:func:`enqueue_routing` is an event reactor (set in :mod:`helpdesk.runtime`):
inside the transaction of each event it records the durable job the event
calls for (:mod:`helpdesk.jobs`). Every job reads the current state when it
runs, so running one twice, late, or for an event that changed nothing is
harmless.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from helpdesk import jobs
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

_FINAL = (Status.SOLVED, Status.CLOSED)


@jobs.durable_actor("routing")
async def route_new_case(case_id: int) -> None:
    """Route a newly opened case (safe to run more than once)."""
    await route_case(case_id)


@jobs.durable_actor("routing")
async def refill_queues_for_case(case_id: int, freed_agent_id: int | None = None) -> None:
    """Fill the team queues a change of this case may have unblocked."""
    await refill_after_case(case_id, freed_agent_id)


@jobs.durable_actor("routing")
async def agent_routing_changed(agent_id: int) -> None:
    """Requeue or fill after an agent's availability, active flag or capacity changed."""
    await after_agent_change(agent_id)


@jobs.durable_actor("routing")
async def fill_team_queue(team_id: int) -> None:
    """Assign a team's waiting cases to its agents with room."""
    await assign_waiting(team_id)


def _work_for(event: Event) -> tuple[dramatiq.Actor[..., Any], tuple[Any, ...]] | None:
    """The routing job ``event`` calls for (actor and arguments), if any."""
    match event:
        case CaseOpened(case_id=case_id):
            return route_new_case, (case_id,)
        case CaseUpdated(case_id=case_id, changes=changes) if "team_id" in changes or (
            "status" in changes and changes["status"][-1] in _FINAL
        ):
            return refill_queues_for_case, (case_id, None)
        case CaseAssigned(case_id=case_id, previous_assignee_id=previous) if previous is not None:
            return refill_queues_for_case, (case_id, previous)
        case CasesMerged(source_id=source_id):
            return refill_queues_for_case, (source_id, None)
        case AgentAvailabilityChanged(agent_id=agent_id):
            return agent_routing_changed, (agent_id,)
        case TeamRoutingChanged(team_id=team_id):
            return fill_team_queue, (team_id,)
    return None


async def enqueue_routing(event: Event) -> None:
    """Event reactor: record the routing job an event calls for, in its transaction.

    New cases are routed; room that may have appeared (a case solved, closed,
    merged, unassigned or moved, an agent's availability or capacity, a
    team's strategy) lets the team queues fill.
    """
    work = _work_for(event)
    if work is not None:
        actor, args = work
        jobs.enqueue(actor, *args)
