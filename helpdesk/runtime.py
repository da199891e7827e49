"""Wiring of one helpdesk process: engine, blobs, pub/sub, events, broker.

The composition root (:mod:`helpdesk.app` and :mod:`helpdesk.cli`) builds one
:class:`Runtime` from the settings. Nothing else in the code branches on the
run mode: the embedded mode differs only in the objects made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from piccolo.engine.base import Engine

from helpdesk import events
from helpdesk.channels.email import outbound
from helpdesk.channels.email.outbound import pending_outbound_ids
from helpdesk.channels.email.supervisor import MailSupervisor
from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.live import LiveHub
from helpdesk.pubsub import PubSub, create_pubsub
from helpdesk.ratelimit import configure_rate_limiter, create_rate_limiter
from helpdesk.routing.assign import unrouted_cases
from helpdesk.routing.presence import PresenceStore, create_presence_store
from helpdesk.routing.queue import teams_with_waiting_cases
from helpdesk.settings import Settings
from helpdesk.sla import timers as sla_timers
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
    mail: MailSupervisor | None = field(default=None)
    sweeper: asyncio.Task[None] | None = field(default=None)
    live: LiveHub | None = field(default=None)
    presence: PresenceStore | None = field(default=None)

    async def start(
        self, *, run_worker: bool, run_mail: bool = False, serve_live: bool = False
    ) -> None:
        """Open the database pool of the running loop; start in-process workers,
        the mail ingester and the live-update hub (web processes) if asked."""
        await start_pool(self.engine)
        if serve_live and self.live is None:
            self.live = LiveHub(self.pubsub)
            await self.live.start()
        if run_worker and self.worker is None:
            self.worker = start_worker(self.broker, self.settings.worker_threads)
            await rearm_lost_work()
            self.sweeper = asyncio.create_task(
                sweep_forever(self.settings.sla_sweep_seconds), name="helpdesk-sweeper"
            )
        if run_mail and self.mail is None:
            self.mail = MailSupervisor()
            self.mail.start()

    async def stop(self) -> None:
        """Stop the ingester and workers, and close connections (idempotent)."""
        if self.mail is not None:
            await self.mail.stop()
            self.mail = None
        if self.live is not None:
            await self.live.stop()
            self.live = None
        if self.sweeper is not None:
            self.sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
            self.sweeper = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        await self.pubsub.close()
        await close_pool(self.engine)


async def rearm_lost_work(older_than: timedelta = timedelta(seconds=0)) -> None:
    """Re-enqueue work whose queue message may have been lost (the in-memory
    queue of a stopped process, a crash): unrouted cases, team queues with
    waiting cases, and unsent mail.
    Every actor is idempotent, so re-enqueueing what is still queued is harmless."""
    from helpdesk.channels.email.actors import send_mail
    from helpdesk.routing.actors import fill_team_queue, route_new_case

    for case_id in await unrouted_cases(older_than):
        await asyncio.to_thread(route_new_case.send, case_id)
    for team_id in await teams_with_waiting_cases():
        await asyncio.to_thread(fill_team_queue.send, team_id)
    for outbound_id in await pending_outbound_ids():
        await asyncio.to_thread(send_mail.send, outbound_id)


async def sweep_forever(interval: int) -> None:
    """Every ``interval`` seconds: arm SLA deadlines that came near and fire
    overdue ones; every tenth round, re-enqueue lost routing and mail work.

    Runs in every process that runs a worker; several sweeping at once is
    harmless (see :func:`helpdesk.sla.timers.sweep`). An error is logged and
    the next round tries again.
    """
    rounds = 0
    while True:
        try:
            await sla_timers.sweep()
            rounds += 1
            if rounds % 10 == 0:
                await rearm_lost_work(older_than=timedelta(minutes=1))
        except Exception:
            logger.exception("periodic sweep failed; trying again in %s s", interval)
        await asyncio.sleep(interval)


def build_runtime(settings: Settings) -> Runtime:
    """Create and bind every process-wide object for ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    bind_engine(engine)
    configure_blob_store(BlobStore(settings.attachment_dir, settings.max_attachment_bytes))
    pubsub = create_pubsub(settings.redis_url)
    configure_rate_limiter(create_rate_limiter(settings.redis_url))
    broker = setup_broker(settings.redis_url, engine)
    from helpdesk.channels.email import survey_mail
    from helpdesk.channels.email.actors import enqueue_on_reply
    from helpdesk.routing.actors import enqueue_routing
    from helpdesk.sla.tracking import track_event

    outbound.configure(settings.secret_key, urlsplit(settings.base_url).hostname or "localhost")
    survey_mail.configure(settings.base_url, settings.secret_key)
    events.configure(
        pubsub,
        [enqueue_routing, enqueue_on_reply, survey_mail.enqueue_on_solve],
        reactors=[track_event],
    )
    return Runtime(
        settings=settings,
        engine=engine,
        pubsub=pubsub,
        broker=broker,
        presence=create_presence_store(settings.redis_url),
    )
