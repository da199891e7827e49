"""Work queues: named views of the case list ("mine", "team", "unassigned", "all").

A queue is a :class:`~helpdesk.schemas.CaseFilter` built for one principal,
always inside what the permission policy lets them see (the case list applies
:func:`helpdesk.policy.case_scope` to every query). A queue shows active cases
(new, open, pending, on hold) unless the caller asks for other statuses.

A later queue of cases at risk of breaching their SLA belongs to the SLA
engine; it is not one of these.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from helpdesk.domain import Status
from helpdesk.policy import Principal
from helpdesk.schemas import CaseFilter, CaseOut, Page
from helpdesk.services._case_list import CaseSort, count_cases, list_cases

__all__ = [
    "ACTIVE_STATUSES",
    "CaseSort",
    "Queue",
    "list_queue",
    "queue_counts",
    "queue_filter",
]

ACTIVE_STATUSES: tuple[Status, ...] = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Queue(StrEnum):
    """The standard queues of a member of staff."""

    MINE = "mine"  # assigned to me
    TEAM = "team"  # in one of my teams
    UNASSIGNED = "unassigned"  # nobody has it yet
    ALL = "all"  # everything I may see


def queue_filter(
    principal: Principal, queue: Queue, filters: CaseFilter | None = None
) -> CaseFilter:
    """The filters of ``queue`` for ``principal``, narrowed by ``filters``.

    The queue's own condition always wins over the same field of
    ``filters``; a status choice in ``filters`` replaces the default of
    active statuses. Someone in no team has an empty team queue.
    """
    base = filters or CaseFilter()
    status = base.status or list(ACTIVE_STATUSES)
    if queue == Queue.MINE:
        me = principal.id if principal.id is not None else -1
        return msgspec.structs.replace(base, status=status, assignee_id=me)
    if queue == Queue.TEAM:
        return msgspec.structs.replace(base, status=status, team_ids=sorted(principal.team_ids))
    if queue == Queue.UNASSIGNED:
        return msgspec.structs.replace(base, status=status, assignee_id=0)
    return msgspec.structs.replace(base, status=status)


async def queue_counts(principal: Principal) -> dict[Queue, int]:
    """How many active cases each queue holds for ``principal`` (one query per queue)."""
    return {queue: await count_cases(principal, queue_filter(principal, queue)) for queue in Queue}


async def list_queue(
    principal: Principal,
    queue: Queue,
    filters: CaseFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    sort: CaseSort = CaseSort.UPDATED_DESC,
) -> Page[CaseOut]:
    """One page of ``queue`` (keyset paging, see :func:`helpdesk.services.cases.list_cases`)."""
    return await list_cases(
        principal, queue_filter(principal, queue, filters), cursor=cursor, limit=limit, sort=sort
    )
