"""Serving the web app with uvicorn: all-in-one (``run``) and web-only (``web``).

Stopping is bounded by ``HELPDESK_SHUTDOWN_GRACE_SECONDS`` (G). On SIGTERM or
SIGINT, uvicorn stops accepting connections and gives open requests and
websockets G/2 (``timeout_graceful_shutdown``: then their tasks are
cancelled); the application then stops its workers and closes its database
pool within G/4 (:func:`helpdesk.app.stop_runtime`). A watchdog armed by the
first signal ends the process G seconds after it, whatever is still running
(a thread stuck in a driver, a pool that would not close): it exits with
status 1 and one line on stderr. A clean stop exits with status 0.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click
import uvicorn
from uvicorn.supervisors import Multiprocess

from helpdesk.app import create_app
from helpdesk.cli._logging import log_config
from helpdesk.settings import Settings

logger = logging.getLogger(__name__)

WEB_APP_FACTORY = "helpdesk.app:create_app"
"""What ``helpdesk web`` serves: called with no argument in each web process,
it reads the settings and, in scale-out mode, starts no worker."""


def uvicorn_options(
    host: str,
    port: int,
    *,
    access_log: bool,
    grace: float,
    trusted_proxies: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The server settings shared by ``run`` and ``web``.

    ``timeout_graceful_shutdown`` (half of the ``grace`` seconds) bounds the
    wait for open requests and websockets on stop. ``X-Forwarded-*`` headers
    are believed only from ``trusted_proxies`` (none by default; uvicorn's own
    default would trust any local client).
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
        "timeout_graceful_shutdown": max(grace / 2, 1.0),
        "proxy_headers": bool(trusted_proxies),
        "forwarded_allow_ips": list(trusted_proxies),
        "log_config": log_config(),
    }


class _Watchdog:
    """Ends the process ``grace`` seconds after :meth:`arm`, unless it exited."""

    def __init__(self, grace: float, before_exit: Callable[[], None] | None = None) -> None:
        self.grace = grace
        self.before_exit = before_exit
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        """Start counting (once; later calls do nothing)."""
        if self._timer is None:
            self._timer = threading.Timer(self.grace, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        # No logging here: the main thread may hold a handler's lock.
        message = f"Error: not stopped {self.grace:g} s after the signal; exiting now\n"
        os.write(sys.stderr.fileno(), message.encode())
        if self.before_exit is not None:
            self.before_exit()
        os._exit(1)


class _Server(uvicorn.Server):
    """uvicorn's server with a :class:`_Watchdog` armed by the first signal."""

    def __init__(self, config: uvicorn.Config, watchdog: _Watchdog) -> None:
        super().__init__(config)
        self.watchdog = watchdog

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.watchdog.arm()
        super().handle_exit(sig, frame)


class _Supervisor(Multiprocess):
    """uvicorn's process supervisor (``--workers N``); its watchdog kills the
    web processes still alive when the grace period ends."""

    def __init__(self, config: uvicorn.Config, sockets: list[Any], grace: float) -> None:
        super().__init__(config, sockets=sockets)
        self.watchdog = _Watchdog(grace, before_exit=self._kill_all)

    def _kill_all(self) -> None:
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGKILL)

    def handle_term(self) -> None:
        self.watchdog.arm()
        super().handle_term()

    def handle_int(self) -> None:
        self.watchdog.arm()
        super().handle_int()


def _exit_quietly_after_signal() -> None:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the
    signal; make that re-raised signal a clean exit (status 0) instead of a
    death by signal or a KeyboardInterrupt traceback."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _serve(config: uvicorn.Config, grace: float) -> None:
    """Run one server in this process; stop within ``grace`` seconds of a signal."""
    server = _Server(config, _Watchdog(grace))
    _exit_quietly_after_signal()
    server.run()
    if not server.started:
        raise click.ClickException("the server did not start (see the log above)")


def run_all_in_one(settings: Settings, *, host: str, port: int, access_log: bool) -> None:
    """Serve the app with the Dramatiq worker and the mail ingester in this process.

    Returns when the server stopped after SIGTERM/SIGINT (the process exits
    within ``settings.shutdown_grace_seconds`` of the signal); raises
    :class:`click.ClickException` when the application failed to start.
    """
    app = create_app(settings, run_worker=True, run_mail=True)
    grace = settings.shutdown_grace_seconds
    options = uvicorn_options(
        host, port, access_log=access_log, grace=grace, trusted_proxies=settings.trusted_proxies
    )
    _serve(uvicorn.Config(app, **options), grace)


def run_web(
    *,
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    grace: float,
    trusted_proxies: tuple[str, ...] = (),
) -> None:
    """Serve :data:`WEB_APP_FACTORY` in ``workers`` processes sharing the port.

    Each process builds its own app from the settings; none runs a worker.
    With one process it runs in this one. Everything has exited ``grace``
    seconds after SIGTERM/SIGINT at the latest.
    """
    options = uvicorn_options(
        host, port, access_log=access_log, grace=grace, trusted_proxies=trusted_proxies
    )
    config = uvicorn.Config(WEB_APP_FACTORY, factory=True, workers=workers, **options)
    if workers == 1:
        _serve(config, grace)
        return
    _exit_quietly_after_signal()
    _Supervisor(config, sockets=[config.bind_socket()], grace=grace).run()
