"""Background processes on the Redis broker: ``helpdesk worker`` and ``helpdesk mail``.

One worker process runs :func:`serve_worker`: the process's runtime (engine,
Redis broker with the actors, Redis pub/sub), a Dramatiq worker with N
threads, and the database pool of Dramatiq's event loop (the ``DatabasePool``
middleware). With several processes, a supervisor starts each as a fresh
interpreter (``spawn``: no inherited threads, sockets or pools), forwards
SIGTERM/SIGINT, and stops them all if one dies. :func:`serve_mail` runs the
mail ingester the same way, without a worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from types import FrameType

import msgspec
import redis

from helpdesk.cli._db import redact_url
from helpdesk.cli._logging import configure_logging
from helpdesk.errors import ConfigError
from helpdesk.runtime import build_runtime
from helpdesk.settings import Settings, load_settings

logger = logging.getLogger("helpdesk.cli")


def check_redis(url: str) -> None:
    """Raise :class:`ConfigError` unless Redis answers PING at ``url``."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"HELPDESK_REDIS_URL: cannot reach {redact_url(url)}: {exc}") from exc
    finally:
        client.close()


def serve_worker(threads: int) -> None:
    """Run one worker process until SIGTERM or SIGINT, then stop gracefully.

    Jobs in progress finish (up to the actors' time limits); messages
    prefetched but not started go back to Redis.
    """
    configure_logging()
    settings = msgspec.structs.replace(load_settings(), worker_threads=threads)
    label = f"worker process {os.getpid()} ({threads} threads)"
    asyncio.run(_serve(settings, label, run_worker=True, run_mail=False))


def serve_mail() -> None:
    """Run the mail ingester (every active mailbox) until SIGTERM or SIGINT.

    Exactly one such process belongs to a deployment; the mail it takes in
    becomes cases whose routing and replies go to the Redis queues.
    """
    configure_logging()
    label = f"mail process {os.getpid()}"
    asyncio.run(_serve(load_settings(), label, run_worker=False, run_mail=True))


async def _serve(settings: Settings, label: str, *, run_worker: bool, run_mail: bool) -> None:
    runtime = build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runtime.start(run_worker=run_worker, run_mail=run_mail)
    logger.info("%s started on %s", label, redact_url(settings.redis_url or ""))
    try:
        await stop.wait()
    finally:
        logger.info("%s stopping", label)
        await runtime.stop()
        logger.info("%s stopped", label)


def supervise(threads: int, processes: int) -> str | None:
    """Run ``processes`` worker processes until SIGTERM/SIGINT or until one dies.

    Returns None after a requested stop, or a message naming the process that
    died on its own (the others are stopped then, so that a supervisor such as
    systemd restarts the whole set).
    """
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=serve_worker, args=(threads,), name=f"helpdesk-worker-{n + 1}")
        for n in range(processes)
    ]
    stopping = False

    def stop_children(signum: int = 0, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.pid is not None and child.exitcode is None:
                os.kill(child.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop_children) for s in (signal.SIGTERM, signal.SIGINT)}
    failure: str | None = None
    try:
        for child in children:
            if not stopping:
                child.start()
        while any(child.is_alive() for child in children):
            for child in children:
                child.join(0.2)
            dead = next((c for c in children if c.exitcode is not None), None)
            if dead is not None and not stopping:
                failure = f"worker process {dead.name} exited with status {dead.exitcode}"
                logger.error("%s; stopping the others", failure)
                stop_children()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return failure
