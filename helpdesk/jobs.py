"""Durable background work: jobs written in the change's transaction, run by Dramatiq.

The rule: what a user was told is in the database, and everything that
follows from it can be re-derived from the database. So work that follows a
change (routing, mail, surveys, SLA wake-ups, …) is never handed to Redis
alone:

* :func:`enqueue` records a job (an actor's name and its arguments) in the
  current transaction; the jobs of a transaction are inserted in one
  statement just before it commits. A rolled-back change leaves no job.
* After commit the new jobs go to this process's :class:`Dispatcher`, a
  thread that hands them to the broker, so no request waits on Redis.
* The relay (:func:`relay_once`, run every :data:`RELAY_INTERVAL` seconds by
  every worker process) re-sends each job older than :data:`GRACE` that the
  broker does not hold (see :func:`helpdesk.tasks.held_messages`): a job whose
  process died before handing it over, one sent while Redis was down, one
  lost with a Redis restart. Held messages are not sent again, so a backlog
  is not multiplied; there is no cap on how many jobs one round checks. A
  job still not done :data:`STALE_AFTER` after it was due or last sent is
  sent again even if the broker holds it: a live worker can lose track of a
  message it took (a consumer restarted after a connection error keeps the
  message in its acknowledgement set until the worker stops).
* :func:`durable_actor` wraps a job's function: a job already done (row
  gone) or given up is skipped, success deletes the row, and a failure is
  counted in the row; after :data:`MAX_ATTEMPTS` the job is marked failed and
  kept with its last error for operators.

What is not promised: exactly once. A job may run twice (two relays sending a
lost job at once, a worker killed after the work and before the delete), so
every job function must be idempotent. Jobs with ``run_at`` become delayed
messages once their time is within :data:`HORIZON`; until then they wait in
the table.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import dramatiq
import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import (
    before_commit,
    current_engine,
    is_postgres,
    on_commit,
    transaction,
    transaction_state,
)
from helpdesk.tables import Job
from helpdesk.tasks import ACTOR_OPTIONS, held_messages

logger = logging.getLogger(__name__)

GRACE = timedelta(seconds=2)
"""How long a new job is left to the process that committed it before the relay sends it."""

HORIZON = timedelta(minutes=5)
"""Jobs due sooner than this are handed to the broker (delayed); later ones wait."""

STALE_AFTER = timedelta(minutes=2)
"""A job not done this long after it was due or last sent is sent again,
held or not (longer than a job's time limit plus the longest retry delay
would not do: this is the last resort, duplicates are harmless)."""

RELAY_INTERVAL = 1.0
"""Seconds between two relay rounds of a worker process."""

MAX_ATTEMPTS = 9
"""Failed runs of one job before it is given up (marked failed, kept)."""

_PAGE = 2000
RELAY_LOCK_KEY = 0x6A6F6273  # PostgreSQL advisory lock key of the relay ("jobs")
_encode = msgspec.json.Encoder().encode

JobFunction = Callable[..., Awaitable[None]]


class JobSpec(msgspec.Struct, frozen=True):
    """A stored job, as the broker needs it."""

    id: int
    actor: str
    queue: str
    args: list[Any]
    run_at: datetime | None = None
    created_at: datetime | None = None
    resent_at: datetime | None = None

    @property
    def message_id(self) -> str:
        """The Dramatiq message id of this job: stable, so the broker can be asked for it."""
        return f"job-{self.id}"


# --- running a job ---------------------------------------------------------------------

_FUNCTIONS: dict[str, JobFunction] = {}
"""Each kind of job's function by actor name (for :func:`run_due_here`)."""


def durable_actor(queue_name: str) -> Callable[[JobFunction], dramatiq.Actor[..., Any]]:
    """Declare ``fn`` as the function of a kind of job, run by Dramatiq on ``queue_name``.

    The actor's messages carry the job id first, then ``fn``'s arguments.
    Enqueue with :func:`enqueue`, never with ``send``: a message sent
    directly has no job row and is skipped.
    """

    def decorate(fn: JobFunction) -> dramatiq.Actor[..., Any]:
        _FUNCTIONS[fn.__name__] = fn

        @wraps(fn)
        async def run(job_id: int, *args: Any) -> None:
            await run_job(job_id, fn, args)

        declare = dramatiq.actor(actor_name=fn.__name__, queue_name=queue_name, **ACTOR_OPTIONS)
        return declare(run)

    return decorate


async def run_job(job_id: int, fn: JobFunction, args: Sequence[Any]) -> None:
    """Run job ``job_id`` with ``fn(*args)`` unless it is done or given up.

    Success deletes the job. A failure is counted; it is raised (so Dramatiq
    retries with backoff) until :data:`MAX_ATTEMPTS`, then the job is marked
    failed and the error is only logged.
    """
    row = await Job.select(Job.failed_at).where(Job.id == job_id).first()
    if row is None or row["failed_at"] is not None:
        return
    try:
        await fn(*args)
    except Exception as exc:
        if await _count_failure(job_id, exc):
            raise
        return
    await Job.delete().where(Job.id == job_id)


async def _count_failure(job_id: int, exc: Exception) -> bool:
    """Count a failed run; True when the job should be retried."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    rows = (
        await Job.update({Job.attempts: Job.attempts + 1, Job.last_error: error})
        .where(Job.id == job_id)
        .returning(Job.attempts, Job.actor)
    )
    if not rows:
        return False
    if int(rows[0]["attempts"]) < MAX_ATTEMPTS:
        return True
    await Job.update({Job.failed_at: utcnow()}).where(Job.id == job_id)
    logger.error("job %s (%s) gave up after %s attempts: %s", job_id, rows[0]["actor"],
                 MAX_ATTEMPTS, error)  # fmt: skip
    return False


# --- recording jobs ----------------------------------------------------------------------


def enqueue(actor: dramatiq.Actor[..., Any], *args: Any, run_at: datetime | None = None) -> None:
    """Record a job of ``actor`` with ``args`` in the current transaction.

    The job is written just before the transaction commits and handed to the
    broker after it; ``run_at`` delays it. Raises :class:`RuntimeError`
    outside :func:`helpdesk.db.transaction`.
    """
    state = transaction_state()
    batch: list[tuple[str, str, list[Any], datetime | None]] | None = state.get("jobs")
    if batch is None:
        batch = state["jobs"] = []
        before_commit(_write_batch)
    batch.append((actor.actor_name, actor.queue_name, list(args), run_at))


async def _write_batch() -> None:
    """Insert the transaction's pending jobs in one statement; dispatch them after commit.

    Reactors that run after this hook may enqueue more: they start a new batch."""
    batch = transaction_state().pop("jobs", None)
    if not batch:
        return
    now = utcnow()
    marks = ", ".join("({}, {}, {}, {}, {}, 0, '')" for _ in batch)
    values = [v for a, q, args, at in batch for v in (a, q, _encode(args).decode(), at, now)]
    rows = await Job.raw(
        "INSERT INTO jobs (actor, queue, args, run_at, created_at, attempts, last_error) "  # noqa: S608 - placeholders only
        f"VALUES {marks} RETURNING id",
        *values,
    )
    ids = sorted(int(row["id"]) for row in rows)  # serial ids follow the VALUES order
    specs = [
        JobSpec(id=job_id, actor=a, queue=q, args=args, run_at=at)
        for job_id, (a, q, args, at) in zip(ids, batch, strict=True)
    ]

    async def dispatch() -> None:
        dispatcher = _Current.dispatcher
        if dispatcher is not None:
            dispatcher.hand_over(specs)

    on_commit(dispatch)


# --- handing jobs to the broker ---------------------------------------------------------


def send_job(broker: dramatiq.Broker, spec: JobSpec, now: datetime | None = None) -> None:
    """Enqueue one job's message (delayed until ``run_at``), under its stable id."""
    actor = broker.get_actor(spec.actor)
    message = actor.message_with_options(args=(spec.id, *spec.args)).copy(
        message_id=spec.message_id
    )
    delay = None
    if spec.run_at is not None:
        ms = int((spec.run_at - (now or utcnow())).total_seconds() * 1000)
        delay = ms if ms > 0 else None
    broker.enqueue(message, delay=delay)


class Dispatcher:
    """Hands committed jobs to the broker from its own thread (best effort).

    A job it cannot send (Redis down, the process dying) stays in the table
    and the relay sends it. Safe to call from any thread or event loop.
    """

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker
        self._queue: queue.SimpleQueue[JobSpec | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="helpdesk-jobs", daemon=True)
        self._last_warning = 0.0
        self._thread.start()

    def hand_over(self, specs: Sequence[JobSpec]) -> None:
        """Queue ``specs`` for sending; returns at once."""
        for spec in specs:
            self._queue.put(spec)

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued (within ``timeout``), then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (spec := self._queue.get()) is not None:
            horizon = utcnow() + HORIZON
            if spec.run_at is not None and spec.run_at > horizon:
                continue  # the relay sends it when it comes near
            try:
                send_job(self._broker, spec)
            except Exception as exc:
                self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        """Log a failed hand-over at most every 10 s (an outage fails every send)."""
        now = time.monotonic()
        if now - self._last_warning >= 10:
            self._last_warning = now
            logger.warning("handing jobs to the broker failed (the relay will resend): %s", exc)


class _Current:
    dispatcher: Dispatcher | None = None


def start_dispatcher(broker: dramatiq.Broker) -> Dispatcher:
    """Make the process's dispatcher send to ``broker`` (composition root)."""
    stop_dispatcher()
    _Current.dispatcher = Dispatcher(broker)
    return _Current.dispatcher


def stop_dispatcher() -> None:
    """Stop the process's dispatcher, if any; later jobs wait for the relay."""
    dispatcher, _Current.dispatcher = _Current.dispatcher, None
    if dispatcher is not None:
        dispatcher.stop()


# --- the relay -------------------------------------------------------------------------


async def relay_once(broker: dramatiq.Broker, now: datetime | None = None) -> int:
    """Send every due job older than :data:`GRACE` that ``broker`` does not hold.

    Checks every pending job, page by page; returns how many were sent. On
    PostgreSQL one process relays at a time (a transaction-scoped advisory
    lock; the others skip the round), so a lost backlog is sent once, not
    once per worker process. SQLite has one process.
    """
    if not is_postgres(current_engine()):
        return await _relay_pages(broker, now or utcnow())
    async with transaction():
        rows = await Job.raw("SELECT pg_try_advisory_xact_lock({}) AS mine", RELAY_LOCK_KEY)
        if not rows or not rows[0]["mine"]:
            return 0
        return await _relay_pages(broker, now or utcnow())


async def _relay_pages(broker: dramatiq.Broker, now: datetime) -> int:
    sent = 0
    after = 0
    while True:
        specs = await _pending_page(after, created_before=now - GRACE, due_before=now + HORIZON)
        if not specs:
            return sent
        held = await asyncio.to_thread(held_messages, broker, specs)
        stale = now - STALE_AFTER
        missing = [s for s in specs if s.message_id not in held or _last_sent(s) < stale]
        for spec in missing:
            await asyncio.to_thread(send_job, broker, spec, now)
        await _mark_resent([spec.id for spec in missing], now)
        sent += len(missing)
        if len(specs) < _PAGE:
            return sent
        after = specs[-1].id


def _last_sent(spec: JobSpec) -> datetime:
    """When the job was last handed over, or became due (whichever is later)."""
    moments = [m for m in (spec.created_at, spec.resent_at, spec.run_at) if m is not None]
    return max(m.astimezone(UTC) for m in moments)


async def _mark_resent(ids: list[int], now: datetime) -> None:
    for start in range(0, len(ids), 500):
        await Job.update({Job.resent_at: now}).where(Job.id.is_in(ids[start : start + 500]))


async def _pending_page(
    after: int, *, created_before: datetime, due_before: datetime, limit: int | None = _PAGE
) -> list[JobSpec]:
    query = (
        Job.select(
            Job.id, Job.actor, Job.queue, Job.args, Job.run_at, Job.created_at, Job.resent_at
        )
        .where(
            Job.failed_at.is_null()
            & (Job.id > after)
            & (Job.created_at <= created_before)
            & (Job.run_at.is_null() | (Job.run_at <= due_before))
        )
        .order_by(Job.id)
        .output(load_json=True)
    )
    rows = await (query.limit(limit) if limit is not None else query)
    return [msgspec.convert(row, JobSpec) for row in rows]


async def relay_forever(broker: dramatiq.Broker, interval: float = RELAY_INTERVAL) -> None:
    """Run :func:`relay_once` every ``interval`` seconds until cancelled.

    A failing round (Redis or the database down) is logged at most once per
    outage, and the next round tries again.
    """
    failing = False
    while True:
        try:
            sent = await relay_once(broker)
            if sent:
                logger.info("relay re-sent %s job(s) the broker did not hold", sent)
            if failing:
                logger.info("job relay works again")
            failing = False
        except Exception:
            if not failing:
                logger.warning("job relay round failed; retrying every %s s", interval,
                               exc_info=True)  # fmt: skip
            failing = True
        await asyncio.sleep(interval)


async def run_due_here() -> int:
    """Run every due job in this process, each at most once, without the
    broker's queues (a one-shot command of the embedded mode, e.g.
    ``helpdesk mail --once``); jobs those runs make are run too. A job that
    fails is counted as usual and stays for a later run. Returns how many ran.
    """
    ran: set[int] = set()
    while True:
        now = utcnow()
        due = [
            spec
            for spec in await _pending_page(0, created_before=now, due_before=now, limit=None)
            if spec.id not in ran
        ]
        if not due:
            return len(ran)
        for spec in due:
            ran.add(spec.id)
            try:
                await run_job(spec.id, _FUNCTIONS[spec.actor], spec.args)
            except Exception as exc:  # counted in the row; a later run retries it
                logger.warning("job %s (%s) failed: %s", spec.id, spec.actor, exc)


async def pending_jobs() -> int:
    """How many jobs are waiting or running (not given up): for health and tests."""
    return int(await Job.count().where(Job.failed_at.is_null()))
