"""First routing of a new case.

A case opened without a team goes to the default team. The update is
conditional on ``routed_at`` being empty, so routing a case twice (a
redelivered message, a sweep racing a worker) changes it once.
"""

from __future__ import annotations

from datetime import timedelta

from helpdesk.db import transaction
from helpdesk.events import CaseUpdated, case_stream, emit, team_stream
from helpdesk.policy import SYSTEM
from helpdesk.services import audit
from helpdesk.services._convert import utcnow
from helpdesk.services.teams import default_team_id
from helpdesk.tables import Case


async def route_case(case_id: int) -> bool:
    """Route one case; True when this call routed it, False when it was done already."""
    async with transaction():
        row = (
            await Case.select(Case.team, Case.version, Case.routed_at)
            .where(Case.id == case_id)
            .first()
        )
        if row is None or row["routed_at"] is not None:
            return False
        team_id = row["team"] if row["team"] is not None else await default_team_id()
        updated = (
            await Case.update(
                {Case.team: team_id, Case.routed_at: utcnow(), Case.version: Case.version + 1}
            )
            .where((Case.id == case_id) & Case.routed_at.is_null())
            .returning(Case.id)
        )
        if not updated:
            return False
        changes = {"team_id": [row["team"], team_id]} if team_id != row["team"] else {}
        await audit.record(
            SYSTEM,
            "case.routed",
            entity="case",
            entity_id=case_id,
            case_id=case_id,
            changes=changes,
        )
        if changes:
            await emit(
                CaseUpdated(case_id=case_id, version=row["version"] + 1, changes=changes),
                [case_stream(case_id), team_stream(row["team"]), team_stream(team_id)],
            )
    return True


async def unrouted_cases(older_than: timedelta, limit: int = 500) -> list[int]:
    """Cases still waiting for routing after ``older_than`` (their message was lost)."""
    rows = (
        await Case.select(Case.id)
        .where(Case.routed_at.is_null() & (Case.created_at < utcnow() - older_than))
        .order_by(Case.id)
        .limit(limit)
    )
    return [int(r["id"]) for r in rows]
