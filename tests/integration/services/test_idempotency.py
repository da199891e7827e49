"""Idempotency keys in the database (SQLite and PostgreSQL): the key commits with the
change or not at all, racing twins make one change, answers are kept only after a
change, and keys older than a day are purged."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
import pytest

from helpdesk import idempotency
from helpdesk.clock import utcnow
from helpdesk.db import before_commit, transaction
from helpdesk.errors import (
    IdempotencyAnswerLostError,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
)
from helpdesk.idempotency import IdempotencyKey, StoredResponse
from helpdesk.schemas import CaseOut
from helpdesk.tables import Case
from tests.factories import make_case

SCOPE = "agent:7"


async def key_rows() -> list[dict[str, object]]:
    return await IdempotencyKey.select(
        IdempotencyKey.scope, IdempotencyKey.key, IdempotencyKey.status_code
    ).order_by(IdempotencyKey.id)


async def test_the_key_commits_with_the_change(db):
    claim = idempotency.claim_in_transaction(SCOPE, "k-1", "fp")
    case = await make_case(email="lan@example.vn")
    claim.release()
    assert claim.committed
    assert await key_rows() == [{"scope": SCOPE, "key": "k-1", "status_code": None}]
    assert await Case.count() == 1
    assert case.id == 1


async def test_a_change_that_rolls_back_after_the_claim_leaves_no_key(db):
    # Given a claim, and a change whose transaction fails after the key's row was written
    claim = idempotency.claim_in_transaction(SCOPE, "k-1", "fp")

    async def fail() -> None:
        raise RuntimeError("crash just before commit")

    async def change() -> None:
        async with transaction():
            await make_case(email="lan@example.vn")
            before_commit(fail)  # runs after the claim's insert

    with pytest.raises(RuntimeError, match="crash just before commit"):
        await change()
    claim.release()
    # Then the key's row was written (not merely skipped) and rolled back with the case
    assert not claim.unused
    assert not claim.committed
    assert await key_rows() == []
    assert await Case.count() == 0


async def test_a_released_claim_joins_no_later_transaction(db):
    claim = idempotency.claim_in_transaction(SCOPE, "k-1", "fp")
    claim.release()  # the operation returned without opening a transaction
    await make_case(email="lan@example.vn")
    assert claim.unused
    assert await key_rows() == []


async def test_racing_twins_make_one_change_and_the_loser_rolls_back(db):
    async def open_with_key() -> CaseOut:
        claim = idempotency.claim_in_transaction(SCOPE, "race", "fp")
        try:
            return await make_case(email="lan@example.vn")
        finally:
            claim.release()

    results = await asyncio.gather(open_with_key(), open_with_key(), return_exceptions=True)
    won = [r for r in results if isinstance(r, CaseOut)]
    lost = [r for r in results if isinstance(r, IdempotencyKeyInUseError)]
    assert (len(won), len(lost)) == (1, 1), results
    assert await Case.select(Case.id) == [{"id": won[0].id}]
    assert len(await key_rows()) == 1


async def test_run_once_gives_repeats_and_racing_twins_the_first_result(db):
    calls: list[int] = []

    async def action() -> CaseOut:
        case = await make_case(email="lan@example.vn")
        calls.append(case.id)
        return case

    async def replay(stored: bytes) -> CaseOut:
        return msgspec.json.decode(stored, type=CaseOut)

    async def once() -> CaseOut:
        return await idempotency.run_once(
            SCOPE, "op-1", "fp", action, encode=msgspec.json.encode, replay=replay
        )

    twins = await asyncio.gather(once(), once())
    later = await once()
    assert len(calls) == 1
    assert twins[0].id == twins[1].id == later.id == calls[0]
    assert await Case.count() == 1
    with pytest.raises(IdempotencyKeyReusedError):
        await idempotency.run_once(
            SCOPE, "op-1", "other", action, encode=msgspec.json.encode, replay=replay
        )


async def test_answers_are_kept_only_after_a_change(db):
    answer = StoredResponse(status_code=201, body=b'{"id":1}', content_type="application/json")
    # a 5xx is never kept, even after a change
    failed = idempotency.claim_in_transaction(SCOPE, "k-500", "fp")
    await make_case()
    failed.release()
    assert not await idempotency.store_response(failed, StoredResponse(status_code=500))
    # a 4xx without a change is not kept; a 2xx without a transaction is (best effort)
    refused = idempotency.claim_in_transaction(SCOPE, "k-422", "fp")
    refused.release()
    assert not await idempotency.store_response(refused, StoredResponse(status_code=422))
    plain = idempotency.claim_in_transaction(SCOPE, "k-200", "fp")
    plain.release()
    assert await idempotency.store_response(plain, answer)
    # a 4xx after a change is kept
    changed = idempotency.claim_in_transaction(SCOPE, "k-409", "fp")
    await make_case()
    changed.release()
    conflict = StoredResponse(status_code=409, body=b"{}", content_type="application/problem+json")
    assert await idempotency.store_response(changed, conflict)

    assert await key_rows() == [
        {"scope": SCOPE, "key": "k-500", "status_code": None},
        {"scope": SCOPE, "key": "k-200", "status_code": 201},
        {"scope": SCOPE, "key": "k-409", "status_code": 409},
    ]
    stored = await idempotency.lookup(SCOPE, "k-200")
    assert stored is not None
    assert idempotency.replay_of(stored, "fp") == answer
    with pytest.raises(IdempotencyKeyInUseError):
        idempotency.replay_of(await idempotency.lookup(SCOPE, "k-500"), "fp")  # type: ignore[arg-type]
    with pytest.raises(IdempotencyKeyReusedError):
        idempotency.replay_of(stored, "another request")


async def test_purge_deletes_keys_older_than_a_day_and_keeps_the_others(db):
    now = utcnow()
    ages = {"old": timedelta(hours=25), "older": timedelta(days=3), "young": timedelta(hours=23)}
    for key, age in ages.items():
        await IdempotencyKey.insert(
            IdempotencyKey(scope=SCOPE, key=key, request_fingerprint="fp", created_at=now - age)
        )
    assert await idempotency.purge_expired(now=now) == 2
    assert [row["key"] for row in await key_rows()] == ["young"]
    assert await idempotency.purge_expired(now=now + timedelta(hours=2)) == 1
    assert await key_rows() == []
    with pytest.raises(ValueError, match="at least"):
        await idempotency.purge_expired(timedelta(hours=23))


async def test_a_repeat_whose_first_answer_was_lost_learns_what_the_change_did(db):
    # Given a change that committed with its key, whose process died before the
    # answer was stored (nothing calls store_response)
    claim = idempotency.claim_in_transaction("agent:1", "lost-answer", "fp")
    case = await make_case(subject="Mất câu trả lời")
    claim.release()
    assert claim.committed
    record = await idempotency.lookup("agent:1", "lost-answer")
    assert record is not None
    # Then a repeat soon after is told the first request is still running
    with pytest.raises(IdempotencyKeyInUseError):
        idempotency.replay_of(record, "fp")
    # and once the answer must be lost, the repeat gets the change's events
    old = utcnow() - idempotency.ANSWER_LOST_AFTER - timedelta(seconds=1)
    await IdempotencyKey.update({IdempotencyKey.created_at: old}).where(
        IdempotencyKey.key == "lost-answer"
    )
    record = await idempotency.lookup("agent:1", "lost-answer")
    assert record is not None
    with pytest.raises(IdempotencyAnswerLostError) as lost:
        idempotency.replay_of(record, "fp")
    opened = [c for c in lost.value.extra["changes"] if c["type"] == "case.opened"]
    assert [c["case_id"] for c in opened] == [case.id]
