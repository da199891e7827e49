"""Loading a case row with the permission check applied."""

from __future__ import annotations

from typing import Any

from helpdesk.db import current_engine, is_postgres
from helpdesk.errors import NotFoundError
from helpdesk.policy import Principal, ensure_can_see_case
from helpdesk.tables import Case


async def visible_case_row(
    principal: Principal, case_id: int, *, for_update: bool = False
) -> dict[str, Any]:
    """The ``cases`` row of ``case_id`` if ``principal`` may see it, else NotFoundError.

    With ``for_update`` (inside a transaction) the row is locked on
    PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
    """
    query = Case.select().where(Case.id == case_id)
    if for_update and is_postgres(current_engine()):
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFoundError(f"case {case_id} not found")
    ensure_can_see_case(principal, row)
    return row
