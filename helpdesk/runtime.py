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
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from piccolo.engine.base import Engine

from helpdesk import events, idempotency, jobs
from helpdesk.channels.email import outbound
from helpdesk.channels.email.demo_sink import DemoSink, ensure_demo_mailbox
from helpdesk.channels.email.supervisor import MailSupervisor
from helpdesk.db import bind_engine, close_pool, create_engine, database_limits, start_pool
from helpdesk.live import LiveHub
from helpdesk.pubsub import PubSub, create_pubsub
from helpdesk.ratelimit import configure_rate_limiter, create_rate_limiter
from helpdesk.routing.presence import PresenceStore, create_presence_store
from helpdesk.settings import Settings
from helpdesk.sla import timers as sla_timers
from helpdesk.storage import BlobStore, configure_blob_store
from helpdesk.tasks import setup_broker, start_worker, stop_worker

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
    relay: asyncio.Task[None] | None = field(default=None)
    live: LiveHub | None = field(default=None)
    presence: PresenceStore | None = field(default=None)
    demo_sink: DemoSink | None = field(default=None)

    async def start(
        self, *, run_worker: bool, run_mail: bool = False, serve_live: bool = False
    ) -> None:
        """Open the database pool of the running loop and the job dispatcher;
        start in-process workers with the job relay and the sweeper, the mail
        ingester and the live-update hub (web processes) if asked."""
        await start_pool(self.engine)
        jobs.start_dispatcher(self.broker)
        if self.settings.demo and self.demo_sink is None:
            self.demo_sink = await start_demo_sink(self.settings.demo_smtp_port)
        if serve_live and self.live is None:
            self.live = LiveHub(self.pubsub)
            await self.live.start()
        if run_worker and self.worker is None:
            self.worker = start_worker(self.broker, self.settings.worker_threads)
            self.relay = asyncio.create_task(
                jobs.relay_forever(self.broker), name="helpdesk-job-relay"
            )
            self.sweeper = asyncio.create_task(
                sweep_forever(self.settings.sla_sweep_seconds), name="helpdesk-sweeper"
            )
        if run_mail and self.mail is None:
            self.mail = MailSupervisor()
            self.mail.start()

    async def stop(self) -> None:
        """Stop the ingester, the periodic tasks and the workers (running jobs
        finish first, see :func:`helpdesk.tasks.stop_worker`), then close
        connections (idempotent). Jobs not handed over yet stay in the table."""
        if self.mail is not None:
            await self.mail.stop()
            self.mail = None
        if self.live is not None:
            await self.live.stop()
            self.live = None
        if self.demo_sink is not None:
            await self.demo_sink.stop()
            self.demo_sink = None
        for task in (self.sweeper, self.relay):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.sweeper = self.relay = None
        if self.worker is not None:
            await asyncio.to_thread(stop_worker, self.worker)
            self.worker = None
        await asyncio.to_thread(jobs.stop_dispatcher)
        await self.pubsub.close()
        await close_pool(self.engine)


async def start_demo_sink(port: int) -> DemoSink:
    """Demo mode: start the mail catcher and point the demo mailbox at it (a
    database not migrated yet leaves the mailbox to the next start)."""
    sink = DemoSink(port)
    await sink.start()
    try:
        await ensure_demo_mailbox(sink.port)
    except Exception:
        logger.warning("demo mode: could not set up the demo mailbox", exc_info=True)
    return sink


async def sweep_forever(interval: int) -> None:
    """Every ``interval`` seconds: arm SLA deadlines that came near and fire
    overdue ones, and forget idempotency keys older than a day. (Lost jobs
    are the relay's: :func:`helpdesk.jobs.relay_forever`.)

    Runs in every process that runs a worker; several sweeping at once is
    harmless (see :func:`helpdesk.sla.timers.sweep`). An error is logged and
    the next round tries again.
    """
    while True:
        try:
            await sla_timers.sweep()
            await idempotency.purge_expired()
        except Exception:
            logger.exception("periodic sweep failed; trying again in %s s", interval)
        await asyncio.sleep(interval)


def job_reactors() -> list[events.Reactor]:
    """The event reactors of a full process: the SLA clocks, then the durable
    jobs each event calls for (routing, reply mail, surveys), all inside the
    event's transaction; last, the notifications of staff (which may mail)."""
    from helpdesk.channels.email.actors import enqueue_on_reply
    from helpdesk.channels.email.survey_mail import enqueue_on_solve
    from helpdesk.notifications.reactor import notify_on_event
    from helpdesk.routing.actors import enqueue_routing
    from helpdesk.sla.tracking import track_event

    return [track_event, enqueue_routing, enqueue_on_reply, enqueue_on_solve, notify_on_event]


def build_runtime(settings: Settings) -> Runtime:
    """Create and bind every process-wide object for ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, database_limits(settings))
    bind_engine(engine)
    configure_blob_store(BlobStore(settings.attachment_dir, settings.max_attachment_bytes))
    pubsub = create_pubsub(settings.redis_url, namespace=settings.redis_namespace)
    configure_rate_limiter(
        create_rate_limiter(settings.redis_url, namespace=settings.redis_namespace)
    )
    broker = setup_broker(settings.redis_url, engine, namespace=settings.redis_namespace)
    from helpdesk.channels.email import survey_mail

    outbound.configure(settings.secret_key, urlsplit(settings.base_url).hostname or "localhost")
    survey_mail.configure(settings.base_url, settings.secret_key)
    from helpdesk.notifications import mail as notification_mail

    notification_mail.configure(settings.base_url)
    events.configure(pubsub, reactors=job_reactors())
    return Runtime(
        settings=settings,
        engine=engine,
        pubsub=pubsub,
        broker=broker,
        presence=create_presence_store(settings.redis_url, namespace=settings.redis_namespace),
    )
