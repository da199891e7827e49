"""Shared fixtures: the database under test (SQLite and PostgreSQL), blobs, events.

Every test that asks for ``db`` runs once per engine named by ``--db``
(default: both). PostgreSQL comes from ``HELPDESK_TEST_POSTGRES_URL``; the
suite creates a private database there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis
from hypothesis import settings

from helpdesk import events
from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.migrations import migrate
from helpdesk.pubsub import MemoryPubSub, StreamFrame
from helpdesk.sla.tracking import track_event
from helpdesk.storage import BlobStore, configure_blob_store
from helpdesk.tables import all_tables
from tests.integration._processes import PrivateRedis, delete_namespace

POSTGRES_URL = os.environ.get(
    "HELPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# In CI the property tests must not pass or fail by chance: the same examples
# every run (derandomize, which also means no example database), no timing
# deadline on a loaded runner, and a failure prints the blob that replays it
# (@reproduce_failure). Locally Hypothesis keeps exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default="sqlite,postgres", help="engines to run database tests on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        kinds = [k for k in metafunc.config.getoption("--db").split(",") if k]
        if metafunc.definition.get_closest_marker("postgres_only"):
            kinds = [k for k in kinds if k == "postgres"]
        metafunc.parametrize("db_kind", kinds, scope="session")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"helpdesk_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not usable: {exc}")
    url = _with_database(POSTGRES_URL, name)
    engine = create_engine(url)
    bind_engine(engine)
    asyncio.run(migrate(engine))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating costs about a second)."""
    path = tmp_path_factory.mktemp("template") / "helpdesk.db"
    engine = create_engine(f"sqlite:///{path}")
    bind_engine(engine)
    asyncio.run(migrate(engine))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture
def database_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database of the engine under test."""
    if db_kind == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "helpdesk.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


class EventLog:
    """Frames published after commit, in order, for assertions."""

    def __init__(self) -> None:
        self.frames: list[StreamFrame] = []
        self.events: list[events.Event] = []

    def types(self, stream: str | None = None) -> list[str]:
        return [f.type for f in self.frames if stream is None or f.stream == stream]


@pytest.fixture
async def db(database_url: str, db_kind: str, tmp_path: Path) -> AsyncIterator[EventLog]:
    """A bound, empty database with blobs in a temp dir; yields the published events."""
    engine = create_engine(database_url)
    bind_engine(engine)
    if db_kind == "postgres":
        names = ", ".join(
            f'"{t._meta.tablename}"'
            for t in all_tables()
            if t._meta.tablename != "schema_migrations"
        )
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        await start_pool(engine, size=4)
    else:
        await migrate(engine)
    configure_blob_store(BlobStore(tmp_path / "blobs", max_bytes=1_000_000))
    log = EventLog()
    pubsub = MemoryPubSub()

    class Recorder(MemoryPubSub):
        async def publish(self, frame: StreamFrame) -> None:
            log.frames.append(frame)
            await pubsub.publish(frame)

    async def listener(event: events.Event) -> None:
        log.events.append(event)

    events.configure(Recorder(), [listener], reactors=[track_event])
    try:
        yield log
    finally:
        events.configure(None)
        await close_pool(engine)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        in_slow_folder = "tests/integration" in str(item.fspath) or "tests/e2e" in str(item.fspath)
        if in_slow_folder and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture
async def embedded_runtime(db: EventLog, database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A started embedded runtime (in-process Dramatiq worker) on the test database."""
    from helpdesk.runtime import build_runtime
    from helpdesk.settings import load_settings

    settings = load_settings(
        {"HELPDESK_DATABASE_URL": database_url, "HELPDESK_DATA_DIR": str(tmp_path / "data")}
    )
    runtime = build_runtime(settings)
    await runtime.start(run_worker=True)
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture(scope="session")
def redis_namespace() -> Iterator[str]:
    """The Redis namespace of this test run (``helpdesk-test-`` and 12 hex digits):
    every key the run makes in the shared Redis starts with it, and only those
    are deleted at the end. Never FLUSHDB: other runs share that Redis."""
    namespace = f"helpdesk-test-{uuid.uuid4().hex[:12]}"
    yield namespace
    delete_namespace(REDIS_URL, namespace)


@pytest.fixture
def redis_url(redis_namespace: str) -> Iterator[str]:
    """The shared test Redis (:data:`REDIS_URL`), with no key of this run's
    namespace at the start and the end of the test (queued messages of one
    test never reach the next)."""
    try:
        delete_namespace(REDIS_URL, redis_namespace)
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not usable: {exc}")
    yield REDIS_URL
    delete_namespace(REDIS_URL, redis_namespace)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started private ``redis-server`` that the test may stop and start again
    (empty: it keeps nothing on disk); stopped at the end."""
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
