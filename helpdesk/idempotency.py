"""Idempotency keys: a repeated request gets the first one's answer, never a second change.

A caller names an operation with a key it chose (the API's ``Idempotency-Key``
header, the web form's hidden field, the chat widget's operation id). The key
is kept per *scope* (who is asking: an agent, a public client address, one
chat) with a fingerprint of the request, and later with the answer.

How a key is used (the web middleware and :func:`run_once` do exactly this):

1. :func:`lookup` the key: a stored answer is replayed (:func:`replay_of`),
   provided the fingerprint is the same;
2. otherwise :func:`claim_in_transaction` registers the key's row with the next
   :func:`helpdesk.db.transaction` of the current context, so the row commits
   **in the same transaction as the change it guards**: a crash after the
   commit can never let a retry make the change again. When two requests race,
   the second one's insert meets the first one's row, and its whole
   transaction rolls back with :class:`~helpdesk.errors.IdempotencyKeyInUseError`;
3. after the operation, :func:`store_response` records the answer.

What is promised: one change per (scope, key) for every operation that makes
its change in :func:`helpdesk.db.transaction`; an answer kept at least
:data:`RETENTION` (24 h), then :func:`purge_expired` may delete it.

What is not:

* the key joins the *first* transaction that starts after the claim. An
  operation whose first transaction rolls back and that then commits in a
  second one, or one that writes without :func:`helpdesk.db.transaction`, gets
  its key stored only after it returned (2xx answers only): a crash in between,
  or a concurrent duplicate, may then repeat the change;
* a first request that made its change but whose answer was lost (a crash, a
  5xx after the commit) leaves a key without an answer: repeats are refused
  with ``idempotency_key_in_use`` until the key expires;
* tasks created in a context after its first claim share that context's list
  of pending hooks (:func:`helpdesk.db.join_next_transaction`): such a task
  must not open a transaction while a claim of the parent is pending.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec
from piccolo.columns import Bytea, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.clock import utcnow
from helpdesk.db import join_next_transaction, on_commit
from helpdesk.errors import (
    IdempotencyAnswerLostError,
    IdempotencyKeyInUseError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyReusedError,
)
from helpdesk.events import pending_payloads
from helpdesk.tables import register_tables

__all__ = [
    "MAX_KEY_LENGTH",
    "RETENTION",
    "Claim",
    "IdempotencyKey",
    "KeyRecord",
    "StoredResponse",
    "claim_in_transaction",
    "data_fingerprint",
    "lookup",
    "parse_key",
    "purge_expired",
    "replay_of",
    "request_fingerprint",
    "run_once",
    "store_response",
    "wait_for_response",
]

T = TypeVar("T")

RETENTION = timedelta(hours=24)
"""How long a key and its answer are kept, at least."""
MAX_KEY_LENGTH = 255
ANSWER_LOST_AFTER = timedelta(seconds=30)
"""A key without an answer this old belongs to a request whose process died
after its commit (requests are bounded by the database and server timeouts):
repeats then get ``409 idempotency_answer_lost`` with the change's events."""
WAIT_SECONDS = 5.0
"""How long :func:`run_once` waits for the answer of a first request still running."""
_POLL_SECONDS = 0.05
_PURGE_BATCH = 1000
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_JSON = "application/json"


class IdempotencyKey(Table, tablename="idempotency_keys"):
    """One key of one scope: the request it named and, once known, its answer.

    ``(scope, key)`` is unique (see the migration). A row without
    ``status_code`` belongs to a request still running, or one whose answer
    was lost.
    """

    id = Serial(primary_key=True)
    scope = Varchar(length=200)
    key = Varchar(length=MAX_KEY_LENGTH)
    request_fingerprint = Varchar(length=64)
    status_code = Integer(null=True, default=None)
    content_type = Varchar(length=255, null=True, default=None)
    location = Varchar(length=2000, null=True, default=None)
    response_body = Bytea(null=True, default=None)
    changes = Text(default="[]")
    """The events of the change, as JSON: what a client whose answer was lost gets."""
    created_at = Timestamptz(default=TimestamptzNow())


register_tables(IdempotencyKey)


class StoredResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The answer given to the first request with a key."""

    status_code: int
    body: bytes = b""
    content_type: str | None = None
    location: str | None = None


class KeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored key: its request's fingerprint and its answer (None while unknown)."""

    fingerprint: str
    response: StoredResponse | None
    created_at: datetime | None = None
    changes: list[dict[str, Any]] = msgspec.field(default_factory=list)


# --- keys and fingerprints ------------------------------------------------------


def parse_key(raw: str) -> str:
    """``raw`` when it is a valid key: 1 to 255 printable ASCII characters, not
    starting or ending with a space. Raises :class:`IdempotencyKeyInvalidError`."""
    if len(raw) > MAX_KEY_LENGTH or not _KEY.fullmatch(raw):
        raise IdempotencyKeyInvalidError(
            "an idempotency key is 1 to 255 printable ASCII characters", max_length=MAX_KEY_LENGTH
        )
    return raw


def request_fingerprint(method: str, target: str, body: bytes) -> str:
    """The fingerprint of an HTTP request: its method, path with query, and body."""
    digest = hashlib.sha256()
    digest.update(f"{method.upper()} {target}\n".encode())
    digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()


def data_fingerprint(kind: str, data: Any) -> str:
    """The fingerprint of an operation ``kind`` on ``data`` (Structs, dicts, lists,
    bytes…): equal for equal data, whatever the transport did to it."""
    return request_fingerprint("OP", kind, msgspec.json.encode(data))


# --- reading and replaying --------------------------------------------------------


async def lookup(scope: str, key: str) -> KeyRecord | None:
    """The stored key, or None. A key whose first request has not committed yet
    is not visible."""
    row = await (
        IdempotencyKey.select(
            IdempotencyKey.request_fingerprint,
            IdempotencyKey.status_code,
            IdempotencyKey.content_type,
            IdempotencyKey.location,
            IdempotencyKey.response_body,
            IdempotencyKey.changes,
            IdempotencyKey.created_at,
        )
        .where((IdempotencyKey.scope == scope) & (IdempotencyKey.key == key))
        .first()
    )
    if row is None:
        return None
    response = None
    if row["status_code"] is not None:
        response = StoredResponse(
            status_code=int(row["status_code"]),
            body=bytes(row["response_body"] or b""),
            content_type=row["content_type"],
            location=row["location"],
        )
    return KeyRecord(
        fingerprint=row["request_fingerprint"],
        response=response,
        created_at=row["created_at"],
        changes=msgspec.json.decode(row["changes"] or "[]"),
    )


def replay_of(record: KeyRecord, fingerprint: str) -> StoredResponse:
    """The answer to replay for a repeat with ``fingerprint``.

    Raises :class:`IdempotencyKeyReusedError` (422) when the key named another
    request, :class:`IdempotencyKeyInUseError` (409) when there is no answer yet.
    """
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReusedError(
            "this idempotency key was used for a different request; use a new key"
        )
    if record.response is None:
        created = record.created_at
        if created is not None and utcnow() - created.astimezone(UTC) > ANSWER_LOST_AFTER:
            raise IdempotencyAnswerLostError(
                "the request with this idempotency key was carried out, but its answer was "
                "lost; see changes for what it did",
                changes=record.changes,
            )
        raise IdempotencyKeyInUseError(
            "the first request with this idempotency key has not finished; retry later"
        )
    return record.response


async def wait_for_response(
    scope: str, key: str, fingerprint: str, *, wait_seconds: float = WAIT_SECONDS
) -> StoredResponse:
    """The answer of the first request with this key, waiting up to ``wait_seconds``
    seconds for it to finish. Raises as :func:`replay_of` does (409 when the key
    has no answer after ``wait_seconds``, or is gone)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        record = await lookup(scope, key)
        if record is not None and (record.response is not None or time.monotonic() >= deadline):
            return replay_of(record, fingerprint)
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInUseError("the first request with this idempotency key is gone")
        await asyncio.sleep(_POLL_SECONDS)


# --- claiming in the change's transaction -----------------------------------------


class _State(enum.Enum):
    PENDING = "pending"  # no transaction has run the claim yet
    INSERTED = "inserted"  # the row is written in a transaction not yet committed
    COMMITTED = "committed"
    CONFLICTED = "conflicted"  # another request holds the key: that transaction rolled back


_INSERT = (
    'INSERT INTO "idempotency_keys" ("scope", "key", "request_fingerprint", "changes", '
    '"created_at") VALUES ({}, {}, {}, {}, {}) '
    'ON CONFLICT ("scope", "key") DO NOTHING RETURNING "id"'
)
_INSERT_ANSWERED = (
    'INSERT INTO "idempotency_keys" ("scope", "key", "request_fingerprint", "status_code", '
    '"content_type", "location", "response_body", "created_at") '
    'VALUES ({}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT ("scope", "key") DO NOTHING RETURNING "id"'
)


class Claim:
    """A key registered with the next transaction of the current context.

    Call :meth:`release` when the operation has returned, so that a claim whose
    operation opened no transaction can never join a later, unrelated one.
    """

    __slots__ = ("_armed", "_state", "fingerprint", "key", "scope")

    def __init__(self, scope: str, key: str, fingerprint: str) -> None:
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self._state = _State.PENDING
        self._armed = True

    @property
    def committed(self) -> bool:
        """True when the key's row committed with a change."""
        return self._state is _State.COMMITTED

    @property
    def conflicted(self) -> bool:
        """True when another request held the key and this one's change rolled back."""
        return self._state is _State.CONFLICTED

    @property
    def unused(self) -> bool:
        """True when no transaction wrote the key (none ran, or one rolled back first)."""
        return self._state is _State.PENDING

    def release(self) -> None:
        """Disarm the claim: from now on no transaction writes it."""
        self._armed = False

    async def write(self) -> None:
        """The before-commit hook: insert the key's row, or roll back with
        :class:`IdempotencyKeyInUseError` when another request holds the key."""
        if not self._armed or self._state is not _State.PENDING:
            return
        changes = msgspec.json.encode(pending_payloads()).decode()
        rows = await IdempotencyKey.raw(
            _INSERT, self.scope, self.key, self.fingerprint, changes, utcnow()
        )
        if not rows:
            self._state = _State.CONFLICTED
            raise IdempotencyKeyInUseError(
                "another request with this idempotency key made the change first"
            )
        self._state = _State.INSERTED
        on_commit(self._mark_committed)

    async def _mark_committed(self) -> None:
        self._state = _State.COMMITTED


def claim_in_transaction(scope: str, key: str, fingerprint: str) -> Claim:
    """Have the next :func:`helpdesk.db.transaction` of this context write the key
    with its change (see the module docstring for what is and is not covered)."""
    claim = Claim(scope, key, fingerprint)
    join_next_transaction(claim.write)
    return claim


async def store_response(claim: Claim, response: StoredResponse) -> bool:
    """Record the answer of ``claim``'s request; True when it was stored.

    Stored: any answer below 500 after the key committed with a change; a 2xx
    answer when no transaction wrote the key (inserted now, best effort). Not
    stored: 5xx answers, and answers of requests whose change rolled back.
    """
    if response.status_code >= 500:
        return False
    if claim.committed:
        await IdempotencyKey.update(
            {
                IdempotencyKey.status_code: response.status_code,
                IdempotencyKey.content_type: response.content_type,
                IdempotencyKey.location: response.location,
                IdempotencyKey.response_body: response.body,
            }
        ).where(
            (IdempotencyKey.scope == claim.scope)
            & (IdempotencyKey.key == claim.key)
            & IdempotencyKey.status_code.is_null()
        )
        return True
    if claim.unused and 200 <= response.status_code < 300:
        rows = await IdempotencyKey.raw(
            _INSERT_ANSWERED,
            claim.scope,
            claim.key,
            claim.fingerprint,
            response.status_code,
            response.content_type,
            response.location,
            response.body,
            utcnow(),
        )
        return bool(rows)
    return False


# --- one operation, once ------------------------------------------------------------


async def run_once(
    scope: str,
    key: str,
    fingerprint: str,
    action: Callable[[], Awaitable[T]],
    *,
    encode: Callable[[T], bytes],
    replay: Callable[[bytes], Awaitable[T]],
    wait_seconds: float = WAIT_SECONDS,
) -> T:
    """Run ``action`` once per (scope, key): a repeat gets ``replay`` of what
    ``encode`` stored from the first result.

    A repeat that arrives while the first run is still going waits up to
    ``wait_seconds`` for its result. Raises :class:`IdempotencyKeyReusedError`
    for the same key with another ``fingerprint``, and
    :class:`IdempotencyKeyInUseError` when the first run's result does not come.
    Errors of ``action`` propagate; nothing is stored for them.
    """
    record = await lookup(scope, key)
    if record is not None:
        if record.response is None and record.fingerprint == fingerprint:
            stored = await wait_for_response(scope, key, fingerprint, wait_seconds=wait_seconds)
        else:
            stored = replay_of(record, fingerprint)
        return await replay(stored.body)
    claim = claim_in_transaction(scope, key, fingerprint)
    try:
        result = await action()
    except IdempotencyKeyInUseError:
        if not claim.conflicted:
            raise
        stored = await wait_for_response(scope, key, fingerprint, wait_seconds=wait_seconds)
        return await replay(stored.body)
    finally:
        claim.release()
    await store_response(
        claim, StoredResponse(status_code=200, body=encode(result), content_type=_JSON)
    )
    return result


# --- clean-up ---------------------------------------------------------------------------


async def purge_expired(older_than: timedelta = RETENTION, *, now: datetime | None = None) -> int:
    """Delete the keys created more than ``older_than`` ago (never less than
    :data:`RETENTION`), in batches; return how many were deleted."""
    if older_than < RETENTION:
        raise ValueError(f"keys are kept at least {RETENTION}")
    cutoff = (now or utcnow()) - older_than
    deleted = 0
    while True:
        rows = await (
            IdempotencyKey.select(IdempotencyKey.id)
            .where(IdempotencyKey.created_at < cutoff)
            .order_by(IdempotencyKey.id)
            .limit(_PURGE_BATCH)
        )
        ids = [row["id"] for row in rows]
        if not ids:
            return deleted
        await IdempotencyKey.delete().where(IdempotencyKey.id.is_in(ids))
        deleted += len(ids)
