"""The Dramatiq broker: in-process for the embedded mode, Redis for scale-out.

Background work is recorded as jobs in the database first (:mod:`helpdesk.jobs`);
the broker carries their messages. So that the job relay can ask whether a
job's message is still there, each message is stored under its own message id
(:class:`StableIdRedisBroker`; :class:`HeldMessages` counts them in memory),
and :func:`held_messages` answers for either broker.

:func:`setup_broker` must run before any module that defines actors is
imported (Dramatiq binds an actor to the global broker at import time), so
actor modules are imported by :func:`load_actors` right after it.

Every actor of the helpdesk is declared with :data:`ACTOR_OPTIONS`: explicit
retries with exponential backoff and a time limit; a message that exhausts its
retries goes to the broker's dead-letter queue (Redis: ``<queue>.XQ``).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import dramatiq
import redis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis, dq_name
from dramatiq.middleware import AsyncIO, Middleware
from piccolo.engine.base import Engine

if TYPE_CHECKING:
    from helpdesk.jobs import JobSpec

from helpdesk.db import close_pool, start_pool

logger = logging.getLogger(__name__)

ACTOR_OPTIONS: dict[str, Any] = {
    "max_retries": 10,
    "min_backoff": 500,
    "max_backoff": 60_000,
    "time_limit": 120_000,
}

ACTOR_MODULES = (
    "helpdesk.routing.actors",
    "helpdesk.channels.email.actors",
    "helpdesk.channels.email.survey_mail",
    "helpdesk.sla.actors",
    "helpdesk.notifications.mail",
)


class DatabasePool(Middleware):
    """Give Dramatiq's event-loop thread its own database pool (asyncpg pools
    belong to the loop that made them)."""

    def __init__(self, engine: Engine[Any]) -> None:
        self.engine = engine

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        thread = get_event_loop_thread()
        if thread is not None:
            thread.run_coroutine(start_pool(self.engine, size=4))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Close the pool once the worker threads have finished their messages
        (after-hooks run in reverse order, so the AsyncIO loop still runs)."""
        thread = get_event_loop_thread()
        if thread is not None:
            thread.run_coroutine(close_pool(self.engine))


class StableIdRedisBroker(RedisBroker):
    """A Redis broker that stores each message under its own message id.

    Dramatiq's Redis broker files every enqueue under a fresh random id; this
    one uses the message id, so whether a job's message is still queued,
    delayed or being processed is one ``HEXISTS``. A retry (delayed queue)
    and the move of a due message back to its queue live in different hashes
    and are enqueued before the old copy is acknowledged, so the id is always
    in at least one of them until the message is done.
    """

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> Any:
        """Enqueue ``message`` (after ``delay`` ms) under its message id."""
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": message.message_id})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(queue_name, message.message_id, message.encode())
        self.emit_after("enqueue", message, delay)
        return message

    def holds(self, messages: Iterable[tuple[str, str]]) -> set[str]:
        """The ids among ``(queue, message id)`` pairs that are queued, delayed or running."""
        pairs = list(messages)
        pipe = self.client.pipeline(transaction=False)
        for queue_name, message_id in pairs:
            pipe.hexists(f"{self.namespace}:{queue_name}.msgs", message_id)
            pipe.hexists(f"{self.namespace}:{dq_name(queue_name)}.msgs", message_id)
        found = pipe.execute()
        return {
            message_id
            for index, (_, message_id) in enumerate(pairs)
            if found[2 * index] or found[2 * index + 1]
        }


class HeldMessages(Middleware):
    """Counts the messages of an in-process broker that are not done yet.

    Enqueues count up, acknowledgements down; a retry or a delayed message's
    move is enqueued before the old copy is acknowledged, so a message stays
    counted until it is finished.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        with self._lock:
            self._counts[message.message_id] += 1

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._done(message.message_id)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._done(message.message_id)

    def _done(self, message_id: str) -> None:
        with self._lock:
            self._counts[message_id] -= 1
            if self._counts[message_id] <= 0:
                del self._counts[message_id]

    def holds(self, message_ids: Iterable[str]) -> set[str]:
        """The ids among ``message_ids`` that are queued, delayed or running."""
        with self._lock:
            return {m for m in message_ids if self._counts.get(m, 0) > 0}


def held_messages(broker: dramatiq.Broker, jobs: Iterable[JobSpec]) -> set[str]:
    """The message ids of ``jobs`` that ``broker`` still holds (blocking I/O).

    Raises the broker's connection error when it cannot be asked.
    """
    specs = list(jobs)
    if isinstance(broker, StableIdRedisBroker):
        return broker.holds((spec.queue, spec.message_id) for spec in specs)
    for middleware in broker.middleware:
        if isinstance(middleware, HeldMessages):
            return middleware.holds(spec.message_id for spec in specs)
    return set()


HEARTBEAT_TIMEOUT_MS = 15_000
"""A Redis worker silent this long is taken for dead, and the messages it had
taken go back to their queues (Dramatiq's default is a minute)."""


def setup_broker(
    redis_url: str | None, engine: Engine[Any], *, namespace: str = "helpdesk"
) -> dramatiq.Broker:
    """Create the broker for the mode, make it global, and import the actors.

    Redis keys start with ``namespace``, so desks (or test runs) sharing one
    Redis do not meet.
    """
    broker: dramatiq.Broker
    if redis_url:
        broker = StableIdRedisBroker(  # type: ignore[no-untyped-call]
            client=redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10),
            namespace=f"{namespace}:dramatiq",
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=10_000,
        )
    else:
        broker = StubBroker()
        broker.add_middleware(HeldMessages())
    broker.add_middleware(AsyncIO())
    broker.add_middleware(DatabasePool(engine))
    dramatiq.set_broker(broker)
    load_actors(broker)
    return broker


def load_actors(broker: dramatiq.Broker) -> None:
    """Import (or re-bind, when the broker changed) every actor module."""
    for name in ACTOR_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, dramatiq.Actor) and value.broker is not broker:
                value.broker = broker
                broker.declare_actor(value)


def start_worker(broker: dramatiq.Broker, threads: int) -> dramatiq.Worker:
    """Start worker threads consuming every queue of ``broker`` in this process."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


STOP_TIMEOUT_MS = 5_000
"""How long a stopping worker waits for its running messages (within the
process's shutdown budget, ``HELPDESK_SHUTDOWN_GRACE_SECONDS``); what is still
running then is given back: Redis requeues it after the heartbeat timeout, and
the job rows stay either way, for the relay."""


def stop_worker(worker: dramatiq.Worker) -> None:
    """Stop ``worker``: finish running messages (up to :data:`STOP_TIMEOUT_MS`),
    return prefetched ones to the broker, then close the database pool."""
    worker.stop(timeout=STOP_TIMEOUT_MS)
