"""Helpdesk processes for tests: free ports, logs in files, and a teardown that
stops every process (SIGTERM, then SIGKILL after a timeout) and reports how
each one ended; a private ``redis-server`` that a test may stop and restart;
Redis keys of one namespace deleted without touching anything else.

Daemons write to log files, never to pipes: a pipe nobody reads fills up and
blocks the daemon, and a pipe inherited by a grandchild keeps ``pytest | tail``
waiting forever.

The shared test Redis is used by other test runs at the same time: tests
never FLUSHDB it; each run keeps its keys under its own namespace (see the
``redis_namespace`` fixture) and deletes only those (:func:`delete_namespace`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from helpdesk import secret_keys
from helpdesk.db import bind_engine, create_engine
from helpdesk.tables import all_tables


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"
"""The secret key of the helpdesk processes the tests start."""


def helpdesk_env(
    database_url: str,
    data_dir: Path,
    *,
    redis_url: str | None = None,
    redis_namespace: str | None = None,
) -> dict[str, str]:
    """The process environment without any inherited HELPDESK_* setting, plus ours
    (``redis_namespace``: HELPDESK_REDIS_NAMESPACE, the prefix of every Redis key).

    The secret key is always :data:`TEST_SECRET_KEY`, and this test process is
    set to it too (:func:`helpdesk.secret_keys.configure`): a mailbox password
    sealed here opens in the processes started with this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_DATABASE_URL"] = database_url
    env["HELPDESK_DATA_DIR"] = str(data_dir)
    env["HELPDESK_SECRET_KEY"] = TEST_SECRET_KEY
    secret_keys.configure(TEST_SECRET_KEY)
    if redis_url:
        env["HELPDESK_REDIS_URL"] = redis_url
    if redis_namespace:
        env["HELPDESK_REDIS_NAMESPACE"] = redis_namespace
    return env


def delete_namespace(url: str, namespace: str) -> int:
    """Delete the keys of ``namespace`` (``namespace*``) at ``url``; how many.

    Only those: the Redis may be shared with other test runs. Pub/sub
    channels are not keys and need no cleaning.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{namespace}*", count=500):
            batch.append(key)
            if len(batch) == 500:
                deleted += int(client.delete(*batch))
                batch = []
        if batch:
            deleted += int(client.delete(*batch))
    finally:
        client.close()
    return deleted


def reset_postgres(url: str) -> None:
    """Empty every table of the (migrated) PostgreSQL database at ``url``."""

    async def truncate() -> None:
        engine = create_engine(url)
        bind_engine(engine)
        names = ", ".join(
            f'"{t._meta.tablename}"'
            for t in all_tables()
            if t._meta.tablename != "schema_migrations"
        )
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    asyncio.run(truncate())


@dataclass
class Daemon:
    """One process started by :class:`Daemons`."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        """The end of the process's log, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Daemons:
    """Processes started by one test; :meth:`stop_all` ends them."""

    log_dir: Path
    started: list[Daemon] = field(default_factory=list)
    python: str = sys.executable
    """The interpreter that runs ``helpdesk.cli`` (another venv's, for an installed wheel)."""
    cwd: Path | None = None

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Daemon:
        """Run ``python -m helpdesk.cli ARGS`` with output to ``<log_dir>/<name>.log``."""
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [self.python, "-m", "helpdesk.cli", *args],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        daemon = Daemon(name, process, log)
        self.started.append(daemon)
        return daemon

    def wait_healthy(self, daemon: Daemon, base_url: str, timeout: float = 30.0) -> None:
        """Wait until ``GET /health`` answers 200; fail with the log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if daemon.process.poll() is not None:
                raise AssertionError(
                    f"{daemon.name} exited with {daemon.process.returncode}:\n{daemon.tail()}"
                )
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{daemon.name} not healthy after {timeout} s:\n{daemon.tail()}")

    def stop(
        self, daemon: Daemon, timeout: float = 20.0, *, signal_it: bool = True
    ) -> tuple[int, bool]:
        """SIGTERM, wait, then SIGKILL; (exit status, whether it had to be killed)."""
        process = daemon.process
        if signal_it and process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout), False
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(10), True

    def stop_all(self) -> dict[str, tuple[int, bool]]:
        """Stop every started process (all at once, then wait for each)."""
        for daemon in self.started:
            if daemon.process.poll() is None:
                daemon.process.send_signal(signal.SIGTERM)
        return {daemon.name: self.stop(daemon, signal_it=False) for daemon in self.started}

    def assert_all_stopped_cleanly(self) -> None:
        """Stop everything; fail unless each process exited 0 on SIGTERM alone."""
        outcomes = self.stop_all()
        for daemon in self.started:
            assert daemon.process.poll() is not None, f"{daemon.name} still running"
        bad = {name: o for name, o in outcomes.items() if o != (0, False)}
        details = "\n".join(f"--- {d.name}:\n{d.tail()}" for d in self.started if d.name in bad)
        assert not bad, f"(exit status, killed) per process: {bad}\n{details}"


class PrivateRedis:
    """A throwaway ``redis-server`` of one test: its own port and directory, no
    persistence (so a restart comes back empty), output to ``redis.log``.

    :meth:`stop` kills it (an outage as seen by clients: connections reset,
    nothing listening), :meth:`start` starts it again, empty; :meth:`pause`
    freezes it (a hung Redis: connections accepted, never answered).
    """

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is needed (apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no",
                "--dir", str(self.directory)]  # fmt: skip
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"redis-server did not start: {self.tail()}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill the server (idempotent) and wait until it has exited."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, nothing answers (a hung Redis)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        """A new synchronous client of this server."""
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        log = self.directory / "redis.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
