"""One change applied to many cases at once: the console's bulk actions.

A :class:`BulkChange` names up to :data:`MAX_CASES` cases and what to do to
each: assign (or unassign), set status, priority or team, add or remove
tags, or merge them all into one case. Each case changes in its own
transaction through the same services as a change of one case (the same
policy checks, transitions, events, audit entries, SLA and survey
consequences), so one case that cannot change (closed, not visible, an
impossible transition) does not stop the others: :class:`BulkResult` says
which cases changed and why each other one did not.

A bulk change applies to each case as it is now (no version from the
caller): an agent who selected twenty rows means "these cases", whatever
changed in them meanwhile. A case changed by someone else between our read
and our write is read again once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.db import transaction
from helpdesk.domain import Priority, Status
from helpdesk.errors import HelpdeskError, ValidationError, VersionConflictError
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import AssignIn, CaseUpdate, Id, Tags
from helpdesk.services import cases

__all__ = ["MAX_CASES", "BulkChange", "BulkFailure", "BulkResult", "apply_bulk_change"]

MAX_CASES = 200
"""The most cases one bulk change may name (a few pages of a list)."""


class BulkChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What to do to each of ``case_ids``. ``assignee_id`` / ``team_id`` null
    unassigns / removes the team. ``merge_into`` merges every other named
    case into that one and cannot be combined with another change."""

    case_ids: Annotated[list[Id], Meta(min_length=1, max_length=MAX_CASES)]
    assignee_id: Id | UnsetType | None = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    team_id: Id | UnsetType | None = UNSET
    add_tags: Tags = msgspec.field(default_factory=list)
    remove_tags: Tags = msgspec.field(default_factory=list)
    merge_into: Id | UnsetType = UNSET


class BulkFailure(msgspec.Struct, kw_only=True):
    """A case the change could not apply to, with the error's stable code."""

    case_id: int
    code: str
    detail: str


class BulkResult(msgspec.Struct, kw_only=True):
    """Which cases changed (in the order named) and which did not."""

    changed: list[int]
    failed: list[BulkFailure]


def _field_change(change: BulkChange) -> bool:
    return (
        any(v is not UNSET for v in (change.status, change.priority, change.team_id))
        or bool(change.add_tags)
        or bool(change.remove_tags)
    )


async def apply_bulk_change(principal: Principal, change: BulkChange) -> BulkResult:
    """Apply ``change`` to each named case (each in its own transaction)."""
    require(principal, Action.WORK_CASES)
    ids = list(dict.fromkeys(change.case_ids))  # once each, in the order named
    if change.merge_into is not UNSET:
        if _field_change(change) or change.assignee_id is not UNSET:
            raise ValidationError("a merge cannot be combined with other changes")
        return await _merge_all(principal, ids, change.merge_into)
    if not _field_change(change) and change.assignee_id is UNSET:
        raise ValidationError("the bulk change changes nothing")
    result = BulkResult(changed=[], failed=[])
    for case_id in ids:
        await _one(result, case_id, partial(_change_case, principal, case_id, change))
    return result


async def _one(result: BulkResult, case_id: int, work: Callable[[], Awaitable[object]]) -> None:
    """Run ``work`` for one case, recording whether it changed or why not."""
    try:
        await work()
    except HelpdeskError as exc:
        result.failed.append(BulkFailure(case_id=case_id, code=exc.code, detail=exc.detail))
    else:
        result.changed.append(case_id)


async def _change_case(principal: Principal, case_id: int, change: BulkChange) -> None:
    """The field changes, then the assignment, of one case, in one transaction."""
    for attempt in (1, 2):
        try:
            async with transaction():
                if _field_change(change):
                    await _update_fields(principal, case_id, change)
                if change.assignee_id is not UNSET:
                    await cases.assign_case(principal, case_id, AssignIn(change.assignee_id))
            return
        except VersionConflictError:
            if attempt == 2:
                raise


async def _update_fields(principal: Principal, case_id: int, change: BulkChange) -> None:
    current = await cases.get_case(principal, case_id)
    update = CaseUpdate(version=current.version)
    if change.status is not UNSET:
        update.status = change.status
    if change.priority is not UNSET:
        update.priority = change.priority
    if change.team_id is not UNSET:
        update.team_id = change.team_id
    if change.add_tags or change.remove_tags:
        removed = {t.casefold() for t in change.remove_tags}
        kept = [t for t in current.tags if t.casefold() not in removed]
        update.tags = kept + [t for t in change.add_tags if t not in kept]
    await cases.update_case(principal, case_id, update)


async def _merge_all(principal: Principal, ids: list[int], target_id: int) -> BulkResult:
    """Merge every named case but the target into the target, one by one."""
    result = BulkResult(changed=[], failed=[])
    for case_id in ids:
        if case_id == target_id:
            continue
        await _one(result, case_id, partial(cases.merge_cases, principal, case_id, target_id))
    return result
