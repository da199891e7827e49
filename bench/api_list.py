"""Benchmark: the case list, ``GET /api/v1/cases``, over 100,000 cases.

Loads ``--cases`` cases straight into a fresh database (see ``bench/_bulk.py``),
starts the server, and times, one request at a time on a keep-alive
connection: the first page; a deep keyset page (cursors followed
``--depth`` pages down, then that page fetched repeatedly); and the first
page with filters (status, team, assignee, a common word, a rare case
number), as the admin and as an agent restricted to one team.

    python bench/api_list.py                  # SQLite
    python bench/api_list.py --db postgres    # PostgreSQL (web + worker)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bulk import AGENTS_PER_TEAM, load_cases
from _bulk import add_member as add_team_member
from _stack import Stack, add_stack_options, summary

PAGE = 50


def timed(client: httpx.Client, params: dict[str, object], repeat: int) -> list[float]:
    """Latencies (ms) of ``repeat`` identical requests, after 5 unmeasured ones."""
    latencies = []
    for n in range(repeat + 5):
        start = time.perf_counter()
        response = client.get("/api/v1/cases", params=params)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET /api/v1/cases {params}: {response.status_code} {response.text}")
        if n >= 5:
            latencies.append(elapsed)
    return latencies


def deep_cursor(client: httpx.Client, depth: int) -> str:
    """The cursor of page ``depth + 1``, found by following ``next_cursor``."""
    cursor = None
    for _ in range(depth):
        params: dict[str, object] = {"limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        cursor = client.get("/api/v1/cases", params=params).json()["next_cursor"]
        if cursor is None:
            raise SystemExit(f"fewer than {depth} pages")
    assert cursor is not None
    return cursor


def main() -> None:
    """Load the cases, run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_options(parser)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--depth", type=int, default=100, help="pages to follow for the deep page")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after loading")
    args = parser.parse_args()
    with Stack(args) as stack:
        agent_token = ""
        first_agent = 3
        if not args.url:
            agent_token = stack.cli(
                "create-agent", "--name", "Bench Agent", "--email", "bench-agent@example.vn",
                "--no-password", "--token",
            ).strip()  # fmt: skip
            took = load_cases(
                stack.database_url, args.cases, first_agent=first_agent, analyze=not args.no_analyze
            )
            add_team_member(stack.database_url, 2, [2])  # the bench agent: team 2 only
            print(f"loaded {args.cases} cases in {took:.1f} s")
        stack.start()
        headers = {"Authorization": f"Bearer {stack.token}"}
        measures: list[tuple[str, dict[str, object], str]] = [
            ("first page", {"limit": PAGE}, stack.token),
            ("status=open", {"limit": PAGE, "status": "open"}, stack.token),
            ("status=new&status=open", {"limit": PAGE, "status": ["new", "open"]}, stack.token),
            ("team_id=3", {"limit": PAGE, "team_id": 3}, stack.token),
            ("team_id=0 (no team)", {"limit": PAGE, "team_id": 0}, stack.token),
            (
                "assignee_id=<agent>",
                {"limit": PAGE, "assignee_id": first_agent + AGENTS_PER_TEAM + 1},
                stack.token,
            ),
            ("text=hóa đơn (common)", {"limit": PAGE, "text": "hóa đơn"}, stack.token),
            ("text=HD-054321 (one case)", {"limit": PAGE, "text": "HD-054321"}, stack.token),
        ]
        if agent_token:
            measures.append(("agent scope, first page", {"limit": PAGE}, agent_token))
            measures.append(
                ("agent scope, status=open", {"limit": PAGE, "status": "open"}, agent_token)
            )
        with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as client:
            cursor = deep_cursor(client, args.depth)
            measures.insert(
                1, (f"deep page ({args.depth} pages down)", {"limit": PAGE, "cursor": cursor}, "")
            )
            print(f"api_list: {stack.describe()}; {args.cases} cases, {PAGE} per page")
            for label, params, token in measures:
                if token:
                    client.headers["Authorization"] = f"Bearer {token}"
                cpu = stack.server_cpu()
                latencies = timed(client, params, args.requests)
                per_request = (stack.server_cpu() - cpu) / (args.requests + 5) * 1000
                cpu_note = f"   server CPU {per_request:.2f} ms/req" if stack.server_pids else ""
                print("  " + summary(label, latencies) + cpu_note)


if __name__ == "__main__":
    main()
