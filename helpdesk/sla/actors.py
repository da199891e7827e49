"""SLA jobs: thin, idempotent, taking plain values (see :mod:`helpdesk.jobs`).

``wake`` is the delayed job of a deadline: when it runs it fires every timer
due by then (so one job serves every timer due at that instant, and a
duplicate finds nothing left to do). ``refresh_policy_cases`` retargets the
open cases of a policy that an admin changed, in small transactions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from helpdesk import jobs
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.sla.timers import GRACE, fire_due
from helpdesk.sla.tracking import refresh_case

__all__ = ["refresh_policy_cases", "wake"]


@jobs.durable_actor("sla")
async def wake(due: str) -> None:
    """Fire every SLA deadline that has come (``due`` is the instant this wake-up was for).

    A job delivered a little early (clocks of two machines differ) waits for
    its instant; one delivered much earlier fires only what is due, and the
    periodic sweep fires the rest once it is overdue by :data:`GRACE`.
    """
    early = (datetime.fromisoformat(due) - utcnow()).total_seconds()
    if 0 < early <= GRACE.total_seconds():
        await asyncio.sleep(early)
    await fire_due()


@jobs.durable_actor("sla")
async def refresh_policy_cases(case_ids: list[int]) -> None:
    """Re-choose the policy and retarget the timers of these cases."""
    for case_id in case_ids:
        async with transaction():
            await refresh_case(case_id)
