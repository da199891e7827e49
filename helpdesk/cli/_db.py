"""The CLI's database steps: connect, migrate, check readiness, create agents, demo data."""

from __future__ import annotations

import dataclasses
import pkgutil
import sqlite3
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import msgspec
from piccolo.engine.base import Engine

from helpdesk import events, migrations
from helpdesk.db import (
    bind_engine,
    close_pool,
    create_engine,
    current_engine,
    database_limits,
    start_pool,
)
from helpdesk.errors import ConfigError
from helpdesk.policy import SYSTEM
from helpdesk.pubsub import create_pubsub
from helpdesk.schemas import AgentIn, AgentOut
from helpdesk.services import agents, api_tokens
from helpdesk.settings import Settings
from helpdesk.sla.tracking import track_event
from helpdesk.storage import BlobStore, configure_blob_store
from helpdesk.tables import SchemaMigration
from helpdesk.tasks import setup_broker

if TYPE_CHECKING:  # the demo data is imported only by `helpdesk demo`
    from helpdesk.demo import DemoResult


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


@asynccontextmanager
async def open_database(settings: Settings, *, pool_size: int = 4) -> AsyncIterator[Engine[Any]]:
    """Bind the tables to the configured database and open a pool on this loop.

    An unreachable or unopenable database raises :class:`ConfigError` naming
    the (redacted) URL, instead of a driver traceback.
    """
    url = settings.database_url
    if settings.is_sqlite:
        Path(unquote(url[len("sqlite:///") :])).parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # Piccolo warns, then raises: keep only the error
            warnings.simplefilter("ignore")
            # Migrations and bulk loads may run long: no statement timeout here.
            limits = dataclasses.replace(database_limits(settings), statement=None)
            engine = create_engine(url, limits)
            bind_engine(engine)
            await start_pool(engine, size=pool_size)
            await SchemaMigration.raw("SELECT 1")
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        raise ConfigError(f"HELPDESK_DATABASE_URL: cannot open {redact_url(url)}: {exc}") from exc
    try:
        yield engine
    finally:
        await close_pool(engine)


def migration_names() -> list[str]:
    """Every migration of the code base, in the order they apply."""
    return sorted(
        info.name for info in pkgutil.iter_modules(migrations.__path__) if info.name[0] == "m"
    )


async def pending_migrations() -> list[str]:
    """The migrations not yet applied to the bound database."""
    if not await SchemaMigration.table_exists():
        return migration_names()
    done = {row["name"] for row in await SchemaMigration.select(SchemaMigration.name)}
    return [name for name in migration_names() if name not in done]


async def require_schema() -> None:
    """Raise :class:`ConfigError` unless every migration has been applied."""
    pending = await pending_migrations()
    if pending:
        raise ConfigError(
            "the database schema is not up to date "
            f"(pending: {', '.join(pending)}); run `helpdesk migrate` first"
        )


async def migrate_database(settings: Settings) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    async with open_database(settings) as engine:
        return await migrations.migrate(engine)


async def check_ready(settings: Settings) -> None:
    """Fail fast when the database is unreachable or its schema is behind the code."""
    async with open_database(settings, pool_size=1):
        await require_schema()


async def create_agent(
    settings: Settings, fields: dict[str, Any], *, with_token: bool
) -> tuple[AgentOut, str | None]:
    """Create a member of staff as the system; with ``with_token`` also an API token.

    Raises :class:`msgspec.ValidationError` for invalid fields and
    :class:`~helpdesk.errors.ConflictError` when the email is taken.
    """
    data = msgspec.convert(fields, AgentIn)
    async with open_database(settings, pool_size=1):
        await require_schema()
        agent = await agents.create_agent(SYSTEM, data)
        token = (
            (await api_tokens.create_token(SYSTEM, agent.id, name="cli")).token
            if with_token
            else None
        )
    return agent, token


async def load_demo_data(settings: Settings, *, cases: int, seed: int) -> DemoResult:
    """Load the demo data set into the configured database (see :mod:`helpdesk.demo`).

    In scale-out mode the events go to Redis pub/sub, so open consoles see
    the new cases; routing runs inline, not through the workers.
    """
    from helpdesk.demo import load_demo

    async with open_database(settings):
        await require_schema()
        configure_blob_store(BlobStore(settings.attachment_dir, settings.max_attachment_bytes))
        pubsub = (
            create_pubsub(settings.redis_url, namespace=settings.redis_namespace)
            if settings.redis_url
            else None
        )
        # SLA wake-ups are durable jobs (stored with the timers); no dispatcher
        # runs here, so a worker's relay hands them to the broker.
        setup_broker(settings.redis_url, current_engine(), namespace=settings.redis_namespace)
        events.configure(pubsub, [], reactors=[track_event])
        try:
            return await load_demo(cases=cases, seed=seed, secret_key=settings.secret_key)
        finally:
            events.configure(None)
            if pubsub is not None:
                await pubsub.close()
