"""Dramatiq in both run modes: the routing actor routes each new case, once.

* Embedded: the runtime of one process (in-memory broker, worker threads in
  the process) on SQLite and PostgreSQL.
* Scale-out: two ``helpdesk web`` processes and one ``helpdesk worker``
  process sharing real Redis and PostgreSQL, as subprocesses. Their Redis
  keys (queues included) live under this test run's namespace
  (``HELPDESK_REDIS_NAMESPACE``), emptied before and after each test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from helpdesk.cli import main
from helpdesk.db import bind_engine, create_engine
from helpdesk.policy import SYSTEM
from helpdesk.runtime import Runtime
from helpdesk.schemas import TeamIn
from helpdesk.services import teams
from helpdesk.tables import AuditEntry, Case
from tests.factories import make_case
from tests.integration._processes import Daemons, free_port, helpdesk_env, reset_postgres

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)


async def wait_routed(case_ids: list[int], within: float = 20.0) -> list[dict[str, Any]]:
    """Poll until every case has ``routed_at``; return their rows."""
    deadline = time.monotonic() + within
    while True:
        rows = await Case.select(Case.id, Case.team, Case.routed_at).where(Case.id.is_in(case_ids))
        if len(rows) == len(case_ids) and all(r["routed_at"] is not None for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"not routed after {within} s: {rows}")
        await asyncio.sleep(0.05)


async def routed_audit_counts(case_ids: list[int]) -> dict[int, int]:
    rows = await AuditEntry.select(AuditEntry.case).where(
        (AuditEntry.action == "case.routed") & AuditEntry.case.is_in(case_ids)
    )
    found = dict.fromkeys(case_ids, 0)
    for row in rows:
        found[row["case"]] += 1
    return found


async def test_embedded_worker_routes_new_cases(embedded_runtime: Runtime) -> None:
    # Given the runtime of an embedded process with its in-process worker
    default = await teams.create_team(SYSTEM, TeamIn(name="Hỗ trợ", is_default=True))
    # When cases are opened (the case.opened listener enqueues the actor)
    opened = [await make_case() for _ in range(3)]
    # Then the routing actor gives each the default team, once
    rows = await wait_routed([c.id for c in opened])
    assert {r["team"] for r in rows} == {default.id}
    assert set((await routed_audit_counts([c.id for c in opened])).values()) == {1}


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    started = Daemons(tmp_path)
    yield started
    started.assert_all_stopped_cleanly()


def open_cases(base_url: str, token: str, count: int, tag: str) -> list[int]:
    ids = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(count):
            response = client.post(
                "/api/v1/cases",
                json={
                    "subject": f"Yêu cầu {tag} {n}",
                    "body": "Xin chào, tôi cần hỗ trợ.",
                    "customer_email": f"{tag}-{n}@example.vn",
                },
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


def test_scale_out_web_and_worker_processes_share_redis(
    postgres_url: str, redis_url: str, redis_namespace: str, tmp_path: Path, daemons: Daemons
) -> None:
    # Given an empty database with a default team and an admin token
    reset_postgres(postgres_url)
    env = helpdesk_env(
        postgres_url, tmp_path / "data", redis_url=redis_url, redis_namespace=redis_namespace
    )
    made = CliRunner().invoke(
        main,
        ["create-agent", "--name", "Admin", "--email", "admin@example.vn", "--role", "admin",
         "--no-password", "--token"],
        env=dict(env),
        catch_exceptions=False,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()

    async def make_default_team() -> int:
        bind_engine(create_engine(postgres_url))
        return (await teams.create_team(SYSTEM, TeamIn(name="Triage", is_default=True))).id

    team_id = asyncio.run(make_default_team())

    # and two web processes, but no worker yet
    bases = []
    for name in ("web1", "web2"):
        port = free_port()
        bases.append(f"http://127.0.0.1:{port}")
        daemons.start(name, ["web", "--port", str(port)], env)
    for daemon, base in zip(daemons.started, bases, strict=True):
        daemons.wait_healthy(daemon, base)
        assert httpx.get(f"{base}/health").json()["mode"] == "scale-out"

    # When cases are opened on both while no worker runs, they wait in Redis
    waiting = open_cases(bases[0], token, 2, "a") + open_cases(bases[1], token, 2, "b")
    time.sleep(1.0)

    async def unrouted() -> int:
        bind_engine(create_engine(postgres_url))
        return await Case.count().where(Case.routed_at.is_null())

    assert asyncio.run(unrouted()) == 4  # the web processes run no worker

    # and a worker process starts, and more cases come in on both web processes
    daemons.start("worker", ["worker", "--threads", "2"], env)
    more = open_cases(bases[0], token, 5, "c") + open_cases(bases[1], token, 5, "d")
    case_ids = waiting + more

    # Then the worker routes every case exactly once
    async def check() -> None:
        bind_engine(create_engine(postgres_url))
        rows = await wait_routed(case_ids, within=30)
        assert {r["team"] for r in rows} == {team_id}
        await asyncio.sleep(0.5)  # a duplicate delivery would show up by now
        assert await routed_audit_counts(case_ids) == dict.fromkeys(case_ids, 1)

    asyncio.run(check())


def test_worker_processes_start_and_stop_together(
    postgres_url: str, redis_url: str, redis_namespace: str, tmp_path: Path, daemons: Daemons
) -> None:
    # Given `helpdesk worker --processes 2`
    env = helpdesk_env(
        postgres_url, tmp_path / "data", redis_url=redis_url, redis_namespace=redis_namespace
    )
    supervisor = daemons.start("workers", ["worker", "--processes", "2", "--threads", "1"], env)
    # When both child processes have started
    deadline = time.monotonic() + 30
    while supervisor.log.read_text(errors="replace").count(" started on ") < 2:
        assert supervisor.process.poll() is None, supervisor.tail()
        assert time.monotonic() < deadline, supervisor.tail()
        time.sleep(0.1)
    # Then SIGTERM stops all of them, cleanly (asserted by the daemons fixture)
    status, killed = daemons.stop(supervisor)
    assert (status, killed) == (0, False), supervisor.tail()
    assert supervisor.log.read_text().count(" stopped") == 2, supervisor.tail()
