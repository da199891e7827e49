"""Benchmark: open cases over HTTP, ``POST /api/v1/cases``.

Starts a server on a fresh database (see ``bench/README.md``), creates a
default team, then opens ``--cases`` cases with ``--concurrency`` clients,
each with its own keep-alive connection, and prints cases/s and latency
percentiles, the server's CPU time per case, and how long after the last
request the routing worker took to route every case.

    python bench/api_create.py                      # SQLite, helpdesk run
    python bench/api_create.py --db postgres        # web + worker on Redis
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _http import KeepAliveClient
from _stack import Stack, add_stack_options, summary

SUBJECTS = (
    "Không đăng nhập được vào tài khoản",
    "Yêu cầu xuất hoá đơn VAT",
    "Bị trừ tiền hai lần",
    "Ứng dụng bị thoát khi mở báo cáo",
    "Password reset link has expired",
    "Webhook deliveries failing",
    "Need a copy of my invoice",
    "Đơn hàng giao chậm",
)


def payload(n: int, rng: random.Random) -> dict[str, object]:
    """A realistic small case: one of 500 customers, Vietnamese or English."""
    customer = rng.randrange(500)
    return {
        "subject": f"{rng.choice(SUBJECTS)} #{n}",
        "body": "Chào bộ phận hỗ trợ,\n\nTôi cần được hỗ trợ về vấn đề trên. Cảm ơn!\n",
        "customer_email": f"khach{customer}@example.vn",
        "customer_name": f"Khách hàng {customer}",
        "priority": rng.choice(("low", "normal", "normal", "high")),
        "channel": rng.choice(("email", "web", "api")),
        "tags": rng.sample(["billing", "login", "bug", "vip", "invoice"], k=rng.randint(0, 2)),
    }


async def load(url: str, token: str, total: int, concurrency: int) -> tuple[float, list[float]]:
    """Open ``total`` cases from ``concurrency`` clients; (seconds, latencies in ms)."""
    counter = itertools.count()
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        async with KeepAliveClient(url, headers) as client:
            while (n := next(counter)) < total:
                body = json.dumps(payload(n, rng)).encode()
                start = time.perf_counter()
                status, answer = await client.request("POST", "/api/v1/cases", body)
                latencies.append((time.perf_counter() - start) * 1000)
                if status != 201:
                    raise SystemExit(f"POST /api/v1/cases: {status} {answer[:500]!r}")

    start = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(concurrency)))
    return time.perf_counter() - start, latencies


def ensure_default_team(url: str, token: str) -> None:
    """A default team, so that routing has somewhere to send cases."""
    headers = {"Authorization": f"Bearer {token}"}
    teams = httpx.get(f"{url}/api/v1/teams", headers=headers).json()
    if not any(team["is_default"] for team in teams):
        body = {"name": "Hỗ trợ kỹ thuật", "is_default": True}
        response = httpx.post(f"{url}/api/v1/teams", json=body, headers=headers)
        response.raise_for_status()


def wait_routed(url: str, token: str, timeout: float = 300.0) -> float:
    """Seconds until no case is left without a team (i.e. every one was routed)."""
    headers = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        page = httpx.get(f"{url}/api/v1/cases", params={"team_id": 0, "limit": 1}, headers=headers)
        if not page.json()["items"]:
            return time.perf_counter() - start
        time.sleep(0.05)
    return float("nan")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_options(parser)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    with Stack(args) as stack:
        stack.start()
        ensure_default_team(stack.url, stack.token)
        asyncio.run(load(stack.url, stack.token, args.warmup, args.concurrency))
        wait_routed(stack.url, stack.token)
        cpu_before = stack.server_cpu()
        elapsed, latencies = asyncio.run(load(stack.url, stack.token, args.cases, args.concurrency))
        cpu = stack.server_cpu() - cpu_before
        drained = wait_routed(stack.url, stack.token)
        print(f"api_create: {stack.describe()}; {args.cases} cases, {args.concurrency} clients")
        print(f"  throughput {args.cases / elapsed:8.1f} cases/s  ({elapsed:.2f} s)")
        print("  " + summary("POST /api/v1/cases", latencies))
        if stack.server_pids:
            print(f"  server CPU {cpu:.2f} s = {cpu / args.cases * 1000:.2f} ms per case")
        print(f"  every case routed {drained:.2f} s after the last response")


if __name__ == "__main__":
    main()
