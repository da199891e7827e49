"""Fixtures of the REST API tests: the real app on each engine, with staff and tokens.

The app runs on the test client's own event loop (a background thread), so
everything that touches the database goes through ``api.run(...)``, which
runs a coroutine on that loop (STACK_NOTES pitfall 4: an asyncpg pool belongs
to the loop that made it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from helpdesk.app import create_app
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, CaseCreate, CaseOut, TeamIn, TeamUpdate
from helpdesk.services import agents, api_tokens, cases, teams
from helpdesk.settings import load_settings
from helpdesk.tables import all_tables

T = TypeVar("T")

ROLES = ("anonymous", "agent_a", "agent_b", "manager", "admin")
MAX_ATTACHMENT_BYTES = 200_000


@dataclass
class Api:
    """A running app, its client, and the staff made for the test."""

    app: Litestar
    client: TestClient[Litestar]
    tokens: dict[str, str] = field(default_factory=dict)
    agent_ids: dict[str, int] = field(default_factory=dict)
    team_a: int = 0
    team_b: int = 0

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the app's event loop and return its result."""
        return self.client.blocking_portal.call(fn, *args)

    def headers(self, role: str) -> dict[str, str]:
        """The Authorization header of ``role`` (none for "anonymous")."""
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}

    def request(self, role: str, method: str, url: str, **kwargs: Any) -> Any:
        """One request as ``role``."""
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.request(role, "GET", url, **kwargs)

    def post(self, url: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.request(role, "POST", url, **kwargs)

    def patch(self, url: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.request(role, "PATCH", url, **kwargs)

    def put(self, url: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.request(role, "PUT", url, **kwargs)

    def make_case(self, team: int | None = None, **fields: Any) -> CaseOut:
        """A case opened through the service (not the API), in ``team``."""
        data = CaseCreate(
            subject=fields.pop("subject", "Không đăng nhập được"),
            body=fields.pop("body", "Tôi không đăng nhập được vào tài khoản."),
            customer_email=fields.pop("customer_email", "khach@example.vn"),
            team_id=team,
            **fields,
        )
        return self.run(cases.open_case, SYSTEM, data)

    @contextmanager
    def count_queries(self) -> Iterator[list[str]]:
        """Record every SQL statement the app's engine runs inside the block."""
        engine = self.app.state.runtime.engine
        seen: list[str] = []
        original = engine.run_querystring

        async def counting(querystring: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(str(querystring))
            return await original(querystring, *args, **kwargs)

        engine.run_querystring = counting
        try:
            yield seen
        finally:
            del engine.run_querystring


async def _reset_database(engine: Any, db_kind: str) -> None:
    if db_kind == "postgres":
        names = ", ".join(
            f'"{t._meta.tablename}"'
            for t in all_tables()
            if t._meta.tablename != "schema_migrations"
        )
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        await migrate(engine)


async def _seed(api: Api) -> None:
    team_a = await teams.create_team(SYSTEM, TeamIn(name="Team A"))
    team_b = await teams.create_team(SYSTEM, TeamIn(name="Team B"))
    api.team_a, api.team_b = team_a.id, team_b.id
    staff = {
        "admin": (Role.ADMIN, None),
        "manager": (Role.MANAGER, None),
        "agent_a": (Role.AGENT, team_a.id),
        "agent_b": (Role.AGENT, team_b.id),
    }
    for name, (role, team_id) in staff.items():
        agent = await agents.create_agent(
            SYSTEM, AgentIn(name=name.title(), email=f"{name}@support.test", role=role)
        )
        if team_id is not None:
            await teams.update_team(SYSTEM, team_id, TeamUpdate(member_ids=[agent.id]))
        api.agent_ids[name] = agent.id
        api.tokens[name] = (await api_tokens.create_token(SYSTEM, agent.id, "tests")).token


class _ServerErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """Errors logged by the problem mapping (a 500 answered somewhere)."""
    handler = _ServerErrors()
    logger = logging.getLogger("helpdesk.api.problems")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def api(
    database_url: str,
    db_kind: str,
    tmp_path: Path,
    server_errors: list[logging.LogRecord],
    request: pytest.FixtureRequest,
) -> Iterator[Api]:
    """The app on an empty database of the engine under test, with an admin,
    a manager, an agent in team A and an agent in team B, each with a token.

    The test fails if any request was answered with a 500 (unless it is
    marked ``allow_server_errors``).
    """
    settings = load_settings(
        {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_MAX_ATTACHMENT_BYTES": str(MAX_ATTACHMENT_BYTES),
        }
    )
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        api = Api(app=app, client=client)
        api.run(_reset_database, app.state.runtime.engine, db_kind)
        api.run(_seed, api)
        yield api
    if not request.node.get_closest_marker("allow_server_errors"):
        assert not server_errors, [r.getMessage() for r in server_errors]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_server_errors: the test provokes a 500 on purpose")
