"""Benchmark: ingest mail from IMAP, ``helpdesk.channels.email.imap.fetch_once``.

Generates ``--mails`` (1,000) realistic mails from a seeded random generator
(Vietnamese and English, diacritics and backslashes, some multipart with
.txt and binary attachments in base64 or quoted-printable, about a fifth
replies with In-Reply-To/References), APPENDs them to a private Dovecot in
shuffled order (many replies come before their parents), then times
``fetch_once`` until every mail is filed. Prints mails/s, peak memory, where
the time went, how many replies threaded into their root's case, and whether
every body and attachment survived byte-exact. See ``bench/README.md``.

    python bench/email_ingest.py                    # SQLite (temporary file)
    python bench/email_ingest.py --db postgres      # a fresh PostgreSQL database
    python bench/email_ingest.py --profile          # plus a CPU profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import logging
import pstats
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.mailservers

from _mailgen import SUPPORT, Mail, generate
from _stack import POSTGRES_URL, _pg_admin

from helpdesk import migrations
from helpdesk.channels.email import imap, ingest
from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.policy import SYSTEM
from helpdesk.runtime import Runtime, build_runtime
from helpdesk.settings import load_settings
from helpdesk.storage import BlobStore, blob_store
from helpdesk.tables import Attachment, Case, Message
from tests.mailservers import Dovecot


@dataclass
class Clock:
    """Wall-clock seconds and calls per stage of the ingestion."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, started: float) -> None:
        self.seconds[name] += time.perf_counter() - started
        self.calls[name] += 1


# --- instrumentation ------------------------------------------------------------------


def _timed_sync(clock: Clock, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            clock.add(name, started)

    return wrapper


def _timed_async(
    clock: Clock, name: str, fn: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            clock.add(name, started)

    return wrapper


class _TimedTransaction:
    def __init__(self, clock: Clock, inner: Any) -> None:
        self.clock, self.inner = clock, inner

    async def __aenter__(self) -> Any:
        started = time.perf_counter()
        try:
            return await self.inner.__aenter__()
        finally:
            self.clock.add("db: begin", started)

    async def __aexit__(self, *exc: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.inner.__aexit__(*exc)
        finally:
            self.clock.add("db: commit", started)


def instrument(clock: Clock, engine: Any) -> None:
    """Time the stages of ingestion by wrapping what :mod:`imap` and :mod:`ingest` call.

    Only this process is patched; the code measured is unchanged.
    """
    sync = [
        (imap.ImapSession, "__init__", "imap: connect/logout"),
        (imap.ImapSession, "close", "imap: connect/logout"),
        (imap.ImapSession, "uids_after", "imap: search/fetch"),
        (imap.ImapSession, "sizes", "imap: search/fetch"),
        (imap.ImapSession, "fetch", "imap: search/fetch"),
        (ingest, "parse_mail", "parse"),
        (BlobStore, "put", "blob writes"),
    ]
    for owner, name, label in sync:
        setattr(owner, name, _timed_sync(clock, label, getattr(owner, name)))
    asynchronous = [
        (ingest, "file_parsed", "filing"),
        (imap, "ingest_mail", "ingest_mail"),
        (imap, "_save_cursor", "db: cursor"),
        (type(engine), "run_querystring", "db: queries"),
    ]
    for owner, name, label in asynchronous:
        setattr(owner, name, _timed_async(clock, label, getattr(owner, name)))
    write_transaction = type(engine).write_transaction
    type(engine).write_transaction = lambda self: _TimedTransaction(clock, write_transaction(self))


class _ProfilingExecutor(ThreadPoolExecutor):
    """A thread pool that profiles the work it runs (not its idle waiting), per thread."""

    def __init__(self, profiles: list[cProfile.Profile]) -> None:
        super().__init__(max_workers=4, thread_name_prefix="bench")
        self._profiles = profiles
        self._local = threading.local()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(self._run, fn, *args, **kwargs)

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        profile = getattr(self._local, "profile", None)
        if profile is None:
            profile = self._local.profile = cProfile.Profile()
            self._profiles.append(profile)
        profile.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            profile.disable()


@contextmanager
def profiled(enabled: bool) -> Iterator[tuple[list[cProfile.Profile], list[cProfile.Profile]]]:
    """cProfile the event loop's thread (filing, DB) and the work sent to threads
    with ``asyncio.to_thread`` (parse, IMAP, blob writes), separately."""
    main: list[cProfile.Profile] = []
    threads: list[cProfile.Profile] = []
    if not enabled:
        yield main, threads
        return
    asyncio.get_running_loop().set_default_executor(_ProfilingExecutor(threads))
    main.append(cProfile.Profile())
    main[0].enable()
    try:
        yield main, threads
    finally:
        main[0].disable()


# --- run ----------------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    cpu_seconds: float
    rss_before_mb: float
    outcomes: Counter[str]
    fetches: int
    profiles: tuple[list[cProfile.Profile], list[cProfile.Profile]]


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def ingest_all(args: argparse.Namespace, dovecot: Dovecot, user: Any, total: int) -> Result:
    """Create the mailbox, then run ``fetch_once`` until every mail is filed."""
    box = await create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Bench", address=SUPPORT, imap_host=dovecot.host, imap_port=dovecot.port,
            imap_security="plain", imap_user=user.name, imap_password=user.password,
            auto_acknowledge=False,
        ),
    )  # fmt: skip
    rss_before = rss_mb()
    outcomes: Counter[str] = Counter()
    fetches = 0
    with profiled(args.profile) as profiles:
        cpu_started = time.process_time()
        started = time.perf_counter()
        while sum(outcomes.values()) < total and fetches < 20:
            fetches += 1
            results = await imap.fetch_once(box.id)
            outcomes.update(r.outcome for r in results)
            if not results:
                break
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    return Result(seconds, cpu, rss_before, outcomes, fetches, profiles)


async def verify(mails: list[Mail]) -> dict[str, Any]:
    """Compare what was stored with what was generated."""
    rows = await Message.select(Message.id, Message.case, Message.external_id, Message.body_text)
    by_id = {r["external_id"]: r for r in rows if r["external_id"]}
    files: defaultdict[int, list[tuple[str, str]]] = defaultdict(list)
    for a in await Attachment.select(
        Attachment.message, Attachment.filename, Attachment.sha256
    ).order_by(Attachment.id):
        files[a["message"]].append((a["filename"], a["sha256"]))
    store = blob_store()
    replies = [m for m in mails if m.parent]
    stored = [m for m in mails if m.message_id in by_id]
    case_of = {m.message_id: by_id[m.message_id]["case"] for m in stored}
    bodies_ok = sum(
        by_id[m.message_id]["body_text"].replace("\r\n", "\n") == m.text.replace("\r\n", "\n")
        for m in stored
    )
    attachments_ok = 0
    for m in stored:
        got = files[by_id[m.message_id]["id"]]
        for index, (name, data) in enumerate(m.attachments):
            if index < len(got) and got[index][0] == name and store.get(got[index][1]) == data:
                attachments_ok += 1
    return {
        "stored": len(stored),
        "cases": await Case.count().where(Case.merged_into.is_null()),
        "merged": await Case.count().where(Case.merged_into.is_not_null()),
        "roots": sum(1 for m in mails if not m.parent),
        "threaded": sum(1 for m in replies if case_of.get(m.message_id) == case_of.get(m.root)),
        "replies": len(replies),
        "bodies_ok": bodies_ok,
        "attachments_ok": attachments_ok,
        "attachments": sum(len(m.attachments) for m in mails),
    }


async def run(args: argparse.Namespace, env: dict[str, str], dovecot: Dovecot, user: Any) -> None:
    settings = load_settings(env)
    runtime: Runtime = build_runtime(settings)
    await runtime.start(run_worker=False)
    try:
        await migrations.migrate(runtime.engine)
        clock = Clock()
        instrument(clock, runtime.engine)
        result = await ingest_all(args, dovecot, user, len(args.mails_made))
        report(args, result, clock, await verify(args.mails_made))
    finally:
        await runtime.stop()


def report(args: argparse.Namespace, result: Result, clock: Clock, check: dict[str, Any]) -> None:
    total = len(args.mails_made)
    seconds = result.seconds
    print(f"email_ingest: {args.db}, {total} mails ({check['replies']} replies), seed {args.seed}")
    print(f"  APPEND to Dovecot      {args.append_seconds:8.2f} s (not timed below)")
    print(
        f"  ingestion              {seconds:8.2f} s  in {result.fetches} fetch_once call(s); "
        f"CPU of this process {result.cpu_seconds:.2f} s"
    )
    print(f"  throughput             {total / seconds:8.1f} mails/s")
    print(f"  peak RSS               {rss_mb():8.1f} MB  ({result.rss_before_mb:.1f} MB before)")
    print(f"  outcomes               {dict(result.outcomes.most_common())}")
    print(f"  replies before parent  {args.early_replies}/{check['replies']} APPENDed first")
    print(
        f"  cases                  {check['cases']} for {check['roots']} thread roots"
        f" (and {check['merged']} merged into others)"
    )
    print(f"  replies threaded       {check['threaded']}/{check['replies']} in their root's case")
    bodies, attachments = check["bodies_ok"], check["attachments_ok"]
    print(
        f"  bodies byte-exact      {'yes' if bodies == total else 'NO'} "
        f"({bodies}/{total}; {check['stored']} stored)"
    )
    print(
        f"  attachments byte-exact {'yes' if attachments == check['attachments'] else 'NO'} "
        f"({attachments}/{check['attachments']})"
    )
    print("  where the time went (wall clock, inclusive; per mail):")
    ingest_s = clock.seconds["ingest_mail"]
    rows = [
        ("imap: connect/logout", clock.seconds["imap: connect/logout"]),
        ("imap: search/fetch", clock.seconds["imap: search/fetch"]),
        ("parse (in a thread)", clock.seconds["parse"]),
        ("filing (one transaction per mail)", clock.seconds["filing"]),
        (
            "ingest_mail rest: ledger, raw blob",
            ingest_s - clock.seconds["parse"] - clock.seconds["filing"],
        ),
        ("cursor saves", clock.seconds["db: cursor"]),
    ]
    accounted = sum(s for _, s in rows)
    rows.append(("other (loop, thread hops)", seconds - accounted))
    for label, spent in rows:
        print(
            f"    {label:<36} {spent:7.2f} s {100 * spent / seconds:5.1f}%"
            f"  {1000 * spent / total:6.2f} ms"
        )
    queries = clock.calls["db: queries"]
    print(
        f"    of which db queries: {queries} ({queries / total:.1f}/mail) "
        f"{clock.seconds['db: queries']:.2f} s; begin {clock.seconds['db: begin']:.2f} s, "
        f"commit {clock.seconds['db: commit']:.2f} s ({clock.calls['db: commit']}); "
        f"blob writes {clock.seconds['blob writes']:.2f} s ({clock.calls['blob writes']})"
    )
    titles = (
        "event loop thread: ingest_mail, filing, SQL (waiting in select() is idle time)",
        "to_thread work: parse_mail, IMAP, blob writes",
    )
    for title, profiles in zip(titles, result.profiles, strict=True):
        if profiles:
            print(f"  CPU profile, {title}; top 15 cumulative:")
            stats = pstats.Stats(profiles[0], stream=sys.stdout)
            for profile in profiles[1:]:
                stats.add(profile)
            stats.strip_dirs().sort_stats("cumulative").print_stats(15)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--irt-only", type=float, default=0.0,
        help="share of replies with In-Reply-To but no References (some mobile clients)",
    )  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="print a CPU profile")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    args.mails_made = generate(args.mails, args.replies, args.seed, args.irt_only)
    order = list(args.mails_made)
    random.Random(args.seed + 1).shuffle(order)
    position = {m.message_id: i for i, m in enumerate(order)}
    args.early_replies = sum(
        1 for m in order if m.parent and position[m.message_id] < position[m.parent]
    )
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-mail-"))
    env = {"HELPDESK_DATA_DIR": str(workdir / "data")}
    pg_name: str | None = None
    if args.db == "sqlite":
        env["HELPDESK_DATABASE_URL"] = f"sqlite:///{workdir / 'helpdesk.db'}"
    else:
        pg_name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(POSTGRES_URL, f'CREATE DATABASE "{pg_name}"'))
        url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{pg_name}"))
        env["HELPDESK_DATABASE_URL"] = url
    dovecot = Dovecot()
    try:
        dovecot.start()
        user = dovecot.new_user()
        started = time.perf_counter()
        with user.connect(timeout=60) as client:
            for start in range(0, len(order), 100):
                client.multiappend("INBOX", [m.raw for m in order[start : start + 100]])
        args.append_seconds = time.perf_counter() - started
        asyncio.run(run(args, env, dovecot, user))
    finally:
        dovecot.close()
        if pg_name:
            sql = f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'
            asyncio.run(_pg_admin(POSTGRES_URL, sql))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
