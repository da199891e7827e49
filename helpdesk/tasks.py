"""The Dramatiq broker: in-process for the embedded mode, Redis for scale-out.

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
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware
from piccolo.engine.base import Engine

from helpdesk.db import close_pool, start_pool

logger = logging.getLogger(__name__)

ACTOR_OPTIONS: dict[str, Any] = {
    "max_retries": 8,
    "min_backoff": 500,
    "max_backoff": 60_000,
    "time_limit": 120_000,
}

ACTOR_MODULES = (
    "helpdesk.routing.actors",
    "helpdesk.channels.email.actors",
    "helpdesk.channels.email.survey_mail",
    "helpdesk.sla.actors",
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

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        thread = get_event_loop_thread()
        if thread is not None:
            thread.run_coroutine(close_pool(self.engine))


def setup_broker(redis_url: str | None, engine: Engine[Any]) -> dramatiq.Broker:
    """Create the broker for the mode, make it global, and import the actors."""
    broker: dramatiq.Broker = RedisBroker(url=redis_url) if redis_url else StubBroker()
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
