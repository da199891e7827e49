"""Helpdesk processes for tests: free ports, logs in files, and a teardown that
stops every process (SIGTERM, then SIGKILL after a timeout) and reports how
each one ended.

Daemons write to log files, never to pipes: a pipe nobody reads fills up and
blocks the daemon, and a pipe inherited by a grandchild keeps ``pytest | tail``
waiting forever.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from helpdesk.db import bind_engine, create_engine
from helpdesk.tables import all_tables


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def helpdesk_env(
    database_url: str, data_dir: Path, *, redis_url: str | None = None
) -> dict[str, str]:
    """The process environment without any inherited HELPDESK_* setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_DATABASE_URL"] = database_url
    env["HELPDESK_DATA_DIR"] = str(data_dir)
    if redis_url:
        env["HELPDESK_REDIS_URL"] = redis_url
        env["HELPDESK_SECRET_KEY"] = "test-secret-key-0123456789abcdef"
    return env


def redis_url_with_db(url: str, db: int) -> str:
    """``url`` pointing at Redis database number ``db``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


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

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Daemon:
        """Run ``python -m helpdesk.cli ARGS`` with output to ``<log_dir>/<name>.log``."""
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "helpdesk.cli", *args],
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
