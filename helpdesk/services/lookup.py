"""Loading case rows: with the permission check, and (after a write) without."""

from __future__ import annotations

from helpdesk.db import current_engine, is_postgres
from helpdesk.errors import NotFoundError
from helpdesk.policy import Principal, ensure_can_see_case
from helpdesk.rows import CaseRow
from helpdesk.tables import Case


async def visible_case_row(
    principal: Principal, case_id: int, *, for_update: bool = False
) -> CaseRow:
    """The case ``case_id`` if ``principal`` may see it, else NotFoundError.

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
    return CaseRow.from_row(row)


async def visible_case_rows_locked(principal: Principal, case_ids: list[int]) -> dict[int, CaseRow]:
    """Several visible cases, locked in id order (so two transactions that
    lock the same cases cannot deadlock on PostgreSQL)."""
    return {
        case_id: await visible_case_row(principal, case_id, for_update=True)
        for case_id in sorted(set(case_ids))
    }


async def case_row(case_id: int) -> CaseRow:
    """The case ``case_id``, without a permission check.

    For reading a case back after a change the caller was allowed to make:
    the change itself may take the case out of the caller's scope (an agent
    moving a case to another team), and that must not turn a committed change
    into a "not found".
    """
    row = await Case.select().where(Case.id == case_id).first()
    if row is None:
        raise NotFoundError(f"case {case_id} not found")
    return CaseRow.from_row(row)
