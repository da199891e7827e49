"""Database faults against real processes.

PostgreSQL connections terminated under load (as in a failover), a database
that refuses connections, a SQLite file locked by another writer or read-only.
While the database is away a client gets ``503`` problems with the stable code
``database_unavailable`` and ``Retry-After`` within a bounded time (never a
500, never a hang), ``/health`` says 503 and names the database; once it is
back every request succeeds again; and SIGTERM stops the process within its
grace period, with requests in flight and a websocket open.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websocket_connect

from tests.conftest import POSTGRES_URL
from tests.integration._processes import Daemon, Daemons, free_port, helpdesk_env

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)

GRACE = 8.0
"""HELPDESK_SHUTDOWN_GRACE_SECONDS of the processes under test."""
FAULT_SETTINGS = {
    "HELPDESK_DB_ACQUIRE_TIMEOUT": "2",
    "HELPDESK_DB_CONNECT_TIMEOUT": "2",
    "HELPDESK_DB_STATEMENT_TIMEOUT": "5",
    "HELPDESK_SHUTDOWN_GRACE_SECONDS": str(GRACE),
}
REQUEST_BOUND = 10.0
"""No request may take longer: acquire (2 s) + connect (2 s) + a statement's
client-side limit (5 + 5 s) would be 14 s in the worst case; a lost connection
fails at once, so 10 s already means "hung"."""
CLIENT_TIMEOUT = 30.0
EXIT_MARGIN = 2.0
"""Seconds allowed beyond the grace period for the interpreter to exit."""


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    """Processes of the test; whatever is still running at the end is stopped."""
    started = Daemons(tmp_path)
    yield started
    started.stop_all()


async def _admin(sql: str) -> list[Any]:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


def admin(sql: str) -> list[Any]:
    """Run ``sql`` on the administrative database of the test server."""
    return asyncio.run(_admin(sql))


@pytest.fixture
def private_database() -> Iterator[tuple[str, str]]:
    """``(name, url)`` of a new, empty PostgreSQL database, dropped at the end."""
    name = f"helpdesk_faults_{uuid.uuid4().hex[:10]}"
    try:
        admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not usable: {exc}")
    try:
        yield name, urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def terminate_backends(name: str) -> int:
    """Terminate every connection to database ``name`` but ours; how many."""
    rows = admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    return len(rows)


def helpdesk(env: dict[str, str], *args: str) -> str:
    """Run a one-shot ``helpdesk`` command; its stdout (fails on an error)."""
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def prepare(env: dict[str, str]) -> str:
    """Migrate the database and create an admin; the admin's API token."""
    helpdesk(env, "migrate")
    made = helpdesk(env, "create-agent", "--name", "Admin", "--email", "admin@example.vn",
                    "--role", "admin", "--no-password", "--token")  # fmt: skip
    return made.strip()


@dataclass
class Outcome:
    """One request of the load: its status (or the client's error) and time."""

    status: int | str
    seconds: float
    code: str | None = None
    retry_after: str | None = None
    media_type: str = ""


def send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Outcome:
    """One request; a transport error or timeout is an outcome too."""
    started = time.monotonic()
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        return Outcome(type(exc).__name__, time.monotonic() - started)
    media_type = response.headers.get("content-type", "").split(";")[0]
    code = response.json().get("code") if media_type == "application/problem+json" else None
    return Outcome(
        response.status_code,
        time.monotonic() - started,
        code=code,
        retry_after=response.headers.get("retry-after"),
        media_type=media_type,
    )


@dataclass
class Load:
    """A few threads creating and listing cases until stopped."""

    base_url: str
    token: str
    threads: int = 6
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(CLIENT_TIMEOUT + 5)

    def _run(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=CLIENT_TIMEOUT) as c:
            sent = 0
            while not self._stop.is_set():
                sent += 1
                if sent % 2:
                    body = {"subject": f"Lỗi {number}-{sent}", "body": "Không vào được",
                            "customer_email": f"khach{number}@example.vn"}  # fmt: skip
                    outcome = send(c, "POST", "/api/v1/cases", json=body)
                else:
                    outcome = send(c, "GET", "/api/v1/cases")
                self.outcomes.append(outcome)


def assert_fails_fast_with_503(outcomes: list[Outcome]) -> None:
    """Every request answered in time, with a success or a proper 503 problem."""
    assert outcomes, "the load sent no request"
    errors = [o for o in outcomes if not isinstance(o.status, int)]
    assert errors == [], "requests without an answer (hung or dropped)"
    assert {o.status for o in outcomes} <= {200, 201, 503}
    for outcome in (o for o in outcomes if o.status == 503):
        assert outcome.media_type == "application/problem+json"
        assert outcome.code == "database_unavailable"
        assert outcome.retry_after is not None
        assert int(outcome.retry_after) > 0
    slowest = max(o.seconds for o in outcomes)
    assert slowest < REQUEST_BOUND, f"a request took {slowest:.1f} s"


def assert_stops_in_time(daemons: Daemons, server: Daemon) -> float:
    """SIGTERM; the process must exit 0 (not by its watchdog) within the grace
    period. How long it took."""
    started = time.monotonic()
    status, killed = daemons.stop(server, timeout=GRACE + EXIT_MARGIN)
    took = time.monotonic() - started
    assert not killed, f"still running {GRACE + EXIT_MARGIN} s after SIGTERM:\n{server.tail()}"
    assert status == 0, server.tail()
    return took


def open_websocket(port: int) -> ClientConnection:
    """A chat widget's websocket, left open (the server must not wait for it)."""
    return websocket_connect(f"ws://127.0.0.1:{port}/chat/ws", open_timeout=10)


def start_server(
    daemons: Daemons, command: str, env: dict[str, str], prefix: list[str] | None = None
) -> tuple[Daemon, str, int]:
    """Start ``helpdesk COMMAND`` on a free port and wait until it is healthy."""
    port = free_port()
    args = [command, "--port", str(port)]
    if prefix is None:
        server = daemons.start(command, args, env)
    else:
        server = _start_wrapped(daemons, command, [*prefix, sys.executable, "-m",
                                                   "helpdesk.cli", *args], env)  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    daemons.wait_healthy(server, base_url)
    return server, base_url, port


def _start_wrapped(daemons: Daemons, name: str, argv: list[str], env: dict[str, str]) -> Daemon:
    log = daemons.log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    daemon = Daemon(name, process, log)
    daemons.started.append(daemon)
    return daemon


# --- PostgreSQL -------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "web"])
def test_terminated_connections_fail_fast_are_replaced_and_sigterm_stops(
    command: str,
    private_database: tuple[str, str],
    tmp_path: Path,
    daemons: Daemons,
    request: pytest.FixtureRequest,
) -> None:
    name, url = private_database
    redis: dict[str, str] = {}
    if command == "web":  # scale-out: web processes only, jobs wait for a worker
        redis = {"redis_url": request.getfixturevalue("redis_url"),
                 "redis_namespace": request.getfixturevalue("redis_namespace")}  # fmt: skip
    env = {**helpdesk_env(url, tmp_path / "data", **redis), **FAULT_SETTINGS}
    token = prepare(env)
    server, base_url, port = start_server(daemons, command, env)

    # Given a steady load, when the app's connections are terminated ten times
    with Load(base_url, token) as load:
        time.sleep(1.0)
        terminated = []
        for _ in range(10):
            terminated.append(terminate_backends(name))
            time.sleep(0.5)
        time.sleep(1.0)
    # then every round found connections again (the pool replaced them), and
    # every request was answered in time: a success or a 503 problem.
    assert min(terminated) >= 1, terminated
    assert_fails_fast_with_503(load.outcomes)
    assert sum(1 for o in load.outcomes if o.status in (200, 201)) > 0

    # After the rounds every request succeeds and /health is 200.
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=CLIENT_TIMEOUT) as client:
        after = [send(client, "GET", "/api/v1/cases").status for _ in range(20)]
        health = client.get("/health")
    assert after == [200] * 20
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["down"] == []

    # With requests in flight, a websocket open and the connections just
    # terminated once more, SIGTERM stops the process within its grace period.
    with open_websocket(port), Load(base_url, token, threads=4):
        time.sleep(0.5)
        terminate_backends(name)
        took = assert_stops_in_time(daemons, server)
    assert took < GRACE + EXIT_MARGIN


def test_health_names_the_database_while_it_refuses_connections(
    private_database: tuple[str, str], tmp_path: Path, daemons: Daemons
) -> None:
    name, url = private_database
    env = {**helpdesk_env(url, tmp_path / "data"), **FAULT_SETTINGS}
    token = prepare(env)
    server, base_url, _ = start_server(daemons, "run", env)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=CLIENT_TIMEOUT) as client:
        # Given a database that accepts no connection any more
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            terminate_backends(name)
            health = client.get("/health")
            cases = send(client, "GET", "/api/v1/cases")
        finally:
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        # then /health is 503 and names the database, and the API fails fast
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert health.json()["down"] == ["database"]
        assert health.json()["database"] == "postgresql"
        assert health.headers["retry-after"] == "5"
        assert health.elapsed.total_seconds() < 5.0
        assert (cases.status, cases.code, cases.media_type) == (
            503, "database_unavailable", "application/problem+json",
        )  # fmt: skip
        assert cases.seconds < 5.0
        # and once it accepts connections again, both are back.
        assert _wait_for_health(client, 200, within=15.0) == 200
        assert send(client, "GET", "/api/v1/cases").status == 200
    assert_stops_in_time(daemons, server)


def _wait_for_health(client: httpx.Client, status: int, within: float) -> int:
    deadline = time.monotonic() + within
    answer = client.get("/health").status_code
    while answer != status and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = client.get("/health").status_code
    return answer


# --- SQLite -------------------------------------------------------------------


def sqlite_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The settings of a SQLite helpdesk in ``tmp_path``; and its database file."""
    path = tmp_path / "db" / "helpdesk.db"
    path.parent.mkdir()
    env = {**helpdesk_env(f"sqlite:///{path}", tmp_path / "data"), **FAULT_SETTINGS}
    return env, path


def test_a_locked_sqlite_file_gives_503_in_bounded_time(tmp_path: Path, daemons: Daemons) -> None:
    env, path = sqlite_env(tmp_path)
    token = prepare(env)
    server, base_url, _ = start_server(daemons, "run", env)
    headers = {"Authorization": f"Bearer {token}"}
    case = {"subject": "Khóa", "body": "Tệp bị khóa", "customer_email": "a@example.vn"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=CLIENT_TIMEOUT) as client:
        # Given another process holding the write lock
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            written = send(client, "POST", "/api/v1/cases", json=case)
            read = send(client, "GET", "/api/v1/cases")
            health = client.get("/health")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # then a write fails with a 503 problem after the busy timeout (2 s),
        # while reads and /health go on;
        assert (written.status, written.code, written.retry_after) == (
            503, "database_unavailable", "5",
        )  # fmt: skip
        assert 1.5 < written.seconds < 6.0
        assert read.status == 200
        assert health.status_code == 200
        # and once the lock is gone, writes succeed again.
        assert send(client, "POST", "/api/v1/cases", json=case).status == 201
    assert_stops_in_time(daemons, server)


def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply: none for a normal
    user; as root (who ignores them), a user namespace mapping us to uid 1000."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    prefix = [unshare or "unshare", "--user", "--map-user=1000", "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if unshare is None or probe.returncode != 0:
        pytest.fail("as root, this test needs `unshare --user` (util-linux) to drop privileges")
    return prefix


def test_a_read_only_sqlite_file_refuses_writes_with_503(tmp_path: Path, daemons: Daemons) -> None:
    env, path = sqlite_env(tmp_path)
    token = prepare(env)
    path.chmod(0o444)  # the directory stays writable: SQLite opens the file read-only
    server, base_url, _ = start_server(daemons, "run", env, prefix=unprivileged())
    headers = {"Authorization": f"Bearer {token}"}
    case = {"subject": "Chỉ đọc", "body": "Tệp chỉ đọc", "customer_email": "b@example.vn"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=CLIENT_TIMEOUT) as client:
        written = send(client, "POST", "/api/v1/cases", json=case)
        read = send(client, "GET", "/api/v1/cases")
        health = client.get("/health")
    assert (written.status, written.code, written.media_type) == (
        503, "database_unavailable", "application/problem+json",
    )  # fmt: skip
    assert written.seconds < 3.0  # refused at once, not retried as if busy
    assert read.status == 200
    assert health.status_code == 200  # it answers; writes are what fails
    assert_stops_in_time(daemons, server)


def test_a_read_only_sqlite_directory_stops_start_up_with_one_line(
    tmp_path: Path, daemons: Daemons
) -> None:
    env, path = sqlite_env(tmp_path)
    prepare(env)
    assert not Path(f"{path}-wal").exists()  # closed cleanly: nothing to recover
    path.chmod(0o444)
    path.parent.chmod(0o555)  # no -wal/-shm can be made: the file cannot be opened
    try:
        server = _start_wrapped(daemons, "run", [*unprivileged(), sys.executable, "-m",
                                                 "helpdesk.cli", "run", "--port",
                                                 str(free_port())], env)  # fmt: skip
        status = server.process.wait(30)
    finally:
        path.parent.chmod(0o755)
    log = server.tail()
    assert status == 1, log
    assert "Error: HELPDESK_DATABASE_URL: cannot open sqlite:///" in log
    assert "readonly" in log
    assert "Traceback" not in log


def test_the_shutdown_watchdog_ends_a_process_that_does_not_stop() -> None:
    # What runs when a stop hangs anyway (a thread stuck in a driver, a pool
    # that will not close): the process ends, with status 1 and one line.
    script = (
        "import time\n"
        "from helpdesk.cli._serve import _Watchdog\n"
        "_Watchdog(0.5).arm()\n"
        "time.sleep(30)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 10
    assert done.stderr.strip() == "Error: not stopped 0.5 s after the signal; exiting now"
