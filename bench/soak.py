"""The fault-injection soak of issue 11, longer than the test suite's: prints
what was acknowledged and stored, what was mailed, and how long the desk took
to catch up after each fault.

Scale-out mode: 2 ``helpdesk web`` + 2 ``helpdesk worker`` processes on a
fresh PostgreSQL database (from ``HELPDESK_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``), a private ``redis-server``
without persistence (Debian's package) and an SMTP sink, all on 127.0.0.1.
The load and the checks are those of ``tests/soak.py``.

    python bench/soak.py                      # 30 s per phase, 4 clients
    python bench/soak.py --phase-seconds 60 --clients 8 --rounds 2

``recovery`` is, for each fault, the time from the moment it ended (the
process restarted, Redis back, the connections cut) until every job made
before that moment was done.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from helpdesk.db import bind_engine, create_engine
from helpdesk.migrations import migrate
from tests.integration._processes import PrivateRedis
from tests.mailservers import SmtpSink
from tests.soak import SoakConfig, Stack, run_soak

POSTGRES_URL = os.environ.get(
    "HELPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
FAULTS = ("kill_web", "kill_worker", "stop_redis", "terminate_db")


async def admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def fresh_database(name: str) -> str:
    await admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    bind_engine(engine)
    await migrate(engine)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--pause", type=float, default=0.5, help="each client's pause between cases (s)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="times the four faults repeat")
    parser.add_argument("--web-form-cases", type=int, default=15)
    args = parser.parse_args()
    config = SoakConfig(
        phase_seconds=args.phase_seconds,
        clients=args.clients,
        pause_seconds=args.pause,
        web_form_cases=args.web_form_cases,
        faults=FAULTS * args.rounds,
        settle_seconds=300.0,
    )
    name = f"helpdesk_soak_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(fresh_database(name))
    with tempfile.TemporaryDirectory() as tmp:
        redis = PrivateRedis(Path(tmp) / "redis")
        redis.start()
        try:
            with SmtpSink() as sink:
                stack = Stack(url, redis, sink, Path(tmp))
                try:
                    report = asyncio.run(run_soak(stack, config))
                finally:
                    stack.stop()
        finally:
            redis.stop()
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"soak: {len(config.faults)} faults, {config.phase_seconds:g} s per phase, "
          f"{config.clients} clients")  # fmt: skip
    for label, value in report.counts.items():
        print(f"  {label:<28} {value}")
    for fault, seconds in report.recovery_seconds.items():
        print(f"  recovery {fault:<19} {seconds} s")
    for problem in report.problems:
        print(f"  PROBLEM: {problem}")
    print("result: " + ("every acknowledged thing is there, once" if not report.problems
                        else f"{len(report.problems)} problem(s)"))  # fmt: skip
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
