"""The ``helpdesk`` command on SQLite and PostgreSQL.

In-process commands run through click's CliRunner; ``helpdesk run`` runs as a
real subprocess on a free port and must stop cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from click.testing import CliRunner, Result

from helpdesk.cli import main
from helpdesk.cli._db import migration_names
from helpdesk.db import bind_engine, create_engine
from helpdesk.demo._chats import CHATS as DEMO_CHATS
from helpdesk.services import agents, api_tokens
from helpdesk.tables import (
    Agent,
    ApiToken,
    AuditEntry,
    Case,
    Customer,
    Message,
    Organization,
    OutboxEvent,
    Team,
)
from tests.conftest import POSTGRES_URL
from tests.integration._processes import Daemons, free_port, helpdesk_env, reset_postgres

COUNTED = (Agent, ApiToken, AuditEntry, Case, Customer, Message, Organization, OutboxEvent, Team)


@pytest.fixture
def url(database_url: str, db_kind: str) -> str:
    """An empty, migrated database of the engine under test."""
    if db_kind == "postgres":
        reset_postgres(database_url)
    return database_url


@pytest.fixture
def fresh_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    """A database that has never been migrated (a new PostgreSQL database, dropped after)."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"helpdesk_cli_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    yield urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def postgres_admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    started = Daemons(tmp_path)
    yield started
    started.assert_all_stopped_cleanly()


def cli(url: str, tmp_path: Path, *args: str, input: str | None = None) -> Result:
    env: dict[str, str | None] = dict(helpdesk_env(url, tmp_path / "data"))
    env["HELPDESK_REDIS_URL"] = None
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def counts(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        bind_engine(create_engine(url))
        return {table._meta.tablename: await table.count() for table in COUNTED}

    return asyncio.run(count())


def test_migrate_twice(fresh_url: str, tmp_path: Path) -> None:
    first = cli(fresh_url, tmp_path, "migrate")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [f"applied {name}" for name in migration_names()]
    second = cli(fresh_url, tmp_path, "migrate")
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "database schema is up to date"


def test_create_agent_prints_a_working_token(url: str, tmp_path: Path) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    result = cli(
        url, tmp_path, "create-agent", "--name", "Quản Trị", "--email", "Admin@Example.vn",
        "--role", "admin", "--password", "mat-khau-dai", "--token",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("hd_")
    assert "\n" not in token
    assert "created admin" in result.stderr

    async def check() -> None:
        bind_engine(create_engine(url))
        principal = await api_tokens.authenticate_token(token)
        assert principal.role == "admin"
        assert (await agents.authenticate_password("admin@example.vn", "mat-khau-dai")).id == (
            principal.id
        )

    asyncio.run(check())

    again = cli(url, tmp_path, "create-agent", "--name", "X", "--email", "admin@example.vn",
                "--password", "mat-khau-dai")  # fmt: skip
    assert again.exit_code == 1
    assert again.output.strip() == "Error: an agent with email admin@example.vn exists"


def test_create_agent_reads_the_password_from_stdin(url: str, tmp_path: Path) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    result = cli(
        url, tmp_path, "create-agent", "--name", "Nguyễn Thị Lan", "--email", "lan@example.vn",
        "--language", "vi", "--language", "en", input="mot-mat-khau\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    async def check() -> None:
        bind_engine(create_engine(url))
        principal = await agents.authenticate_password("lan@example.vn", "mot-mat-khau")
        agent = await agents.get_agent(principal, principal.id or 0)
        assert agent.role == "agent"
        assert agent.languages == ["vi", "en"]

    asyncio.run(check())
    empty = cli(url, tmp_path, "create-agent", "--name", "A", "--email", "a@example.vn", input="")
    assert empty.exit_code == 1
    assert "no password" in empty.output


def test_demo_loads_and_is_idempotent(url: str, tmp_path: Path) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    first = cli(url, tmp_path, "demo", "--cases", "30")
    assert first.exit_code == 0, first.output
    assert "30 cases created, 0 were there" in first.output
    assert "quantri@hotro.example" in first.output
    assert "quantri-demo" in first.output
    after_first = counts(url)
    assert after_first["cases"] == 30 + len(DEMO_CHATS)  # the demo chats are cases too
    assert after_first["agents"] == 8
    assert after_first["teams"] == 2
    assert after_first["messages"] > 30

    second = cli(url, tmp_path, "demo", "--cases", "30")
    assert second.exit_code == 0, second.output
    assert "0 cases created, 30 were there" in second.output
    assert counts(url) == after_first
    token = first.output.strip().splitlines()[-1].strip()
    assert token == second.output.strip().splitlines()[-1].strip()  # the same token each run

    async def check() -> None:
        bind_engine(create_engine(url))
        assert (await api_tokens.authenticate_token(token)).role == "admin"
        rows = await Case.select(Case.status, Case.language, Case.routed_at, Case.created_at)
        assert {r["language"] for r in rows} >= {"vi"}
        assert all(r["routed_at"] is not None for r in rows)
        assert len({r["status"] for r in rows}) >= 3
        spread = max(r["created_at"] for r in rows) - min(r["created_at"] for r in rows)
        assert spread.days >= 7  # backdated over weeks, not all "now"

    asyncio.run(check())


def test_user_errors_are_one_line_without_traceback(
    url: str, fresh_url: str, tmp_path: Path
) -> None:
    no_redis = cli(url, tmp_path, "worker")
    assert no_redis.exit_code == 1
    assert no_redis.output.strip().splitlines() == [
        "Error: helpdesk worker needs HELPDESK_REDIS_URL (the Redis task queue); "
        "without Redis, `helpdesk run` runs the worker inside the web process"
    ]
    several = cli(url, tmp_path, "web", "--workers", "2")
    assert several.exit_code == 1
    assert "needs HELPDESK_REDIS_URL" in several.output
    no_redis_mail = cli(url, tmp_path, "mail")
    assert no_redis_mail.exit_code == 1
    assert "helpdesk mail needs HELPDESK_REDIS_URL" in no_redis_mail.output
    not_migrated = cli(fresh_url, tmp_path, "demo")
    assert not_migrated.exit_code == 1
    assert "run `helpdesk migrate` first" in not_migrated.output
    bad = cli("postgresql://nobody:secret@127.0.0.1:1/none", tmp_path, "migrate")
    assert bad.exit_code == 1
    assert len(bad.output.strip().splitlines()) == 1
    assert "Traceback" not in bad.output
    assert "secret" not in bad.output
    assert "***" in bad.output


def test_run_serves_the_api_and_stops_on_sigterm(
    url: str, tmp_path: Path, daemons: Daemons
) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    made = cli(url, tmp_path, "create-agent", "--name", "Admin", "--email", "admin@example.vn",
               "--role", "admin", "--no-password", "--token")  # fmt: skip
    token = made.stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = daemons.start(
        "run", ["run", "--port", str(port)], helpdesk_env(url, tmp_path / "data")
    )
    daemons.wait_healthy(server, base)
    health = httpx.get(f"{base}/health").json()
    assert health["mode"] == "embedded"

    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/api/v1/cases",
        json={"subject": "Không đăng nhập được", "body": "Lỗi 500", "customer_email": "a@b.vn"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    read = httpx.get(f"{base}/api/v1/cases/{case_id}", headers=headers)
    assert read.status_code == 200
    assert read.json()["subject"] == "Không đăng nhập được"
    assert httpx.get(f"{base}/api/v1/cases/{case_id}").status_code == 401

    status, killed = daemons.stop(server)
    assert (status, killed) == (0, False), server.tail()
    assert "Application shutdown complete" in server.tail()


def test_demo_plan_is_deterministic_and_every_text_fills() -> None:
    from datetime import UTC, datetime

    from helpdesk.demo._load import _texts
    from helpdesk.demo._plan import plan_demo
    from helpdesk.demo._stories_en import STORIES_EN
    from helpdesk.demo._stories_vi import STORIES_VI

    now = datetime(2025, 3, 15, tzinfo=UTC)
    first, again = plan_demo(60, 3, now), plan_demo(60, 3, now)
    assert [c.external_id for c in first.cases] == [c.external_id for c in again.cases]
    assert [c.steps for c in first.cases] == [c.steps for c in again.cases]
    assert all(c.steps[-1].offset < c.age for c in first.cases)  # nothing in the future
    assert len({c.email for c in first.customers}) == len(first.customers)
    plan = first.cases[0]
    for story in (*STORIES_VI, *STORIES_EN):
        values = _texts(plan, first.customers[plan.customer], "Lê Hoàng Nam", 42)
        for text in (story.subject, story.opening, story.reply, story.follow_up,
                     story.resolution, story.note):  # fmt: skip
            filled = text.format_map(values)
            assert "{" not in filled.replace('{"', "").replace('"}', ""), (story.key, filled)
