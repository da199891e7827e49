"""A fault-injection soak of the scale-out mode, shared by the test suite
(``tests/integration/test_fault_soak.py``, short) and ``bench/soak.py`` (longer).

Two ``helpdesk web`` and two ``helpdesk worker`` processes run on a PostgreSQL
database and a private Redis without persistence, sending mail to an SMTP
sink. Clients open cases (API and public web form), reply and solve, each
write with an ``Idempotency-Key`` and retried against the other web process
until it is acknowledged, as a client behind a load balancer would. Two
consoles follow the team's stream over ``/console/ws`` and reconnect (to the
other process, resuming from their last number) when dropped. Meanwhile the
faults come one at a time: a web process killed (SIGKILL) and restarted, a
worker killed and restarted, Redis stopped and started empty, and every
database connection of the app terminated.

Then :func:`check` compares what was acknowledged with the database and the
sink: every acknowledged case exists once, every case is routed and has SLA
timers, every reply, acknowledgement and survey was mailed exactly once (one
more copy only where the desk recorded an unknown SMTP outcome), no
job is left, and each console saw every event of the stream, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import connect

from helpdesk import events
from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.domain import Availability, Priority, Role
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import AgentIn, AgentUpdate, TeamIn
from helpdesk.services import agents, api_tokens, teams
from helpdesk.sla import services as sla
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.policies import Targets
from helpdesk.sla.schemas import CalendarIn, PolicyIn
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.tables import Case, Job, Message
from tests.integration._processes import Daemon, Daemons, PrivateRedis, free_port, helpdesk_env
from tests.mailservers import SmtpSink

PASSWORD = "mật-khẩu-soak-đủ-dài"
ADMIN = "soak-admin@soak.test"
CSRF = re.compile(r'name="_csrf" value="([0-9a-f]{64})"')
RETRYABLE = (httpx.TransportError,)


@dataclass
class SoakConfig:
    """How long and how hard; the faults run in this order, one per phase."""

    phase_seconds: float = 6.0
    clients: int = 4
    pause_seconds: float = 0.0
    """Each client's pause between two cases (0: as fast as answers come)."""
    web_form_cases: int = 12
    redis_down_seconds: float = 5.0
    settle_seconds: float = 260.0
    """Longer than the outbound mail claim (3 min) and the relay's stale re-send
    (2 min): the last resorts for work cut off by a killed worker."""
    faults: tuple[str, ...] = ("kill_web", "kill_worker", "stop_redis", "terminate_db")


@dataclass
class Acknowledged:
    """What the clients were told happened."""

    cases: dict[str, int] = field(default_factory=dict)  # subject → case id
    web_form_cases: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)  # message ids
    solved: list[int] = field(default_factory=list)  # case ids
    retries: int = 0


@dataclass
class SoakReport:
    """The counts and times a soak measured; ``problems`` empty when it held."""

    counts: dict[str, int] = field(default_factory=dict)
    recovery_seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class Stack:
    """The processes and servers of one soak."""

    def __init__(self, postgres_url: str, redis: PrivateRedis, sink: SmtpSink, tmp: Path) -> None:
        self.postgres_url = postgres_url
        self.redis = redis
        self.sink = sink
        self.daemons = Daemons(tmp)
        self.env = helpdesk_env(
            postgres_url, tmp / "data", redis_url=redis.url,
            redis_namespace=f"soak-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        self.env["HELPDESK_SLA_SWEEP_SECONDS"] = "5"
        self.ports = [free_port(), free_port()]
        self.webs: list[Daemon] = []
        self.workers: list[Daemon] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start(self) -> None:
        self.webs = [self._web(n) for n in range(2)]
        self.workers = [self._worker(n) for n in range(2)]
        for daemon, url in zip(self.webs, self.urls, strict=True):
            self.daemons.wait_healthy(daemon, url)

    def _web(self, n: int) -> Daemon:
        return self.daemons.start(f"web{n}", ["web", "--port", str(self.ports[n])], self.env)

    def _worker(self, n: int) -> Daemon:
        return self.daemons.start(f"worker{n}", ["worker"], self.env)

    async def kill_web(self) -> None:
        self.webs[0].process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.webs[0].process.wait, 10)
        await asyncio.sleep(1.0)
        self.webs[0] = self._web(0)
        await asyncio.to_thread(self.daemons.wait_healthy, self.webs[0], self.urls[0])

    async def kill_worker(self) -> None:
        self.workers[0].process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.workers[0].process.wait, 10)
        await asyncio.sleep(1.0)
        self.workers[0] = self._worker(0)

    async def stop_redis(self, down_seconds: float) -> None:
        await asyncio.to_thread(self.redis.stop)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(self.redis.start)  # empty: it keeps nothing on disk

    async def terminate_db(self) -> None:
        database = self.postgres_url.rsplit("/", 1)[-1]
        admin = await asyncpg.connect(self.postgres_url)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        finally:
            await admin.close()

    def stop(self) -> dict[str, tuple[int, bool]]:
        """SIGTERM every process; (exit status, had to be killed) per process."""
        return self.daemons.stop_all()


async def seed(postgres_url: str, sink: SmtpSink) -> tuple[str, int]:
    """Admin and agents, a default round-robin team, a short SLA policy and a
    mailbox sending to the sink; (API token, team id)."""
    engine = create_engine(postgres_url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        admin = await agents.create_agent(
            SYSTEM, AgentIn(name="Quản trị", email=ADMIN, role=Role.ADMIN, password=PASSWORD)
        )
        token = (await api_tokens.create_token(SYSTEM, admin.id, "soak")).token
        members = []
        for n in range(3):
            agent = await agents.create_agent(
                SYSTEM, AgentIn(name=f"Nhân viên {n}", email=f"agent{n}@soak.test", capacity=1000)
            )
            await agents.update_agent(
                SYSTEM, agent.id, AgentUpdate(availability=Availability.AVAILABLE)
            )
            members.append(agent.id)
        team = await teams.create_team(
            SYSTEM, TeamIn(name="Hỗ trợ", is_default=True, member_ids=members)
        )
        await routing.set_team_routing(
            SYSTEM, team.id, TeamRoutingIn(strategy=Strategy.ROUND_ROBIN)
        )
        calendar = await sla.create_calendar(
            SYSTEM, CalendarIn(name="24/7", definition=BusinessCalendar.always_open().to_dict())
        )
        quick = Targets(
            first_response=timedelta(seconds=20),
            next_response=timedelta(minutes=30),
            resolution=timedelta(hours=8),
        )
        await sla.create_policy(
            SYSTEM,
            PolicyIn(name="Soak", targets=dict.fromkeys(Priority, quick), calendar_id=calendar.id),
        )
        await create_mailbox(
            SYSTEM,
            MailboxIn(
                name="Hỗ trợ", address="support@soak.test", imap_host="127.0.0.1", imap_port=1,
                imap_security="plain", imap_user="support", imap_password="unused",
                smtp_host=sink.host, smtp_port=sink.port, smtp_security="plain",
            ),
        )  # fmt: skip
        return token, team.id
    finally:
        await close_pool(engine)


class Balancer:
    """Sends each request to the next web process; retries a request that got
    no answer or a 5xx on the other one, with the same Idempotency-Key, until
    it is answered (or ``deadline`` seconds pass)."""

    def __init__(self, urls: list[str], acked: Acknowledged, deadline: float = 60.0) -> None:
        self.urls = urls
        self.acked = acked
        self.deadline = deadline
        self.turn = 0
        self.client = httpx.AsyncClient(timeout=10.0)

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Idempotency-Key": uuid.uuid4().hex}
        give_up = time.monotonic() + self.deadline
        last = ""
        while True:
            self.turn += 1
            url = self.urls[self.turn % len(self.urls)] + path
            try:
                response = await self.client.request(method, url, headers=headers, **kwargs)
                if response.status_code < 500 and not _key_in_use(response):
                    return response
                last = f"{response.status_code} {response.text[:300]}"
            except RETRYABLE as exc:
                last = repr(exc)
            if time.monotonic() > give_up:
                raise AssertionError(
                    f"{method} {path} never answered within {self.deadline} s; last: {last}"
                )
            self.acked.retries += 1
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        await self.client.aclose()


def _key_in_use(response: httpx.Response) -> bool:
    """True for the answer "a request with this key is still running" (409)."""
    return _problem_code(response) == "idempotency_key_in_use"


def _problem_code(response: httpx.Response) -> str | None:
    if response.status_code != 409:
        return None
    with contextlib.suppress(ValueError):
        return str(response.json().get("code"))
    return None


def _changed(response: httpx.Response, event_type: str, field_name: str) -> int | None:
    """From an answer, or from the events of a change whose answer was lost
    (``409 idempotency_answer_lost``), the ``field_name`` of an ``event_type``."""
    if _problem_code(response) != "idempotency_answer_lost":
        return None
    for change in response.json()["changes"]:
        if change["type"] == event_type:
            return int(change[field_name])
    raise AssertionError(f"no {event_type} in {response.text[:300]}")


async def client_loop(
    balancer: Balancer, token: str, stop: asyncio.Event, pause: float = 0.0
) -> None:
    """Open a case, reply to it, solve it; again (after ``pause`` s) until ``stop``."""
    auth = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        if pause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
        subject = f"Soak {uuid.uuid4().hex[:12]}"
        opened = await balancer.send(
            "POST", "/api/v1/cases", headers=auth,
            json={"subject": subject, "body": "Xin hỗ trợ giúp tôi.",
                  "customer_email": f"{subject[5:]}@khach.test", "customer_name": "Khách"},
        )  # fmt: skip
        case_id = _changed(opened, "case.opened", "case_id")
        if case_id is None:
            assert opened.status_code == 201, opened.text[:300]
            case_id = int(opened.json()["id"])
        balancer.acked.cases[subject] = case_id
        replied = await balancer.send(
            "POST", f"/api/v1/cases/{case_id}/messages", headers=auth,
            json={"body": "Chúng tôi đã nhận được yêu cầu của Quý khách."},
        )  # fmt: skip
        message_id = _changed(replied, "case.message_added", "message_id")
        if message_id is None:
            assert replied.status_code == 201, replied.text[:300]
            message_id = int(replied.json()["id"])
        balancer.acked.replies.append(message_id)
        await solve(balancer, auth, case_id)


async def solve(balancer: Balancer, auth: dict[str, str], case_id: int) -> None:
    """Set the case solved (reading its version first, again after a conflict)."""
    while True:
        current = await balancer.send("GET", f"/api/v1/cases/{case_id}", headers=auth)
        version = current.json()["version"]
        solved = await balancer.send(
            "PATCH", f"/api/v1/cases/{case_id}", headers=auth,
            json={"version": version, "status": "solved"},
        )  # fmt: skip
        if solved.status_code == 200 or _changed(solved, "case.updated", "case_id"):
            balancer.acked.solved.append(case_id)
            return
        assert solved.status_code == 409, solved.text[:300]


async def web_form_loop(balancer: Balancer, count: int, every: float, stop: asyncio.Event) -> None:
    """Open ``count`` cases through the public web form, one every ``every`` seconds."""
    for n in range(count):
        subject = f"Soak form {uuid.uuid4().hex[:12]}"
        response = await balancer.send(
            "POST", "/api/v1/public/webform",
            json={"name": f"Khách {n}", "email": f"{subject[10:]}@form.test",
                  "subject": subject, "message": "Tôi cần hỗ trợ về đơn hàng."},
        )  # fmt: skip
        case_id = _changed(response, "case.opened", "case_id")
        if case_id is None:
            assert response.status_code == 201, response.text[:300]
            case_id = int(response.json()["case_id"])
        balancer.acked.cases[subject] = case_id
        balancer.acked.web_form_cases.append(case_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


class LiveConsole:
    """A console following one stream; reconnects to the next web process and
    resumes from its last number whenever its socket drops."""

    def __init__(self, urls: list[str], cookie: str, stream: str, first: int) -> None:
        self.urls = urls
        self.cookie = cookie
        self.stream = stream
        self.first = first
        self.seqs: list[int] = []
        self.reconnects = 0
        self.reloads = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        turn = self.first
        while True:
            url = self.urls[turn % len(self.urls)].replace("http://", "ws://") + "/console/ws"
            with contextlib.suppress(Exception):  # any drop: reconnect and resume
                await self._follow(url)
            self.reconnects += 1
            turn += 1
            await asyncio.sleep(0.3)

    async def _follow(self, url: str) -> None:
        headers = {"Cookie": self.cookie}
        async with connect(url, additional_headers=headers, open_timeout=5) as socket:
            after = self.seqs[-1] if self.seqs else 0
            subscribe = {"op": "subscribe", "stream": self.stream, "after": after}
            await socket.send(json.dumps(subscribe))
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await socket.send('{"op": "pong"}')
                elif message["type"] == "event" and message["stream"] == self.stream:
                    self.seqs.append(int(message["seq"]))
                elif message["type"] == "reload":
                    self.reloads += 1

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def sign_in(url: str) -> str:
    """The console session cookie of the soak's admin."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        page = await client.get("/console/login")
        match = CSRF.search(page.text)
        assert match, page.text[:300]
        form = {"email": ADMIN, "password": PASSWORD, "_csrf": match.group(1)}
        response = await client.post("/console/login", data=form)
        assert response.status_code == 303, response.text[:300]
        return f"hd_console={client.cookies.get('hd_console')}"


async def run_soak(stack: Stack, config: SoakConfig) -> SoakReport:
    """Start the stack, run the load through the faults, settle, and check."""
    token, team_id = await seed(stack.postgres_url, stack.sink)
    await asyncio.to_thread(stack.start)
    acked = Acknowledged()
    balancer = Balancer(stack.urls, acked)
    stream = events.team_stream(team_id)
    cookie = await sign_in(stack.urls[1])
    consoles = [LiveConsole(stack.urls, cookie, stream, first=n) for n in range(2)]
    report = SoakReport()
    stop = asyncio.Event()
    total = config.phase_seconds * (len(config.faults) + 1)
    load = [
        asyncio.create_task(client_loop(balancer, token, stop, config.pause_seconds))
        for _ in range(config.clients)
    ]
    load.append(asyncio.create_task(
        web_form_loop(balancer, config.web_form_cases, total / config.web_form_cases, stop)
    ))  # fmt: skip
    recoveries: list[asyncio.Task[None]] = []
    try:
        for number, fault in enumerate(config.faults, start=1):
            await asyncio.sleep(config.phase_seconds)
            await inject(stack, fault, config)
            label = f"{number}. {fault}"
            recoveries.append(asyncio.create_task(recovery(stack, label, report)))
        await asyncio.sleep(config.phase_seconds)
        stop.set()
        await asyncio.gather(*load)
        await asyncio.wait(recoveries, timeout=config.settle_seconds)
        loaded = time.monotonic()
        report.problems = await settle(stack, acked, consoles, stream, config.settle_seconds)
        report.recovery_seconds["settled_after_load"] = round(time.monotonic() - loaded, 1)
        report.counts = {**await counts(stack, acked, consoles), **report.counts}
    finally:
        stop.set()
        for task in [*load, *recoveries]:
            task.cancel()
        await asyncio.gather(*load, *recoveries, return_exceptions=True)
        for console in consoles:
            await console.close()
        await balancer.close()
    return report


async def recovery(stack: Stack, label: str, report: SoakReport) -> None:
    """Record how long after a fault ended every job made and due before that
    moment was done (the work the fault held up), in ``report.recovery_seconds[label]``."""
    ended = time.monotonic()
    cutoff = await _database_now(stack.postgres_url)
    backlog: int | None = None
    while True:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            connection = await asyncpg.connect(stack.postgres_url)
            try:
                left = await connection.fetchval(
                    "SELECT count(*) FROM jobs WHERE created_at <= $1 AND failed_at IS NULL"
                    " AND (run_at IS NULL OR run_at <= $1)",
                    cutoff,
                )
            finally:
                await connection.close()
            backlog = left if backlog is None else backlog
            if left == 0:
                report.recovery_seconds[label] = round(time.monotonic() - ended, 1)
                report.counts[f"jobs pending after {label}"] = backlog
                return
        await asyncio.sleep(0.2)


async def _database_now(url: str) -> Any:
    while True:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            connection = await asyncpg.connect(url)
            try:
                return await connection.fetchval("SELECT now()")
            finally:
                await connection.close()
        await asyncio.sleep(0.2)


async def inject(stack: Stack, fault: str, config: SoakConfig) -> None:
    if fault == "kill_web":
        await stack.kill_web()
    elif fault == "kill_worker":
        await stack.kill_worker()
    elif fault == "stop_redis":
        await stack.stop_redis(config.redis_down_seconds)
    elif fault == "terminate_db":
        await stack.terminate_db()
    else:
        raise ValueError(f"unknown fault {fault!r}")


async def settle(
    stack: Stack,
    acked: Acknowledged,
    consoles: list[LiveConsole],
    stream: str,
    seconds: float,
) -> list[str]:
    """Wait until every check holds (or ``seconds`` pass); the problems left."""
    engine = create_engine(stack.postgres_url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        deadline = time.monotonic() + seconds
        while True:
            problems = await check(stack, acked, consoles, stream)
            if not problems or time.monotonic() > deadline:
                return problems
            await asyncio.sleep(0.5)
    finally:
        await close_pool(engine)


async def check(
    stack: Stack, acked: Acknowledged, consoles: list[LiveConsole], stream: str
) -> list[str]:
    """Every way what was acknowledged and what exists may disagree, as messages."""
    problems: list[str] = []
    rows = await Case.select(Case.id, Case.subject, Case.routed_at)
    by_subject = Counter(row["subject"] for row in rows)
    doubled = [s for s, n in by_subject.items() if s.startswith("Soak") and n > 1]
    missing = [s for s in acked.cases if by_subject[s] == 0]
    unacked = [s for s in by_subject if s.startswith("Soak") and s not in acked.cases]
    unrouted = [row["id"] for row in rows if row["routed_at"] is None]
    timed = {row["case"] for row in await CaseSlaTimer.select(CaseSlaTimer.case)}
    untimed = [row["id"] for row in rows if row["id"] not in timed]
    findings = {
        "cases stored twice": doubled,
        "acknowledged cases missing": missing,
        "cases stored but never acknowledged": unacked,
        "cases not routed": unrouted,
        "cases without SLA timers": untimed,
    }
    for label, items in findings.items():
        if items:
            problems.append(f"{len(items)} {label}: {items[:5]}")
    problems += await mail_problems(stack.sink, acked)
    left = await Job.select(Job.id, Job.actor, Job.args, Job.attempts, Job.last_error)
    if left:
        problems.append(f"{len(left)} jobs left: {left[:6]}; {where_in_redis(stack, left[:6])}")
    last = await events.last_seq(stream)
    for n, console in enumerate(consoles):
        if console.seqs != list(range(1, last + 1)):
            problems.append(f"console {n} saw {len(console.seqs)} of {last} events, in order: "
                            f"{console.seqs == sorted(set(console.seqs))}")  # fmt: skip
    return problems


def where_in_redis(stack: Stack, jobs: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Which Redis keys of the broker mention each job's message (for a failure's message)."""
    client = stack.redis.client()
    namespace = stack.env["HELPDESK_REDIS_NAMESPACE"]
    found: dict[int, list[str]] = {}
    try:
        keys = [k.decode() for k in client.scan_iter(match=f"{namespace}*", count=500)]
        for job in jobs:
            message_id = f"job-{job['id']}"
            found[job["id"]] = [
                k
                for k in keys
                if (client.type(k) == b"hash" and client.hexists(k, message_id))
                or (client.type(k) == b"set" and client.sismember(k, message_id))
                or (client.type(k) == b"list" and message_id.encode() in client.lrange(k, 0, -1))
                or (client.type(k) == b"zset" and client.zscore(k, message_id) is not None)
            ]
    finally:
        client.close()
    return found


async def mail_problems(sink: SmtpSink, acked: Acknowledged) -> list[str]:
    """Each acknowledged reply, web-form acknowledgement and solve's survey
    mailed exactly once; nothing mailed twice.

    Except where the desk recorded an unknown outcome (``unknown_outcomes``):
    a sender died after the SMTP server may have accepted the mail and before
    that was stored, and SMTP gives no way to ask. Such a mail is sent again
    under the same Message-ID and may arrive once more than it should; one
    extra copy per recorded unknown outcome is allowed, none otherwise.
    """
    sent = Counter(_message_id(m.data) for m in sink.messages)
    rows = await OutboundMail.select(
        OutboundMail.kind, OutboundMail.message, OutboundMail.case,
        OutboundMail.message_id, OutboundMail.status, OutboundMail.unknown_outcomes,
    )  # fmt: skip
    allowed: dict[str, int] = {r["message_id"]: 1 + r["unknown_outcomes"] for r in rows}

    def once(message_id: str) -> bool:
        return 1 <= sent[message_id] <= allowed.get(message_id, 1)

    problems = [f"mailed {n} times: {mid}" for mid, n in sent.items() if n > allowed.get(mid, 1)][
        :5
    ]
    replies = {row["message"]: row for row in rows if row["kind"] == "reply"}
    acks = {row["case"]: row for row in rows if row["kind"] == "acknowledgement"}
    surveys = sum(1 for row in rows if row["kind"] == "survey")
    customer = {r["id"] for r in await Message.select(Message.id).where(Message.kind == "reply")}
    wanted = [("reply", replies, acked.replies), ("acknowledgement", acks, acked.web_form_cases)]
    for kind, found, keys in wanted:
        unsent = [k for k in keys if k not in found or not once(found[k]["message_id"])]
        if unsent:
            problems.append(f"{len(unsent)} {kind} mails not sent exactly once: {unsent[:5]}")
    if surveys != len(set(acked.solved)):  # survey mails belong to no case: count them
        problems.append(f"{surveys} surveys queued for {len(set(acked.solved))} solved cases")
    unsent_rows = [row["message_id"] for row in rows if not once(row["message_id"])]
    if unsent_rows:
        problems.append(f"{len(unsent_rows)} queued mails not in the sink once: {unsent_rows[:3]}")
    if len(customer) < len(acked.replies):
        problems.append("fewer stored replies than acknowledged")
    return problems


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def _message_id(data: bytes) -> str:
    """The Message-ID header of a raw mail (the sink keeps the bytes sent)."""
    found = _MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
    return found.group(1).decode() if found else ""


async def counts(stack: Stack, acked: Acknowledged, consoles: list[LiveConsole]) -> dict[str, int]:
    """The figures a soak prints."""
    engine = create_engine(stack.postgres_url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        return {
            "cases acknowledged": len(acked.cases),
            "cases stored": int(await Case.count()),
            "web-form cases": len(acked.web_form_cases),
            "replies acknowledged": len(acked.replies),
            "solves acknowledged": len(acked.solved),
            "requests retried": acked.retries,
            "mails sent": len(stack.sink.messages),
            "console reconnects": sum(c.reconnects for c in consoles),
            "console reloads": sum(c.reloads for c in consoles),
            "jobs left": int(await Job.count()),
        }
    finally:
        await close_pool(engine)
