"""The SLA badge of each case in a list: its next target, when it is due, and its state.

One query for a whole page of cases (the active timers of those cases), so a
list costs the same whatever its length. The state follows the case page's
SLA panel (:func:`helpdesk.sla.services.case_sla`): ``breached`` once the
target was missed, ``at_risk`` once warned, ``paused`` while waiting on the
customer, else ``running``.

The next target is the running timer due first (a breached one is due in the
past, so it comes first); when every timer is paused, a paused one (with no
due time: a paused clock has none). A case with no active timer has no badge.
Not promised: the badge is what the timers say at the time of the read; a
warning or breach that the engine has not processed yet shows as ``running``
with a due time in the past.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.rows import as_utc
from helpdesk.sla.tables import CaseSlaTimer

__all__ = ["SlaBadge", "badges_for", "pick"]


class SlaBadge(msgspec.Struct, frozen=True):
    """The next SLA target of a case as a list shows it."""

    metric: str  # first_response | next_response | resolution
    state: str  # running | at_risk | breached | paused
    due_at: datetime | None


def _state(row: dict[str, Any]) -> str:
    if row["breached_at"] is not None:
        return "breached"
    if row["warned_at"] is not None:
        return "at_risk"
    return "paused" if row["paused"] else "running"


def pick(rows: list[dict[str, Any]]) -> SlaBadge | None:
    """The badge of one case from its active timer rows (None without any)."""
    if not rows:
        return None
    running = [r for r in rows if not r["paused"] and r["due_at"] is not None]
    if running:
        row = min(running, key=lambda r: (as_utc(r["due_at"]), r["id"]))
    else:
        row = min(rows, key=lambda r: r["id"])
    return SlaBadge(metric=row["metric"], state=_state(row), due_at=as_utc(row["due_at"]))


async def badges_for(case_ids: list[int]) -> dict[int, SlaBadge]:
    """The badge of each of ``case_ids`` that has an active SLA timer (one query).

    No permission check: the caller passes the ids of cases it already showed.
    """
    if not case_ids:
        return {}
    rows = await CaseSlaTimer.select(
        CaseSlaTimer.id,
        CaseSlaTimer.case,
        CaseSlaTimer.metric,
        CaseSlaTimer.paused,
        CaseSlaTimer.due_at,
        CaseSlaTimer.warned_at,
        CaseSlaTimer.breached_at,
    ).where(CaseSlaTimer.case.is_in(sorted(set(case_ids))) & (CaseSlaTimer.active == True))  # noqa: E712
    by_case: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["case"], []).append(row)
    badges = {case_id: pick(found) for case_id, found in by_case.items()}
    return {case_id: badge for case_id, badge in badges.items() if badge is not None}
