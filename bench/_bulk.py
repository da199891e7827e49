"""Loading many cases fast, straight into the tables (no services, no events).

Only for benchmarks: rows go in with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) with a realistic distribution over statuses, teams, assignees,
customers and ``updated_at`` (a year, denser recently). The search text is
built as the services build it, so text filters behave as in production.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import asyncpg

from helpdesk.demo._people import ORGANIZATIONS, generate_customers
from helpdesk.domain import case_reference
from helpdesk.text import fold

TEAMS = ("Hỗ trợ kỹ thuật", "Thanh toán", "Giao hàng", "Enterprise")
TEAM_WEIGHTS = (5, 45, 25, 15, 10)  # first: no team (triage queue)
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
STATUS_WEIGHTS = (5, 12, 8, 3, 17, 55)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_WEIGHTS = (15, 55, 22, 8)
CHANNELS = ("email", "web", "chat", "api")
TAGS = ("billing", "login", "bug", "vip", "invoice", "refund", "api", "mobile-app", "shipping")
SUBJECTS = (
    "Không đăng nhập được vào tài khoản",
    "Yêu cầu xuất hóa đơn VAT cho đơn hàng",
    "Bị trừ tiền hai lần cho hóa đơn",
    "Ứng dụng bị thoát khi mở báo cáo",
    "Đơn hàng giao chậm hơn dự kiến",
    "Hỏi về việc nâng cấp gói dịch vụ",
    "Không nhận được email xác nhận",
    "Trang quản trị tải rất chậm",
    "Password reset link has expired",
    "Webhook deliveries failing with timeouts",
    "Need a copy of invoice",
    "Charged after cancelling subscription",
    "SSO sign-in loops back to the login page",
    "How do I export tickets to CSV?",
)
AGENTS_PER_TEAM = 8


def _rows(cases: int, seed: int, first_agent: int, now: datetime) -> dict[str, Any]:
    """Every row to insert, by table, as tuples of column values."""
    rng = random.Random(seed)
    orgs = [(i + 1, o.name, o.shared_visibility, o.notes, now) for i, o in enumerate(ORGANIZATIONS)]
    domains = [(i + 1, i + 1, o.domain) for i, o in enumerate(ORGANIZATIONS)]
    specs = generate_customers(max(100, cases // 10), rng)
    customers, emails = [], []
    for i, spec in enumerate(specs, start=1):
        org = spec.organization + 1 if spec.organization is not None else None
        search = fold(f"{spec.name} {spec.email} {spec.phone}")
        customers.append((i, spec.name, spec.phone, spec.locale, org, None, search, now))
        emails.append((i, i, spec.email, True))
    teams = [(i + 1, name, "", i == 0, now) for i, name in enumerate(TEAMS)]
    agents, members = [], []
    for t in range(len(TEAMS)):
        for k in range(AGENTS_PER_TEAM):
            agent_id = first_agent + t * AGENTS_PER_TEAM + k
            agents.append((agent_id, f"Agent {t}-{k}", f"agent{t}-{k}@hotro.example", "", "agent",
                           '["vi", "en"]', "[]", 20, True, "available", now))  # fmt: skip
            members.append((len(members) + 1, t + 1, agent_id))
    case_rows, tag_rows = [], []
    for case_id in range(1, cases + 1):
        customer = customers[int(len(customers) * rng.random() ** 3)]
        team_index = rng.choices(range(len(TEAM_WEIGHTS)), TEAM_WEIGHTS)[0]
        team = team_index if team_index else None
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        assignee = None
        if team is not None and (status != "new" or rng.random() < 0.2) and rng.random() < 0.95:
            assignee = first_agent + (team - 1) * AGENTS_PER_TEAM + rng.randrange(AGENTS_PER_TEAM)
        updated = now - timedelta(days=365 * rng.random() ** 2, seconds=rng.random())
        created = updated - timedelta(days=10 * rng.random())
        subject = f"{rng.choice(SUBJECTS)} {rng.randint(100000, 999999)}"
        tags = sorted(rng.sample(TAGS, k=rng.choice((0, 0, 1, 1, 2))))
        tag_rows.extend((len(tag_rows) + 1, case_id, tag) for tag in tags)
        case_rows.append((
            case_id, subject, status, rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
            rng.choice(CHANNELS), customer[0], customer[4], team, assignee, json.dumps(tags),
            customer[3], rng.randint(1, 8), None,
            fold(f"{case_reference(case_id)} {subject} {customer[1]}"), created, updated,
            None if status == "new" else created + timedelta(hours=2),
            updated if status in ("solved", "closed") else None,
            updated if status == "closed" else None,
            created + timedelta(seconds=1),
        ))  # fmt: skip
    return {
        "organizations": (("id", "name", "shared_visibility", "notes", "created_at"), orgs),
        "organization_domains": (("id", "organization", "domain"), domains),
        "customers": (
            (
                "id",
                "name",
                "phone",
                "locale",
                "organization",
                "merged_into",
                "search_text",
                "created_at",
            ),
            customers,
        ),
        "customer_emails": (("id", "customer", "address", "is_primary"), emails),
        "teams": (("id", "name", "description", "is_default", "created_at"), teams),
        "agents": (
            (
                "id",
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
            ),
            agents,
        ),
        "team_members": (("id", "team", "agent"), members),
        "cases": (
            (
                "id",
                "subject",
                "status",
                "priority",
                "channel",
                "customer",
                "organization",
                "team",
                "assignee",
                "tags",
                "language",
                "version",
                "merged_into",
                "search_text",
                "created_at",
                "updated_at",
                "first_response_at",
                "solved_at",
                "closed_at",
                "routed_at",
            ),
            case_rows,
        ),
        "case_tags": (("id", "case", "tag"), tag_rows),
    }


SEARCH_DOCUMENTS = (
    "INSERT INTO case_search (id, subject, doc, notes) "
    "SELECT id, search_text, search_text, '' FROM cases"
)
"""The search documents of the loaded cases (number, subject and customer name;
the cases have no messages here), when the database has the search table (m0019)."""


def _sqlite_value(value: Any) -> Any:
    # As Piccolo stores a Timestamptz on SQLite: str() of the UTC datetime.
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


def _load_sqlite(path: str, tables: dict[str, Any], analyze: bool) -> None:
    with sqlite3.connect(path, timeout=30) as connection:
        for table, (columns, rows) in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            connection.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                ([_sqlite_value(v) for v in row] for row in rows),
            )
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_search'"
        ).fetchall()
        if found:
            connection.execute(SEARCH_DOCUMENTS)
        if analyze:
            connection.execute("ANALYZE")
    connection.close()


async def _load_postgres(url: str, tables: dict[str, Any], analyze: bool) -> None:
    connection = await asyncpg.connect(url)
    try:
        for table, (columns, rows) in tables.items():
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        if await connection.fetchval("SELECT to_regclass('case_search') IS NOT NULL"):
            await connection.execute(SEARCH_DOCUMENTS)
        if analyze:
            await connection.execute("ANALYZE")
    finally:
        await connection.close()


def load_cases(database_url: str, cases: int, *, first_agent: int, analyze: bool = True) -> float:
    """Insert ``cases`` cases (and their customers, teams and agents); seconds taken.

    The database must be migrated and must not have teams, customers or
    cases yet; agents are given ids from ``first_agent`` on.
    """
    start = time.perf_counter()
    tables = _rows(cases, seed=7, first_agent=first_agent, now=datetime.now(UTC))
    if database_url.startswith("sqlite"):
        _load_sqlite(unquote(database_url[len("sqlite:///") :]), tables, analyze)
    else:
        asyncio.run(_load_postgres(database_url, tables, analyze))
    return time.perf_counter() - start


def add_member(database_url: str, agent_id: int, team_ids: list[int]) -> None:
    """Put an existing agent into teams (for measuring a restricted agent's scope)."""
    rows = [(team, agent_id) for team in team_ids]
    sql = 'INSERT INTO "team_members" ("team", "agent") VALUES '
    if database_url.startswith("sqlite"):
        with sqlite3.connect(unquote(database_url[len("sqlite:///") :])) as connection:
            connection.executemany(sql + "(?, ?)", rows)
        connection.close()
    else:

        async def insert() -> None:
            connection = await asyncpg.connect(database_url)
            try:
                await connection.executemany(sql + "($1, $2)", rows)
            finally:
                await connection.close()

        asyncio.run(insert())
