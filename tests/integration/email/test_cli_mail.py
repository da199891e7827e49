"""``helpdesk mailbox add|list`` and ``helpdesk mail --once|reprocess`` against a real Dovecot.

The commands run in-process through click's CliRunner, in embedded mode (no
Redis), on SQLite and PostgreSQL; acknowledgements go to an aiosmtpd sink.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from helpdesk.channels.email.tables import InboundMail, Mailbox
from helpdesk.cli import main
from helpdesk.db import bind_engine, create_engine
from helpdesk.tables import Case
from tests.integration._processes import free_port, helpdesk_env, reset_postgres
from tests.integration.email._mail import build_mail, new_address
from tests.mailservers import MailboxUser, SmtpSink


@pytest.fixture
def url(database_url: str, db_kind: str) -> str:
    """An empty, migrated database of the engine under test."""
    if db_kind == "postgres":
        reset_postgres(database_url)
    return database_url


def cli(url: str, tmp_path: Path, *args: str, input: str | None = None) -> Result:
    env: dict[str, str | None] = dict(helpdesk_env(url, tmp_path / "data"))
    env["HELPDESK_REDIS_URL"] = None
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def query(url: str, work: Any) -> Any:
    async def run() -> Any:
        bind_engine(create_engine(url))
        return await work()

    return asyncio.run(run())


def add_args(user: MailboxUser, *, address: str = "", port: int = 0) -> list[str]:
    """``mailbox add`` of ``user`` (at another address or port if given), password not given."""
    return [
        "mailbox", "add", "--name", "Hỗ trợ khách hàng", "--address", address or user.name,
        "--imap-host", user.host, "--imap-port", str(port or user.port),
        "--imap-security", "plain", "--imap-user", user.name,
    ]  # fmt: skip


def test_mailbox_add_then_mail_once_files_each_mail_once(
    url: str, tmp_path: Path, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given a mailbox added from the command line, its password on stdin
    added = cli(
        url, tmp_path, *add_args(mailbox_user), "--smtp-host", smtp_sink.host,
        "--smtp-port", str(smtp_sink.port), "--smtp-security", "plain",
        input=f"{mailbox_user.password}\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    mailbox_id = int(added.stdout.strip())
    assert f"created mailbox {mailbox_id}: Hỗ trợ khách hàng <{mailbox_user.name}>" in (
        added.stderr
    )
    assert mailbox_user.password not in added.output
    listed = cli(url, tmp_path, "mailbox", "list")
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{mailbox_id}  {mailbox_user.name}  ")
    assert "imap plain://" in line
    assert "ack on" in line
    assert mailbox_user.password not in line
    # When three mails arrive and `helpdesk mail --once` runs
    senders = [new_address() for _ in range(3)]
    for sender in senders:
        mailbox_user.append(build_mail(sender=sender, to=mailbox_user.name))
    first = cli(url, tmp_path, "mail", "--once")
    # Then three cases are filed, routed and acknowledged, and one line reports it
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        f"mailbox {mailbox_id} <{mailbox_user.name}>: 3 mails: message 3 (3 new cases)"
    ]
    cases = query(url, lambda: Case.select(Case.id, Case.routed_at, Case.channel))
    assert len(cases) == 3
    assert all(c["routed_at"] is not None and c["channel"] == "email" for c in cases)
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == sorted(senders)
    # and running it again files nothing new
    again = cli(url, tmp_path, "mail", "--once")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [f"mailbox {mailbox_id} <{mailbox_user.name}>: no new mail"]
    assert query(url, Case.count) == 3
    assert len(smtp_sink.messages) == 3


def test_mail_reprocess_and_errors(url: str, tmp_path: Path, mailbox_user: MailboxUser) -> None:
    added = cli(url, tmp_path, *add_args(mailbox_user), "--imap-password",
                mailbox_user.password, "--no-auto-ack")  # fmt: skip
    assert added.exit_code == 0, added.output
    mailbox_id = int(added.stdout.strip())
    assert "ack off" in cli(url, tmp_path, "mailbox", "list").stdout
    # A mail that cannot be parsed is quarantined; reprocessing tries it again
    mailbox_user.append(b"not a mail at all, just text without any header line\r\n")
    mailbox_user.append(build_mail(sender=new_address(), to=mailbox_user.name))
    fetched = cli(url, tmp_path, "mail", "--once")
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stdout.strip() == (
        f"mailbox {mailbox_id} <{mailbox_user.name}>: 2 mails: "
        "quarantined 1, message 1 (1 new cases)"
    )
    reprocessed = cli(url, tmp_path, "mail", "reprocess")
    assert reprocessed.exit_code == 0, reprocessed.output
    assert reprocessed.stdout.strip() == "reprocessed 1 mail: quarantined 1"
    rows = query(url, lambda: InboundMail.select(InboundMail.attempts).order_by(InboundMail.id))
    assert [r["attempts"] for r in rows] == [2, 1]
    # User errors are one line and exit 1: an address taken, invalid input, no password
    taken = cli(url, tmp_path, *add_args(mailbox_user), "--imap-password", "x")
    assert (taken.exit_code, taken.output.strip()) == (
        1, f"Error: a mailbox for {mailbox_user.name} exists"
    )  # fmt: skip
    bad = cli(url, tmp_path, *add_args(mailbox_user, address="hotro"), "--imap-password", "x")
    assert bad.exit_code == 1
    assert bad.output.strip().startswith("Error: invalid input:")
    assert len(bad.output.strip().splitlines()) == 1
    nothing = cli(url, tmp_path, *add_args(mailbox_user), input="")
    assert (nothing.exit_code, nothing.output.strip()) == (
        1, "Error: no IMAP password: give --imap-password or type it on a terminal"
    )  # fmt: skip
    # A mailbox whose server is down is reported, the others are still fetched
    dead = add_args(mailbox_user, address=new_address("hop.thu"), port=free_port())
    assert cli(url, tmp_path, *dead, "--imap-password", "x").exit_code == 0
    mailbox_user.append(build_mail(sender=new_address(), to=mailbox_user.name))
    result = cli(url, tmp_path, "mail", "--once")
    assert result.exit_code == 1
    assert f"mailbox {mailbox_id} <{mailbox_user.name}>: 1 mail: message 1 (1 new cases)" in (
        result.stdout
    )
    assert "error: ConnectionRefusedError" in result.stderr
    assert result.stderr.strip().endswith("Error: 1 of 2 mailboxes could not be read")
    assert query(url, Mailbox.count) == 2
