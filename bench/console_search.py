"""Benchmark: the console's case search over 100,000 cases with their conversations.

Makes a throwaway database (a temporary SQLite file, or a new PostgreSQL
database next to ``HELPDESK_TEST_POSTGRES_URL`` that is dropped at the end),
migrates it to the step before ``m0019_case_search``, loads ``--cases`` cases
straight into the tables (``bench/_bulk.py``: customers, teams, agents, cases)
plus 2–6 messages per case (customer messages, replies, internal notes; about
60 % Vietnamese with diacritics, 40 % English; a few carry a rare error
code), then runs the rest of the migrations, timing m0019's backfill and index
build. Then it times :func:`helpdesk.services.search.search_cases` in-process
(the database work of ``/console/search``, no HTTP), first page of 50 results
with the total, as a manager (everything) and as an agent of one team:
a case number, a common word, a rare word, an email address, a phone number
and a Vietnamese phrase typed without diacritics.

    python bench/console_search.py                  # SQLite
    python bench/console_search.py --db postgres    # PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bulk import load_cases
from _stack import POSTGRES_URL, percentile

from helpdesk.db import bind_engine, close_pool, create_engine, start_pool
from helpdesk.domain import Role
from helpdesk.migrations import migrate, migration_names
from helpdesk.policy import Principal
from helpdesk.services.search import search_cases

VI = (
    "Chào anh chị, tôi không đăng nhập được vào tài khoản từ sáng nay.",
    "Tôi đã thử đổi mật khẩu nhưng vẫn báo lỗi.",
    "Đơn hàng của tôi giao chậm hơn dự kiến ba ngày.",
    "Nhờ bên mình xuất hóa đơn VAT cho công ty giúp tôi.",
    "Tôi bị trừ tiền hai lần cho cùng một hóa đơn.",
    "Ứng dụng trên điện thoại bị thoát khi mở báo cáo doanh thu.",
    "Cảm ơn anh chị đã hỗ trợ nhanh chóng.",
    "Máy in ở văn phòng chi nhánh Đà Nẵng không kết nối được.",
    "Xin gửi lại email xác nhận đặt hàng.",
    "Khách hàng muốn nâng cấp gói dịch vụ lên doanh nghiệp.",
    "Chúng tôi đã kiểm tra và chuyển cho bộ phận kỹ thuật xử lý.",
    "Dạ em đã hoàn tiền, anh chị vui lòng kiểm tra tài khoản sau 3 ngày làm việc.",
    "Trang quản trị tải rất chậm vào giờ cao điểm.",
    "Đường truyền mạng ở kho Bình Dương bị gián đoạn.",
)
EN = (
    "Hi team, I cannot sign in to my account since this morning.",
    "The password reset link has expired again.",
    "Our webhook deliveries are failing with timeouts.",
    "Please send me a copy of the invoice for last month.",
    "I was charged after cancelling the subscription.",
    "The export to CSV only contains the first page.",
    "Thanks, that fixed it.",
    "We escalated this to engineering and will update you shortly.",
    "SSO sign-in loops back to the login page.",
    "The mobile app crashes when opening the revenue report.",
)
NOTES = (
    "Khách VIP, ưu tiên xử lý.",
    "Đã gọi điện cho khách, hẹn gọi lại chiều nay.",
    "Checked logs: 502 from the payment gateway.",
    "Chuyển nhóm Thanh toán kiểm tra giao dịch.",
)


def _body(rng: random.Random, vietnamese: bool, rare: str | None) -> str:
    pool = VI if vietnamese else EN
    text = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
    return f"{text} Mã lỗi {rare}." if rare else text


def generate_messages(cases: int, seed: int = 11) -> tuple[list[tuple[Any, ...]], str]:
    """2–6 messages per case, and a rare code that a handful of them carry."""
    rng = random.Random(seed)
    rare_code = "ERR-" + str(rng.randint(100000, 999999))
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    for case_id in range(1, cases + 1):
        vietnamese = rng.random() < 0.6
        stamp = now - timedelta(days=365 * rng.random())
        for n in range(rng.randint(2, 6)):
            kind = "customer" if n % 2 == 0 else rng.choice(("reply", "reply", "note"))
            rare = rare_code if rng.random() < 1 / 40_000 else None
            body = rng.choice(NOTES) if kind == "note" else _body(rng, vietnamese, rare)
            rows.append((case_id, kind, "email", body, "", "{}", stamp + timedelta(hours=n)))
    return rows, rare_code


MESSAGE_COLUMNS = ("case", "kind", "channel", "body_text", "body_html", "meta", "created_at")


def _load_messages_sqlite(path: str, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(path, timeout=30) as connection:
        cols = ", ".join(f'"{c}"' for c in MESSAGE_COLUMNS)
        connection.executemany(
            f'INSERT INTO "messages" ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)',
            ((*row[:-1], str(row[-1])) for row in rows),
        )
    connection.close()


async def _load_messages_postgres(url: str, rows: list[tuple[Any, ...]]) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table(
            "messages", records=rows, columns=list(MESSAGE_COLUMNS)
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _samples(url: str) -> dict[str, str]:
    """A customer's address and phone, and a case number, to search for."""
    engine = create_engine(url)
    rows = await engine.run_ddl(
        'SELECT c.id, e.address, c.phone FROM "customers" c JOIN "customer_emails" e '
        "ON e.customer = c.id WHERE c.phone <> '' ORDER BY c.id LIMIT 1 OFFSET 37"
    )
    return {
        "email": rows[0]["address"],
        "phone": "".join(ch for ch in rows[0]["phone"] if ch.isdigit()),
    }


QUERIES = (
    ("number HD-054321", "HD-054321"),
    ("number 54321 (bare)", "54321"),
    ("common word: hoa don", "hoa don"),
    ("rare word: error code", "{rare}"),
    ("email address", "{email}"),
    ("phone (digits)", "{phone}"),
    ("vi phrase, no diacritics", "khong dang nhap duoc"),
)


async def measure(url: str, rare: str, repeat: int) -> None:
    """Time every query kind as a manager and as an agent of team 2."""
    samples = {**await _samples(url), "rare": rare}
    engine = create_engine(url)
    bind_engine(engine)
    await start_pool(engine, size=2)
    try:
        people = {
            "manager": Principal(kind="agent", id=1, role=Role.MANAGER),
            "agent": Principal(kind="agent", id=9, role=Role.AGENT, team_ids=frozenset({2})),
        }
        for who, principal in people.items():
            print(f"  as {who}:")
            for label, template in QUERIES:
                text = template.format(**samples)
                latencies: list[float] = []
                total = 0
                for n in range(repeat + 3):
                    start = time.perf_counter()
                    page = await search_cases(principal, text)
                    elapsed = (time.perf_counter() - start) * 1000
                    total = page.total
                    if n >= 3:
                        latencies.append(elapsed)
                print(
                    f"    {label:<28} [{total:>6}]  p50 {percentile(latencies, 0.5):7.1f} ms  "
                    f"p95 {percentile(latencies, 0.95):7.1f} ms  "
                    f"p99 {percentile(latencies, 0.99):7.1f} ms  "
                    f"mean {statistics.fmean(latencies):7.1f} ms"
                )
    finally:
        await close_pool(engine)


async def _migrate(url: str, until: str | None) -> list[str]:
    engine = create_engine(url)
    await start_pool(engine, size=2)
    try:
        applied = await migrate(engine, until=until)
        await engine.run_ddl("ANALYZE")  # as the autovacuum (or an operator) soon would
        return applied
    finally:
        await close_pool(engine)


def run(url: str, args: argparse.Namespace) -> None:
    """Build the data, migrate, measure."""
    names = migration_names()
    before = names[names.index("m0019_case_search") - 1]
    asyncio.run(_migrate(url, before))
    seconds = load_cases(url, args.cases, first_agent=1)
    messages, rare = generate_messages(args.cases)
    start = time.perf_counter()
    if url.startswith("sqlite"):
        _load_messages_sqlite(unquote(url[len("sqlite:///") :]), messages)
    else:
        asyncio.run(_load_messages_postgres(url, messages))
    chars = sum(len(m[3]) for m in messages)
    print(
        f"loaded {args.cases} cases in {seconds:.1f} s, {len(messages)} messages "
        f"({chars / 1e6:.0f} M characters) in {time.perf_counter() - start:.1f} s"
    )
    start = time.perf_counter()
    applied = asyncio.run(_migrate(url, None))
    print(f"migrations {', '.join(applied)}: {time.perf_counter() - start:.1f} s (m0019 backfill)")
    print(f"console_search ({args.db}): first page of 50 with the total, {args.requests} runs")
    asyncio.run(measure(url, rare, args.requests))


def main() -> None:
    """Parse the options, make the throwaway database, run, drop it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="timed runs per query")
    parser.add_argument(
        "--keep", help="SQLite: build into this file and keep it; a kept file is measured again"
    )
    args = parser.parse_args()
    if args.keep:
        url = f"sqlite:///{Path(args.keep).resolve()}"
        if Path(args.keep).exists():
            print(f"console_search (sqlite, kept {args.keep}): {args.requests} runs")
            asyncio.run(measure(url, "{rare}", args.requests))
        else:
            run(url, args)
        return
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as folder:
            run(f"sqlite:///{folder}/helpdesk.db", args)
        return
    name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        run(urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}")), args)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
