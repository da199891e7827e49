"""Benchmark: knowledge-base search, ``GET /api/v1/kb/search``, over 10,000 articles.

Generates ``--articles`` Vietnamese and English articles (``bench/_kbgen.py``),
renders them as the services do (Markdown, sanitised HTML, folded search
words), loads them straight into a fresh database (the search index follows
through the database: FTS5 triggers on SQLite, generated ``tsvector`` columns
on PostgreSQL), starts the server and times, one request at a time on a
keep-alive connection, a set of typical queries: common Vietnamese words with
and without diacritics, a prefix being typed, a rare error code, English,
filters, and the public portal endpoint.

    python bench/kb_search.py                  # SQLite
    python bench/kb_search.py --db postgres    # PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _kbgen import categories, generate
from _stack import Stack, add_stack_options, percentile, summary

from knowledge_base.markdown import render
from knowledge_base.services import searchable_values

AUTHOR = 1  # the bench admin, made first by the stack
ARTICLE_COLUMNS = (
    "id", "translation_group", "locale", "category", "title", "body_md", "body_html",
    "body_text", "status", "tags", "author", "updated_by", "version", "search_title",
    "search_body", "title_words", "body_words", "created_at", "updated_at", "published_at",
)  # fmt: skip

QUERIES: list[tuple[str, dict[str, object], bool]] = [
    ("khách hàng (common, vi)", {"q": "khách hàng "}, False),
    ("khach hang (no diacritics)", {"q": "khach hang "}, False),
    ("ĐƠN HÀNG, locale=vi", {"q": "ĐƠN HÀNG ", "locale": "vi"}, False),
    ("typing: don h", {"q": "don h"}, False),
    ("typing: hoan t", {"q": "hoan t"}, False),
    ("typing: kh", {"q": "kh"}, False),
    ("hóa đơn vat doanh nghiệp", {"q": "hóa đơn vat doanh nghiệp "}, False),
    ("rare: an error code", {"q": "RARE"}, False),
    ("refund (en)", {"q": "refund", "locale": "en"}, False),
    ("order status, status=published", {"q": "order status", "status": "published"}, False),
    ("đổi trả, category=Orders", {"q": "đổi trả ", "category_id": 4}, False),
    ("public: doi tra, locale=vi", {"q": "doi tra", "locale": "vi"}, True),
]


def rare_code(count: int) -> str:
    """An error code ("E-12345") that only a few of the generated articles mention."""
    for article in generate(count):
        found = re.search(r"E-\d+", article.body)
        if found:
            return found.group()
    return "E-0"


def _rows(count: int, now: datetime) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Every row to insert, by table, as rendered by the services."""
    cats = categories()
    category_rows = [
        (i + 1, c.name_vi, c.name_en, None if c.parent is None else c.parent + 1, i, now, now)
        for i, c in enumerate(cats)
    ]
    articles = generate(count)
    groups = sorted({a.group for a in articles})
    group_rows = [(g, now) for g in groups]
    article_rows: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[Any, ...]] = []
    for n, a in enumerate(articles, start=1):
        rendered = render(a.body)
        search = searchable_values(a.title, rendered.text, a.tags)
        stamp = now - timedelta(minutes=n)
        article_rows.append((
            n, a.group, a.locale, a.category + 1, a.title, a.body, rendered.html, rendered.text,
            a.status, json.dumps(a.tags), AUTHOR, AUTHOR, 1, search["search_title"],
            search["search_body"], search["title_words"], search["body_words"], stamp, stamp,
            stamp if a.status == "published" else None,
        ))  # fmt: skip
        tag_rows.extend((len(tag_rows) + 1, n, tag) for tag in a.tags)
    return {
        "kb_categories": (
            ("id", "name_vi", "name_en", "parent", "position", "created_at", "updated_at"),
            category_rows,
        ),
        "kb_translation_groups": (("id", "created_at"), group_rows),
        "kb_articles": (ARTICLE_COLUMNS, article_rows),
        "kb_article_tags": (("id", "article", "tag"), tag_rows),
    }


def _sqlite_value(value: Any) -> Any:
    # As Piccolo stores a Timestamptz on SQLite: str() of the UTC datetime.
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


def _load_sqlite(path: str, tables: dict[str, Any]) -> None:
    with sqlite3.connect(path, timeout=30) as connection:
        for table, (columns, rows) in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            connection.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                ([_sqlite_value(v) for v in row] for row in rows),
            )
        connection.execute("INSERT INTO kb_search (kb_search) VALUES ('optimize')")
        connection.execute("ANALYZE")
    connection.close()


async def _load_postgres(url: str, tables: dict[str, Any]) -> None:
    connection = await asyncpg.connect(url)
    try:
        for table, (columns, rows) in tables.items():
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def load_articles(database_url: str, count: int) -> tuple[float, float]:
    """Render and insert ``count`` articles; seconds spent rendering and loading."""
    start = time.perf_counter()
    tables = _rows(count, datetime.now(UTC))
    rendered = time.perf_counter()
    if database_url.startswith("sqlite"):
        _load_sqlite(unquote(database_url[len("sqlite:///") :]), tables)
    else:
        asyncio.run(_load_postgres(database_url, tables))
    return rendered - start, time.perf_counter() - rendered


def timed(
    client: httpx.Client, path: str, params: dict[str, object], repeat: int
) -> tuple[list[float], int]:
    """Latencies (ms) of ``repeat`` identical requests after 5 unmeasured ones; the total found."""
    latencies: list[float] = []
    total = 0
    for n in range(repeat + 5):
        start = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {path} {params}: {response.status_code} {response.text}")
        total = int(response.json()["total"])
        if n >= 5:
            latencies.append(elapsed)
    return latencies, total


def main() -> None:
    """Load the articles, run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_options(parser)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query")
    args = parser.parse_args()
    if args.requests + 5 > 300:
        raise SystemExit("--requests: at most 295 (the public search allows 300 a minute)")
    with Stack(args) as stack:
        if not args.url:
            render_s, load_s = load_articles(stack.database_url, args.articles)
            print(
                f"rendered {args.articles} articles in {render_s:.1f} s, loaded in {load_s:.1f} s"
            )
        stack.start()
        headers = {"Authorization": f"Bearer {stack.token}"}
        everything: list[float] = []
        with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as client:
            print(f"kb_search: {stack.describe()}; {args.articles} articles, 10 results per page")
            for label, params, public in QUERIES:
                if params["q"] == "RARE":
                    params = {"q": rare_code(args.articles) + " "}
                path = "/api/v1/public/kb/search" if public else "/api/v1/kb/search"
                cpu = stack.server_cpu()
                latencies, total = timed(client, path, params, args.requests)
                everything.extend(latencies)
                per_request = (stack.server_cpu() - cpu) / (args.requests + 5) * 1000
                cpu_note = f"   server CPU {per_request:.2f} ms/req" if stack.server_pids else ""
                print("  " + summary(f"{label} [{total}]", latencies) + cpu_note)
        print(
            f"  all queries: p50 {percentile(everything, 0.5):.2f} ms   "
            f"p99 {percentile(everything, 0.99):.2f} ms   n={len(everything)}"
        )


if __name__ == "__main__":
    main()
