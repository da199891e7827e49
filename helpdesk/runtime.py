"""Wiring of one helpdesk process: engine, blobs, pub/sub, events, broker.

The composition root (:mod:`helpdesk.app` and :mod:`helpdesk.cli`) builds one
:class:`Runtime` from the settings. Nothing else in the code branches on the
run mode: the embedded mode differs only in the objects made here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from piccolo.engine.base import Engine

from helpdesk import events
from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.pubsub import PubSub, create_pubsub
from helpdesk.routing.assign import unrouted_cases
from helpdesk.settings import Settings
from helpdesk.storage import BlobStore, configure_blob_store
from helpdesk.tasks import setup_broker, start_worker

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The long-lived objects of one process."""

    settings: Settings
    engine: Engine[Any]
    pubsub: PubSub
    broker: dramatiq.Broker
    worker: dramatiq.Worker | None = field(default=None)

    async def start(self, *, run_worker: bool) -> None:
        """Open the database pool of the running loop; start in-process workers if asked."""
        await start_pool(self.engine)
        if run_worker and self.worker is None:
            self.worker = start_worker(self.broker, self.settings.worker_threads)
            await _sweep_unrouted()

    async def stop(self) -> None:
        """Stop workers and close connections (idempotent)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        await self.pubsub.close()
        await close_pool(self.engine)


async def _sweep_unrouted() -> None:
    """Re-enqueue routing of cases whose message was lost (e.g. in-memory
    queue of a stopped process)."""
    from helpdesk.routing.actors import route_new_case

    for case_id in await unrouted_cases(timedelta(seconds=0)):
        await asyncio.to_thread(route_new_case.send, case_id)


def build_runtime(settings: Settings) -> Runtime:
    """Create and bind every process-wide object for ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    bind_engine(engine)
    configure_blob_store(BlobStore(settings.attachment_dir, settings.max_attachment_bytes))
    pubsub = create_pubsub(settings.redis_url)
    broker = setup_broker(settings.redis_url, engine)
    from helpdesk.routing.actors import enqueue_on_open

    events.configure(pubsub, [enqueue_on_open])
    return Runtime(settings=settings, engine=engine, pubsub=pubsub, broker=broker)
