"""The mail commands: ``helpdesk mailbox add|list`` and ``helpdesk mail [--once] | reprocess``.

``helpdesk mail`` alone follows every active mailbox until stopped (scale-out
mode, as before). ``--once`` and ``reprocess`` are one-shot commands that
work in both modes: with Redis, the follow-up jobs (routing the new cases,
sending acknowledgements and size notices) go to the Redis queues as usual;
in embedded mode nobody else would run them, so they run in this process
before it exits (a mail whose SMTP server is down stays queued for later).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click
import msgspec

from helpdesk import jobs, secret_keys
from helpdesk.channels.email import imap
from helpdesk.channels.email.ingest import IngestResult, reprocess_quarantined
from helpdesk.channels.email.mailboxes import (
    MailboxIn,
    MailboxOut,
    create_mailbox,
    list_mailboxes,
)
from helpdesk.cli import _db, _worker
from helpdesk.errors import ConfigError
from helpdesk.policy import SYSTEM
from helpdesk.runtime import build_runtime
from helpdesk.settings import Settings, load_settings

logger = logging.getLogger("helpdesk.cli")
T = TypeVar("T")
_SECURITY = click.Choice(["tls", "starttls", "plain"])


class MailboxReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``fetch_once`` of a mailbox did, or why it could not run."""

    mailbox: MailboxOut
    results: list[IngestResult] = []
    error: str = ""


# ------------------------------------------------------------------ mailbox


@click.group()
def mailbox() -> None:
    """Support mailboxes: where mail is fetched (IMAP) and sent from (SMTP)."""


@mailbox.command("add")
@click.option("--name", required=True, help="Shown as the sender name, e.g. 'Hỗ trợ khách hàng'.")
@click.option("--address", required=True, help="The support address (must be new).")
@click.option("--imap-host", required=True, help="IMAP server.")
@click.option("--imap-port", default=993, show_default=True, type=click.IntRange(1, 65535))
@click.option("--imap-security", type=_SECURITY, default="tls", show_default=True)
@click.option("--imap-user", required=True, help="IMAP login.")
@click.option(
    "--imap-password",
    default=None,
    help="IMAP password. When omitted it is asked for, or read as one line from stdin "
    "when that is not a terminal.",
)
@click.option("--folder", default="INBOX", show_default=True, help="IMAP folder to read.")
@click.option("--smtp-host", default=None, help="SMTP server for replies [default: none].")
@click.option("--smtp-port", default=587, show_default=True, type=click.IntRange(1, 65535))
@click.option("--smtp-security", type=_SECURITY, default="starttls", show_default=True)
@click.option("--smtp-user", default="", help="SMTP login [default: none].")
@click.option("--smtp-password", default="", help="SMTP password [default: none].")
@click.option("--team", "team_id", type=click.IntRange(1), default=None, help="Team id.")
@click.option("--no-auto-ack", is_flag=True, help="Send no acknowledgement of new cases.")
def mailbox_add(imap_password: str | None, folder: str, no_auto_ack: bool, **fields: Any) -> None:
    """Add a mailbox; its id alone is printed on stdout (never a password)."""
    settings = load_settings()
    if imap_password is None:
        imap_password = read_secret("IMAP password", "--imap-password")
    data = msgspec.convert(
        {
            **{k: v for k, v in fields.items() if v is not None},
            "imap_password": imap_password,
            "imap_folder": folder,
            "auto_acknowledge": not no_auto_ack,
        },
        MailboxIn,
    )
    created = asyncio.run(_add_mailbox(settings, data))
    click.echo(f"created mailbox {created.id}: {created.name} <{created.address}>", err=True)
    click.echo(str(created.id))


@mailbox.command("list")
def mailbox_list() -> None:
    """Every mailbox: address, servers, state, quarantine (no passwords).

    Seals any password an earlier release stored in clear text."""
    boxes = asyncio.run(_in_database(load_settings(), lambda: list_mailboxes(SYSTEM)))
    if not boxes:
        click.echo("no mailbox")
    for box in boxes:
        click.echo(describe(box))


def describe(box: MailboxOut) -> str:
    """One line about ``box`` for ``mailbox list``."""
    smtp = f"{box.smtp_security}://{box.smtp_host}:{box.smtp_port}" if box.smtp_host else "none"
    polled = box.last_polled_at.isoformat(timespec="seconds") if box.last_polled_at else "never"
    line = (
        f"{box.id}  {box.address}  {box.name!r}  "
        f"imap {box.imap_security}://{box.imap_user}@{box.imap_host}:{box.imap_port}"
        f"/{box.imap_folder}  smtp {smtp}  team {box.team_id or '-'}  "
        f"{'active' if box.active else 'inactive'}  ack {'on' if box.auto_acknowledge else 'off'}"
        f"  polled {polled}  quarantined {box.quarantined}"
    )
    return f"{line}  error: {box.last_error}" if box.last_error else line


def read_secret(label: str, option: str) -> str:
    """Ask for a secret twice on a terminal; otherwise read one line of stdin."""
    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        secret: str = click.prompt(
            label, hide_input=True, confirmation_prompt=True, err=True, type=str
        )
        return secret
    line = stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException(f"no {label}: give {option} or type it on a terminal")
    return line


async def _in_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    # The key that seals mailbox passwords (`mailbox add`; `mailbox list` seals old ones).
    secret_keys.configure(settings.secret_key)
    async with _db.open_database(settings, pool_size=1):
        await _db.require_schema()
        return await work()


async def _add_mailbox(settings: Settings, data: MailboxIn) -> MailboxOut:
    return await _in_database(settings, lambda: create_mailbox(SYSTEM, data))


# ------------------------------------------------------------------ mail


@click.group(invoke_without_command=True)
@click.option(
    "--once",
    is_flag=True,
    help="Fetch what is pending in every active mailbox, print a line per mailbox, and exit "
    "(no Redis needed).",
)
@click.pass_context
def mail(ctx: click.Context, once: bool) -> None:
    """Follow every active mailbox: turn new mail into cases (scale-out mode).

    Run exactly one per deployment, beside the `helpdesk web` and `helpdesk
    worker` processes; `helpdesk run` already does this in embedded mode.
    Needs HELPDESK_REDIS_URL. Stops on SIGTERM or Ctrl-C. With --once it
    fetches once and exits, in either mode.
    """
    if ctx.invoked_subcommand is not None:
        if once:
            raise click.UsageError("--once does not go with a subcommand")
        return
    settings = load_settings()
    if once:
        reports = _one_shot(settings, _fetch_all)
        if not reports:
            click.echo("no active mailbox")
        for report in reports:
            click.echo(summary_line(report), err=bool(report.error))
        failed = sum(1 for r in reports if r.error)
        if failed:
            raise click.ClickException(f"{failed} of {len(reports)} mailboxes could not be read")
        return
    if settings.redis_url is None:
        raise ConfigError(
            "helpdesk mail needs HELPDESK_REDIS_URL (the Redis task queue); "
            "without Redis, `helpdesk run` follows the mailboxes inside the web process "
            "(`helpdesk mail --once` fetches once)"
        )
    asyncio.run(_db.check_ready(settings))
    _worker.check_redis(settings.redis_url)
    _worker.serve_mail()


@mail.command("reprocess")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
def mail_reprocess(limit: int) -> None:
    """Try the quarantined mails again (after a fix); print what became of them."""
    results = _one_shot(load_settings(), lambda: reprocess_quarantined(limit))
    if not results:
        click.echo("no quarantined mail")
        return
    click.echo(f"reprocessed {_mails(len(results))}: {outcome_counts(results)}")


def outcome_counts(results: Sequence[IngestResult]) -> str:
    """``message 2, duplicate 1`` (outcomes by count), plus the new cases."""
    counts = Counter(r.outcome for r in results)
    text = ", ".join(f"{outcome} {n}" for outcome, n in counts.most_common())
    new_cases = sum(1 for r in results if r.new_case)
    return f"{text} ({new_cases} new cases)" if new_cases else text


def summary_line(report: MailboxReport) -> str:
    """One line about one mailbox's fetch for ``mail --once``."""
    head = f"mailbox {report.mailbox.id} <{report.mailbox.address}>"
    if report.error:
        return f"{head}: error: {report.error}"
    if not report.results:
        return f"{head}: no new mail"
    return f"{head}: {_mails(len(report.results))}: {outcome_counts(report.results)}"


def _mails(count: int) -> str:
    return f"{count} mail" if count == 1 else f"{count} mails"


def _one_shot(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` in this process's runtime; see the module docstring for the follow-ups."""
    asyncio.run(_db.check_ready(settings))
    if settings.redis_url is not None:
        _worker.check_redis(settings.redis_url)
    return asyncio.run(_run(settings, work))


async def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    runtime = build_runtime(settings)
    await runtime.start(run_worker=False)
    try:
        result = await work()
        if settings.embedded:
            await _follow_up_here()
        return result
    finally:
        await runtime.stop()


async def _fetch_all() -> list[MailboxReport]:
    reports: list[MailboxReport] = []
    for box in await list_mailboxes(SYSTEM):
        if not box.active:
            continue
        try:
            results = await imap.fetch_once(box.id)
        except imap.NETWORK_ERRORS as exc:
            reports.append(MailboxReport(mailbox=box, error=f"{type(exc).__name__}: {exc}"))
            continue
        reports.append(MailboxReport(mailbox=box, results=results))
    return reports


async def _follow_up_here() -> None:
    """Run the jobs the fetch made (routing, acknowledgements, …) once, in this
    process (embedded mode: no worker runs here). Every job is idempotent, so
    a running ``helpdesk run`` may do them too; one that fails stays for it."""
    await jobs.run_due_here()
