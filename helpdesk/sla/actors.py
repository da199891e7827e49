"""Dramatiq actors of the SLA engine: thin, idempotent, taking plain values.

``wake`` is the delayed message of a deadline: when it runs it fires every
timer due by then (so one message serves every timer due at that instant,
and a duplicate finds nothing left to do). ``refresh_policy_cases`` retargets
the open cases of a policy that an admin changed, in small transactions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import dramatiq

from helpdesk.db import transaction
from helpdesk.services._convert import utcnow
from helpdesk.sla.timers import fire_due
from helpdesk.sla.tracking import refresh_case
from helpdesk.tasks import ACTOR_OPTIONS

__all__ = ["refresh_policy_cases", "schedule_wake", "wake"]


@dramatiq.actor(queue_name="sla", **ACTOR_OPTIONS)
async def wake(due: str) -> None:
    """Fire every SLA deadline that has come (``due`` is the instant this wake-up was for).

    A message delivered early (clocks of two machines differ) waits for its
    instant, or is sent again when that is more than a second away.
    """
    moment = datetime.fromisoformat(due)
    early = (moment - utcnow()).total_seconds()
    if early > 1:
        schedule_wake(moment)
        return
    if early > 0:
        await asyncio.sleep(early)
    await fire_due()


def schedule_wake(moment: datetime) -> None:
    """Send a ``wake`` message to be processed at ``moment`` (at once if it has passed)."""
    delay_ms = max(0, int((moment - utcnow()).total_seconds() * 1000))
    wake.send_with_options(args=(moment.isoformat(),), delay=delay_ms or None)


@dramatiq.actor(queue_name="sla", **ACTOR_OPTIONS)
async def refresh_policy_cases(case_ids: list[int]) -> None:
    """Re-choose the policy and retarget the timers of these cases."""
    for case_id in case_ids:
        async with transaction():
            await refresh_case(case_id)
