"""Serving the web app with uvicorn: all-in-one (``run``) and web-only (``web``)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

import click
import uvicorn

from helpdesk.app import create_app
from helpdesk.cli._logging import log_config
from helpdesk.settings import Settings

logger = logging.getLogger(__name__)

WEB_APP_FACTORY = "helpdesk.app:create_app"
"""What ``helpdesk web`` serves: called with no argument in each web process,
it reads the settings and, in scale-out mode, starts no worker."""


def uvicorn_options(host: str, port: int, *, access_log: bool) -> dict[str, Any]:
    """The server settings shared by ``run`` and ``web``.

    ``timeout_graceful_shutdown`` bounds the wait for open websockets on stop,
    so a SIGTERM always ends the process.
    """
    return {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "lifespan": "on",
        "access_log": access_log,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        "log_config": log_config(),
    }


def _exit_quietly_after_signal() -> None:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the
    signal; make that re-raised signal a clean exit (status 0) instead of a
    death by signal or a KeyboardInterrupt traceback."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_all_in_one(settings: Settings, *, host: str, port: int, access_log: bool) -> None:
    """Serve the app with the Dramatiq worker and the mail ingester in this process.

    Returns when the server stopped after SIGTERM/SIGINT; raises
    :class:`click.ClickException` when the application failed to start.
    """
    app = create_app(settings, run_worker=True, run_mail=True)
    server = uvicorn.Server(
        uvicorn.Config(app, **uvicorn_options(host, port, access_log=access_log))
    )
    _exit_quietly_after_signal()
    server.run()
    if not server.started:
        raise click.ClickException("the server did not start (see the log above)")


def run_web(*, host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve :data:`WEB_APP_FACTORY` in ``workers`` processes sharing the port.

    Each process builds its own app from the settings; none runs a worker.
    With one process it runs in this one.
    """
    _exit_quietly_after_signal()
    uvicorn.run(
        WEB_APP_FACTORY,
        factory=True,
        workers=workers,
        **uvicorn_options(host, port, access_log=access_log),
    )
