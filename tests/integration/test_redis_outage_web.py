"""A real ``helpdesk web`` process (scale-out: PostgreSQL and a private
``redis-server``) through a Redis outage, and after Redis comes back empty.

While Redis is down: the public web form (JSON and HTML) still opens cases,
an agent still signs in, a console websocket is still accepted and served
from the outbox, and one connected before the outage keeps its heartbeat.
After Redis returns (restarted without persistence, so empty) every console
has every event within 10 s, without a reload, and live delivery resumes.
The outage is logged once per component, not once per request.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from agent_console.live import HEARTBEAT_SECONDS
from helpdesk import events
from helpdesk.db import bind_engine, create_engine
from helpdesk.domain import Role
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn
from helpdesk.services import agents
from tests.integration._processes import (
    Daemon,
    Daemons,
    PrivateRedis,
    free_port,
    helpdesk_env,
    reset_postgres,
)

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)

NAMESPACE = "helpdesk-outage"
PASSWORD = "mật-khẩu-đủ-dài-1"
EMAIL = "lan@outage.test"
STREAM = "team:none"  # where cases opened by the web form (not routed: no worker) appear
CSRF = re.compile(r'name="_csrf" value="([0-9a-f]{64})"')


class Console:
    """One console websocket: records the numbers of the events of :data:`STREAM`
    and when pings came, answers the pings."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.seqs: list[int] = []
        self.pings: list[float] = []
        self.subscribed: list[int] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            kind = message["type"]
            if kind == "ping":
                self.pings.append(time.monotonic())
                await self.socket.send('{"op": "pong"}')
            elif kind == "event" and message["stream"] == STREAM:
                self.seqs.append(message["seq"])
            elif kind == "subscribed":
                self.subscribed.append(message["seq"])

    async def subscribe(self, after: int | None) -> int:
        """Follow :data:`STREAM`; the number the server confirmed."""
        await self.socket.send(json.dumps({"op": "subscribe", "stream": STREAM, "after": after}))
        await until(lambda: bool(self.subscribed), 10, "no subscribed frame")
        return self.subscribed[-1]

    async def close(self) -> None:
        await self.socket.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


async def until(check: Callable[[], bool], seconds: float, what: str | Callable[[], str]) -> None:
    """Wait until ``check()``; fail with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(what() if callable(what) else what)
        await asyncio.sleep(0.05)


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in through the console's form; the session cookie header."""
    page = await client.get("/console/login")
    match = CSRF.search(page.text)
    assert match, page.text[:300]
    form = {"email": EMAIL, "password": PASSWORD, "_csrf": match.group(1)}
    response = await client.post("/console/login", data=form)
    assert response.status_code == 303, response.text[:300]
    cookie = client.cookies.get("hd_console")
    client.cookies.clear()
    assert cookie
    return f"hd_console={cookie}"


async def open_console(base_url: str, client: httpx.AsyncClient) -> Console:
    cookie = await sign_in(client)
    socket = await connect(
        base_url.replace("http://", "ws://") + "/console/ws",
        additional_headers={"Cookie": cookie},
        open_timeout=5,
    )
    hello = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert hello["type"] == "hello"
    return Console(socket)


async def web_form(client: httpx.AsyncClient, n: int) -> None:
    """Open a case through the JSON web form (fails the test unless 201, within 3 s)."""
    started = time.monotonic()
    response = await client.post(
        "/api/v1/public/webform",
        json={"name": f"Khách {n}", "email": f"khach{n}@outage.test",
              "subject": f"Yêu cầu {n}", "message": "Xin chào, tôi cần hỗ trợ."},
    )  # fmt: skip
    assert response.status_code == 201, response.text[:300]
    assert time.monotonic() - started < 3.0


async def html_form(client: httpx.AsyncClient, n: int) -> None:
    """Open a case through the HTML form /support/request."""
    response = await client.post(
        "/support/request?lang=vi",
        data={"name": f"Khách {n}", "email": f"khach{n}@outage.test",
              "subject": f"Yêu cầu {n}", "message": "Gửi từ trang web."},
    )  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    assert re.search(r"HD-\d{6}", response.text), response.text[:300]


async def outbox_after(seq: int) -> list[int]:
    """Every number of :data:`STREAM` in the outbox after ``seq``."""
    return list(range(seq + 1, await events.last_seq(STREAM) + 1))


@pytest.fixture
def web(postgres_url: str, private_redis: PrivateRedis, tmp_path: Path) -> Iterator[Any]:
    """``helpdesk web`` on the private Redis; yields (base URL, its daemon)."""
    reset_postgres(postgres_url)

    async def seed() -> None:
        bind_engine(create_engine(postgres_url))
        await agents.create_agent(
            SYSTEM, AgentIn(name="Lan", email=EMAIL, role=Role.ADMIN, password=PASSWORD)
        )

    asyncio.run(seed())
    port = free_port()
    env = helpdesk_env(
        postgres_url, tmp_path / "data", redis_url=private_redis.url, redis_namespace=NAMESPACE
    )
    daemons = Daemons(tmp_path)
    server = daemons.start("web", ["web", "--port", str(port)], env)
    try:
        daemons.wait_healthy(server, f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", server
    finally:
        daemons.assert_all_stopped_cleanly()


async def test_the_web_process_serves_through_a_redis_outage(
    web: tuple[str, Daemon], private_redis: PrivateRedis, postgres_url: str
) -> None:
    base_url, server = web
    bind_engine(create_engine(postgres_url))
    consoles: list[Console] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        try:
            await _scenario(base_url, server, client, private_redis, consoles)
        finally:
            for console in consoles:
                await console.close()


async def _scenario(
    base_url: str,
    server: Daemon,
    client: httpx.AsyncClient,
    redis: PrivateRedis,
    consoles: list[Console],
) -> None:
    # Given a console following the queue, live through Redis
    first = await open_console(base_url, client)
    consoles.append(first)
    start = await first.subscribe(after=None)
    await web_form(client, 0)
    before = await outbox_after(start)
    await until(lambda: first.seqs == before, 3, lambda: f"{first.seqs} != {before}")

    # When Redis dies, the web forms still open cases
    await asyncio.to_thread(redis.stop)
    outage_at = time.monotonic()
    await web_form(client, 1)
    await html_form(client, 2)
    # Then the connected console gets them from the outbox, Redis still down
    expected = await outbox_after(start)
    assert len(expected) > len(before)
    await until(lambda: first.seqs == expected, 5, lambda: f"{first.seqs} != {expected}")

    # and a console opened during the outage (signing in too) catches up from the outbox
    second = await open_console(base_url, client)
    consoles.append(second)
    assert await second.subscribe(after=start) == expected[-1]
    assert second.seqs == expected

    # and the first console's heartbeat goes on through the outage
    await until(
        lambda: any(at > outage_at for at in first.pings),
        HEARTBEAT_SECONDS + 2,
        "no ping during the outage",
    )

    # When Redis comes back empty, with a case opened just before and one just after
    await web_form(client, 3)
    await asyncio.to_thread(redis.start)
    back_at = time.monotonic()
    await web_form(client, 4)
    # Then both consoles have every event within 10 s
    expected = await outbox_after(start)

    def both() -> bool:
        return first.seqs == expected and second.seqs == expected

    await until(both, 10 - (time.monotonic() - back_at), lambda: f"{first.seqs}, {second.seqs}")

    # and the process is back on Redis pub/sub: a new case arrives at once
    await until(lambda: "pub/sub reconnected" in server.log.read_text(), 10, server.tail)
    await web_form(client, 5)
    expected = await outbox_after(start)
    await until(both, 3, lambda: f"{first.seqs}, {second.seqs} != {expected}")

    # and the outage was logged once per component, not once per request
    log = server.log.read_text()
    assert log.count("rate limits: Redis unreachable") == 1, server.tail()
    assert log.count("live updates: pub/sub connection lost") == 1, server.tail()


async def test_every_redis_key_of_a_web_process_is_under_its_namespace(
    web: tuple[str, Daemon], private_redis: PrivateRedis
) -> None:
    base_url, _ = web
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        console = await open_console(base_url, client)  # presence, login rate limits
        try:
            await console.subscribe(after=None)
            await web_form(client, 1)  # web form rate limits, jobs
        finally:
            await console.close()
    redis = private_redis.client()
    keys = redis.keys("*")
    redis.close()
    outside = sorted(key for key in keys if not key.startswith(f"{NAMESPACE}:".encode()))
    assert outside == []
    assert any(key.startswith(f"{NAMESPACE}:rl:".encode()) for key in keys), keys
    assert any(key.startswith(f"{NAMESPACE}:console:".encode()) for key in keys), keys
