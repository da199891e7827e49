"""The fault-injection soak of issue 11, scaled to fit CI (see :mod:`tests.soak`).

Scale-out mode, 2 web + 2 worker processes, the real PostgreSQL, a private
Redis without persistence, an SMTP sink; a bounded load of cases, replies and
solves while a web process, a worker, Redis and the database connections fail
one at a time. Everything acknowledged must be there exactly once, routed,
timed and mailed, and every console must have seen every event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration._processes import PrivateRedis, reset_postgres
from tests.mailservers import SmtpSink
from tests.soak import SoakConfig, Stack, run_soak

pytestmark = [pytest.mark.timeout(400), pytest.mark.serial]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


def test_nothing_acknowledged_is_lost_through_faults(
    postgres_url: str, private_redis: PrivateRedis, sink: SmtpSink, tmp_path: Path
) -> None:
    reset_postgres(postgres_url)
    stack = Stack(postgres_url, private_redis, sink, tmp_path)
    config = SoakConfig(pause_seconds=0.5)  # a load the two workers keep up with
    try:
        report = asyncio.run(run_soak(stack, config))
    finally:
        stack.stop()
    logs = "\n".join(f"--- {d.name}\n{d.tail(30)}" for d in stack.daemons.started)
    assert report.problems == [], f"{report}\n{logs}"
    assert report.counts["cases acknowledged"] >= 20, report
    assert report.counts["web-form cases"] == config.web_form_cases
    # and the work made while Redis was down ran within 10 s of its return
    assert report.recovery_seconds["3. stop_redis"] <= 10, report
    # and every process stops on SIGTERM alone, with status 0 (but the two
    # first instances of web0 and worker0, which the soak killed)
    outcomes = [d.process.returncode for d in stack.daemons.started]
    assert outcomes.count(-9) == 2, f"{outcomes}\n{logs}"
    assert set(outcomes) <= {0, -9}, f"{outcomes}\n{logs}"
