"""Benchmark: live updates to 500 agent consoles, ``/console/ws``.

Starts a server (see ``bench/README.md``), makes a team with ``--agents``
agents (500) and ``--cases`` of its cases, connects one console websocket per
agent (a signed session cookie, as after signing in), each following the
team's queue stream, then adds internal notes to those cases at ``--rate``
(50) per second for ``--seconds`` (60) through the REST API. Every note is
one event on the team stream, so every console receives every event.

Prints the delivery latency (from the event's outbox ``created_at``, taken
in the transaction, to its arrival at the client): p50, p99, max; the events
lost (numbers a console never received, which must be zero) and doubled; and
the server processes' resident memory.

    python bench/ws_fanout.py                                   # embedded: helpdesk run, SQLite
    python bench/ws_fanout.py --db postgres --web-workers 2     # scale-out: 2 web + worker, Redis

The 500 clients run in this process (asyncio, the `websockets` library),
sharing the 2 cores with the server: their own CPU is part of the latency.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import asyncpg
import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, add_stack_options, percentile

from agent_console._auth import COOKIE
from helpdesk.web.sessions import SessionCodec

RUN_SALT = secrets.token_hex(8)


def session_token(agent_id: int) -> str:
    """The token of the bench agent's console session (a row made by :func:`add_agents`)."""
    return f"bench-{RUN_SALT}-{agent_id}"


def session_rows(ids: list[int], now: datetime) -> list[tuple[str, str, int, datetime, datetime]]:
    """One open console session per agent, as signing in would store it."""
    later = now + timedelta(hours=12)
    return [
        (hashlib.sha256(session_token(i).encode()).hexdigest(), "console", i, now, later)
        for i in ids
    ]


SESSION_COLUMNS = ("digest", "face", "subject_id", "created_at", "expires_at")


def add_agents(database_url: str, team_id: int, count: int) -> list[int]:
    """Insert ``count`` active, available agents into the team; their ids."""
    now = datetime.now(UTC)
    rows = [
        (
            f"Bench agent {n}",
            f"bench-agent-{n}@example.vn",
            "",
            "agent",
            '["vi"]',
            "[]",
            10,
            True,
            "available",
            now,
        )
        for n in range(count)
    ]
    columns = (
        "name",
        "email",
        "password_hash",
        "role",
        "languages",
        "skills",
        "capacity",
        "active",
        "availability",
        "created_at",
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(unquote(database_url[len("sqlite:///") :]), timeout=30) as db:
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO agents ({', '.join(columns)}) VALUES ({marks})",
                [[str(v) if isinstance(v, datetime) else v for v in row] for row in rows],
            )
            ids = [
                r[0] for r in db.execute("SELECT id FROM agents WHERE email LIKE 'bench-agent-%'")
            ]
            db.executemany(
                'INSERT INTO team_members ("team", "agent") VALUES (?, ?)',
                [(team_id, i) for i in ids],
            )
            db.executemany(
                f"INSERT INTO web_sessions ({', '.join(SESSION_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                [[str(v) if isinstance(v, datetime) else v for v in row]
                 for row in session_rows(ids, now)],
            )  # fmt: skip
        db.close()
        return ids

    async def load() -> list[int]:
        db = await asyncpg.connect(database_url)
        try:
            await db.copy_records_to_table("agents", records=rows, columns=list(columns))
            ids = [
                r["id"]
                for r in await db.fetch("SELECT id FROM agents WHERE email LIKE 'bench-agent-%'")
            ]
            await db.executemany(
                'INSERT INTO team_members ("team", "agent") VALUES ($1, $2)',
                [(team_id, i) for i in ids],
            )
            await db.copy_records_to_table(
                "web_sessions", records=session_rows(ids, now), columns=list(SESSION_COLUMNS)
            )
            return ids
        finally:
            await db.close()

    return asyncio.run(load())


def cookie_for(secret_key: str, agent_id: int) -> str:
    """A signed console session cookie of the agent, as after signing in."""
    codec = SessionCodec(secret_key, COOKIE)
    session = codec.new_session()
    session.start(agent_id, session_token(agent_id))
    return f"{COOKIE.cookie_name}={codec.dumps(session)}"


_decode = msgspec.json.Decoder().decode


class Console:
    """One agent's websocket: what it received, when."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.doubled = 0
        self.closed_by = ""
        self.ready = asyncio.Event()

    async def run(
        self, url: str, origin: str, cookie: str, stream: str, stop: asyncio.Event
    ) -> None:
        async with connect(
            url,
            additional_headers={"Cookie": cookie, "Origin": origin},
            max_queue=None,
            ping_interval=None,
        ) as socket:
            await socket.send(json.dumps({"op": "subscribe", "stream": stream, "after": None}))
            receiving = asyncio.create_task(self._receive(socket))
            await stop.wait()
            receiving.cancel()

    async def _receive(self, socket: ClientConnection) -> None:
        try:
            await self._read(socket)
        except ConnectionClosed as exc:
            self.closed_by = f"{exc.rcvd.code if exc.rcvd else '?'}"

    async def _read(self, socket: ClientConnection) -> None:
        async for raw in socket:
            now = time.time()
            message = _decode(raw)
            kind = message["type"]
            if kind == "event":
                if message["seq"] in self.arrivals:
                    self.doubled += 1
                self.arrivals.setdefault(message["seq"], now)
            elif kind == "subscribed":
                self.ready.set()
            elif kind == "ping":
                await socket.send('{"op": "pong"}')


async def produce(base: str, token: str, case_ids: list[int], rate: float, seconds: float) -> int:
    """Add notes at ``rate`` per second (at most 16 in flight); the number added.

    A server that cannot keep up makes the rate fall behind: the printed
    figures then say how many were produced in how long.
    """
    headers = {"Authorization": f"Bearer {token}"}
    count = int(rate * seconds)
    start = time.monotonic()
    in_flight = asyncio.Semaphore(16)
    failures: list[str] = []
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        async with in_flight:
            case_id = case_ids[n % len(case_ids)]
            try:
                response = await client.post(
                    f"/api/v1/cases/{case_id}/notes", json={"body": f"Ghi chú {n}"}
                )
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
                return
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=httpx.Timeout(60, pool=None), limits=limits
    ) as client:
        pending = []
        for n in range(count):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(client, n)))
        await asyncio.gather(*pending)
    took = time.monotonic() - start
    print(f"  produced {count - len(failures)} events in {took:.1f} s "
          f"({(count - len(failures)) / took:.1f}/s)")  # fmt: skip
    if failures:
        print(f"  {len(failures)} notes failed, e.g. {failures[0]}")
    return count - len(failures)


async def event_times(database_url: str, stream: str) -> dict[int, float]:
    """The outbox ``created_at`` (epoch seconds) of each event of ``stream``."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(unquote(database_url[len("sqlite:///") :])) as db:
            rows = db.execute(
                "SELECT seq, created_at FROM outbox_events WHERE stream = ?", (stream,)
            ).fetchall()
        db.close()
        return {seq: datetime.fromisoformat(at).timestamp() for seq, at in rows}
    db = await asyncpg.connect(database_url)
    try:
        rows = await db.fetch("SELECT seq, created_at FROM outbox_events WHERE stream = $1", stream)
    finally:
        await db.close()
    return {r["seq"]: r["created_at"].timestamp() for r in rows}


def rss_mib(pids: list[int]) -> float:
    """Resident memory of the processes and their children, MiB."""
    total = 0
    for pid in pids:
        for child in [pid, *_children(pid)]:
            try:
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    found = [int(p) for p in text.split()]
    return found + [g for c in found for g in _children(c)]


async def measure(
    args: argparse.Namespace,
    stack: Stack,
    team_id: int,
    case_ids: list[int],
    agent_ids: list[int],
    secret: str,
) -> None:
    stream = f"team:{team_id}"
    ws_url = stack.url.replace("http://", "ws://") + "/console/ws"
    stop = asyncio.Event()
    consoles = [Console() for _ in agent_ids]
    tasks = [
        asyncio.create_task(c.run(ws_url, stack.url, cookie_for(secret, a), stream, stop))
        for c, a in zip(consoles, agent_ids, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in consoles)), 120)
    print(f"  {len(consoles)} consoles connected and following {stream}")
    produced = await produce(stack.url, stack.token, case_ids, args.rate, args.seconds)
    expected_count = produced
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if all(len(c.arrivals) >= expected_count for c in consoles):
            break
        await asyncio.sleep(0.2)
    memory = rss_mib(stack.server_pids)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    created = await event_times(stack.database_url, stream)
    first = min(min(c.arrivals) for c in consoles if c.arrivals)
    expected = {seq for seq in created if seq >= first}
    latencies = [
        (at - created[seq]) * 1000
        for c in consoles
        for seq, at in c.arrivals.items()
        if seq in created
    ]
    lost = sum(len(expected - set(c.arrivals)) for c in consoles)
    doubled = sum(c.doubled for c in consoles)
    print(
        f"  {produced} events at {args.rate:g}/s for {args.seconds:g} s -> "
        f"{len(latencies):,} deliveries"
    )
    print(
        f"  delivery latency p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms; "
        f"lost {lost}, doubled {doubled}"
    )
    print(
        f"  server memory: {memory:.0f} MiB resident ({len(stack.server_pids)} process(es) "
        "and their children)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_options(parser)
    parser.add_argument("--agents", type=int, default=500, help="console websockets")
    parser.add_argument("--cases", type=int, default=20, help="cases the notes go to")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long")
    args = parser.parse_args()
    with Stack(args) as stack:
        stack.start()
        print(f"ws_fanout: {stack.describe()}")
        headers = {"Authorization": f"Bearer {stack.token}"}
        with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as client:
            team = client.post("/api/v1/teams", json={"name": "Bench team"}).json()["id"]
            case_ids = [
                client.post(
                    "/api/v1/cases",
                    json={
                        "subject": f"Bench {n}",
                        "body": "Xin chào",
                        "team_id": team,
                        "customer_email": f"bench-{n}@example.vn",
                    },
                ).json()["id"]
                for n in range(args.cases)
            ]
        agent_ids = add_agents(stack.database_url, team, args.agents)
        secret = (
            stack.env.get("HELPDESK_SECRET_KEY")
            or (stack.workdir / "data" / "secret_key").read_text().strip()
        )
        time.sleep(2)  # let routing of the new cases settle
        try:
            asyncio.run(measure(args, stack, team, case_ids, agent_ids, secret))
        finally:
            for log in stack.workdir.glob("*.log"):
                errors = [line for line in log.read_text(errors="replace").splitlines()
                          if "Traceback" in line or "ERROR" in line]  # fmt: skip
                if errors:
                    print(f"  {log.name}: {len(errors)} error lines; the first:")
                    text = log.read_text(errors="replace")
                    start = text.find("Traceback")
                    print(text[start : start + 3000])


if __name__ == "__main__":
    main()
