"""What the benchmarks share: a helpdesk stack to measure, and reporting.

:class:`Stack` starts a server on a fresh database (a temporary SQLite file,
or a new PostgreSQL database that is dropped afterwards), creates an admin
token through the CLI, and stops everything on exit; or it targets a running
server given ``--url`` and ``--token``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import redis

POSTGRES_URL = os.environ.get(
    "HELPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _delete_namespace(url: str, namespace: str) -> None:
    """Delete this run's Redis keys only: the Redis may serve other runs."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=500))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark accepts."""
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--mode",
        choices=("embedded", "scale-out"),
        default=None,
        help="embedded: `helpdesk run`; scale-out: `helpdesk web` + `helpdesk worker` on Redis "
        "(default: embedded for SQLite, scale-out for PostgreSQL)",
    )
    parser.add_argument("--web-workers", type=int, default=1, help="scale-out web processes")
    parser.add_argument("--url", help="target a running server instead of starting one")
    parser.add_argument("--token", help="an admin API token of the server given by --url")
    parser.add_argument(
        "--database-url", help="the database of the server given by --url (for loading data)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, nearest-rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(label: str, latencies_ms: list[float]) -> str:
    """One line: p50, p99, mean and count."""
    return (
        f"{label:<34} p50 {percentile(latencies_ms, 0.5):7.2f} ms   "
        f"p99 {percentile(latencies_ms, 0.99):7.2f} ms   "
        f"mean {statistics.fmean(latencies_ms):7.2f} ms   n={len(latencies_ms)}"
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo.extend(child for child, (parent, _) in stats.items() if parent == current)
    return total


class Stack:
    """A helpdesk server (or several processes) on a fresh database."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode = args.mode or ("embedded" if args.db == "sqlite" else "scale-out")
        self.workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.pg_admin_url: str | None = None
        self.pg_name: str | None = None
        self.redis_namespace = "helpdesk-bench"
        self.url: str = args.url or ""
        self.token: str = args.token or ""
        self.database_url: str = args.database_url or ""
        self.env: dict[str, str] = {}

    # -- set-up ------------------------------------------------------------

    def __enter__(self) -> Stack:
        if self.args.url:
            if not self.token:
                raise SystemExit("--url needs --token")
            return self
        try:
            self._prepare()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _prepare(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env["HELPDESK_DATA_DIR"] = str(self.workdir / "data")
        if self.args.db == "sqlite":
            self.database_url = f"sqlite:///{self.workdir / 'helpdesk.db'}"
        else:
            self.pg_admin_url = POSTGRES_URL
            self.pg_name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg_admin(POSTGRES_URL, f'CREATE DATABASE "{self.pg_name}"'))
            self.database_url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{self.pg_name}"))
        env["HELPDESK_DATABASE_URL"] = self.database_url
        if self.mode == "scale-out":
            self.redis_namespace = f"helpdesk-bench-{uuid.uuid4().hex[:8]}"
            env["HELPDESK_REDIS_URL"] = REDIS_URL
            env["HELPDESK_REDIS_NAMESPACE"] = self.redis_namespace
            env["HELPDESK_SECRET_KEY"] = "bench-secret-key-0123456789abcdef"
        self.env = env
        self.cli("migrate")
        self.token = self.cli(
            "create-agent", "--name", "Bench Admin", "--email", "bench-admin@example.vn",
            "--role", "admin", "--no-password", "--token",
        ).strip()  # fmt: skip

    def cli(self, *args: str) -> str:
        """Run one ``helpdesk`` command against the stack's database; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "helpdesk.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"helpdesk {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        """Start the server processes and wait until they answer."""
        if self.args.url:
            return
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        if self.mode == "embedded":
            self._spawn("run", ["run", "--port", str(port)])
        else:
            web = ["web", "--port", str(port), "--workers", str(self.args.web_workers)]
            self._spawn("web", web)
            self._spawn("worker", ["worker"])
        self._wait_healthy()

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.cli", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((name, process))

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    log = (self.workdir / f"{name}.log").read_text(errors="replace")
                    raise SystemExit(f"{name} exited with {process.returncode}:\n{log[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"server not healthy after {timeout} s")

    @property
    def server_pids(self) -> list[int]:
        """Pids of the started processes (empty with --url)."""
        return [process.pid for _, process in self.processes]

    def server_cpu(self) -> float:
        """CPU seconds used so far by the started processes and their children."""
        return sum(cpu_seconds(pid) for pid in self.server_pids)

    def describe(self) -> str:
        """What is being measured, in one line."""
        if self.args.url:
            return f"server {self.url}"
        extra = (
            f", {self.args.web_workers} web process(es) + 1 worker"
            if self.mode == "scale-out"
            else ""
        )
        return f"{self.args.db}, {self.mode}{extra}"

    # -- tear-down -----------------------------------------------------------

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop on SIGTERM; killing it", file=sys.stderr)
                process.kill()
                process.wait(10)
        if self.pg_name and self.pg_admin_url:
            asyncio.run(
                _pg_admin(
                    self.pg_admin_url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'
                )
            )
        if self.mode == "scale-out" and not self.args.url:
            _delete_namespace(REDIS_URL, self.redis_namespace)
        shutil.rmtree(self.workdir, ignore_errors=True)


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
