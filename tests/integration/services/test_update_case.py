"""Changing a case: optimistic locking, the status machine, timestamps, fields."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from helpdesk.domain import Priority, Status
from helpdesk.errors import (
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
    VersionConflictError,
)
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseFilter, CaseOut, CaseUpdate
from helpdesk.services import cases
from tests.factories import customer_principal, make_agent, make_case, make_team
from tests.integration.services.helpers import case_tags
from tests.unit.test_domain import ALLOWED  # the state machine as the product defines it

PAIRS = [(a, b) for a, b in itertools.permutations([s.value for s in Status], 2)]


async def update(case: CaseOut, **fields: object) -> CaseOut:
    return await cases.update_case(SYSTEM, case.id, CaseUpdate(version=case.version, **fields))


async def case_in(status: str) -> CaseOut:
    case = await make_case()
    if status != "new":
        case = await update(case, status=Status(status))
    return case


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p not in ALLOWED])
async def test_invalid_transition_is_refused_and_changes_nothing(db, current, target):
    case = await case_in(current)
    with pytest.raises(InvalidTransitionError) as raised:
        await update(case, status=Status(target))
    assert (raised.value.status, raised.value.code) == (409, "invalid_transition")
    assert await cases.get_case(SYSTEM, case.id) == case


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
async def test_valid_transition_is_applied(db, current, target):
    case = await case_in(current)
    changed = await update(case, status=Status(target))
    assert changed.status == target
    assert changed.version == case.version + 1
    assert changed.updated_at >= case.updated_at


async def test_stale_version_is_a_conflict_and_changes_nothing(db):
    case = await make_case()
    current = await update(case, priority=Priority.HIGH)

    with pytest.raises(VersionConflictError) as raised:
        await update(case, priority=Priority.LOW)  # still holds version 1

    assert (raised.value.status, raised.value.code) == (409, "version_conflict")
    assert raised.value.extra["current_version"] == current.version
    assert await cases.get_case(SYSTEM, case.id) == current


async def test_concurrent_updates_of_one_version_have_one_winner(db):
    case = await make_case()
    results = await asyncio.gather(
        *(update(case, priority=p) for p in (Priority.LOW, Priority.HIGH, Priority.URGENT)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, CaseOut)]
    assert len(winners) == 1, results
    assert all(isinstance(r, VersionConflictError) for r in results if r not in winners)
    stored = await cases.get_case(SYSTEM, case.id)
    assert (stored.priority, stored.version) == (winners[0].priority, 2)


async def test_solved_and_closed_timestamps(db):
    case = await make_case()
    solved = await update(case, status=Status.SOLVED)
    assert solved.solved_at is not None
    assert solved.closed_at is None

    reopened = await update(solved, status=Status.OPEN)
    assert reopened.solved_at is None
    assert reopened.closed_at is None

    solved_again = await update(reopened, status=Status.SOLVED)
    closed = await update(solved_again, status=Status.CLOSED)
    assert closed.solved_at == solved_again.solved_at
    assert closed.closed_at is not None
    assert closed.closed_at >= closed.solved_at


async def test_closing_an_open_case_sets_only_closed_at(db):
    closed = await update(await case_in("open"), status=Status.CLOSED)
    assert closed.solved_at is None
    assert closed.closed_at is not None


async def test_priority_change_is_published_with_old_and_new_value(db):
    case = await make_case()
    await update(case, priority=Priority.URGENT)
    [frame] = [f for f in db.frames if f.stream == f"case:{case.id}" and f.type == "case.updated"]
    assert frame.payload["changes"] == {"priority": ["normal", "urgent"]}
    assert frame.payload["version"] == 2


async def test_tags_replace_and_rows_agree(db):
    case = await make_case(tags=["billing", "vip"])
    changed = await update(case, tags=["VIP", "refund", "refund"])
    assert changed.tags == ["refund", "vip"]
    assert await case_tags(case.id) == ["refund", "vip"]
    found = await cases.list_cases(SYSTEM, CaseFilter(tag="refund"))
    assert [c.id for c in found.items] == [case.id]
    assert (await cases.list_cases(SYSTEM, CaseFilter(tag="billing"))).items == []

    cleared = await update(changed, tags=[])
    assert cleared.tags == []
    assert await case_tags(case.id) == []


async def test_change_that_changes_nothing_keeps_the_version(db):
    case = await make_case(tags=["a"], priority=Priority.HIGH)
    same = await update(case, tags=["a"], priority=Priority.HIGH, status=Status.NEW)
    assert same == case


async def test_team_change_reaches_both_team_queues(db):
    first, second = await make_team(), await make_team()
    case = await make_case(team_id=first.id)

    moved = await update(case, team_id=second.id)
    teamless = await update(moved, team_id=None)

    assert (moved.team_id, teamless.team_id) == (second.id, None)
    assert db.types(f"team:{first.id}")[-1] == "case.updated"
    assert db.types(f"team:{second.id}") == ["case.updated", "case.updated"]
    assert db.types("team:none") == ["case.updated"]
    with pytest.raises(ValidationError):
        await update(teamless, team_id=9999)


async def test_agent_moving_a_case_out_of_their_team_gets_the_result(db):
    own, other = await make_team(), await make_team()
    agent = await make_agent(team_ids=[own.id])
    case = await make_case(team_id=own.id)
    moved = await cases.update_case(agent, case.id, CaseUpdate(version=1, team_id=other.id))
    assert moved.team_id == other.id


async def test_subject_change_is_searchable(db):
    case = await make_case(subject="Cannot log in")
    await update(case, subject="Hoàn tiền đơn hàng")
    found = await cases.list_cases(SYSTEM, CaseFilter(text="hoan tien"))
    assert [c.id for c in found.items] == [case.id]


async def test_customers_cannot_change_cases(db):
    case = await make_case()
    customer = await customer_principal(case.customer_id)
    with pytest.raises(PermissionDeniedError):
        await cases.update_case(customer, case.id, CaseUpdate(version=1, status=Status.SOLVED))
