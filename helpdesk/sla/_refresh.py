"""Retargeting open cases after a policy or calendar change, as jobs of the current transaction."""

from __future__ import annotations

from typing import Any

from helpdesk import jobs
from helpdesk.sla.tables import CaseSlaTimer, SlaPolicy

__all__ = ["refresh_cases_later"]


async def refresh_cases_later(policies: Any) -> None:
    """Record jobs (in the current transaction) that retarget the open cases
    measured by the policies matching ``policies`` (a condition on
    ``sla_policies``), in batches of 100. Nothing runs before the commit."""
    ids = [int(r["id"]) for r in await SlaPolicy.select(SlaPolicy.id).where(policies)]
    if not ids:
        return
    rows = (
        await CaseSlaTimer.select(CaseSlaTimer.case)
        .where(
            CaseSlaTimer.policy_id.is_in(ids) & (CaseSlaTimer.active == True)  # noqa: E712
        )
        .distinct()
    )
    case_ids = sorted({int(r["case"]) for r in rows})
    from helpdesk.sla.actors import refresh_policy_cases

    for start in range(0, len(case_ids), 100):
        jobs.enqueue(refresh_policy_cases, case_ids[start : start + 100])
