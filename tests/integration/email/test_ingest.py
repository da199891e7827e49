"""Issue 3, items 1, 2 and 3 (dedupe): mailboxes, the IMAP ingester, exactly once.

Every test runs against a real Dovecot and on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import imapclient
import msgspec
import pytest

from helpdesk.channels.email import imap
from helpdesk.channels.email.mailboxes import (
    MailboxIn,
    MailboxUpdate,
    create_mailbox,
    get_mailbox,
    list_mailboxes,
    mailbox_password,
    update_mailbox,
)
from helpdesk.channels.email.parse import parse_mail
from helpdesk.channels.email.supervisor import MailSupervisor
from helpdesk.channels.email.tables import Mailbox
from helpdesk.domain import Role
from helpdesk.errors import ConflictError, PermissionDeniedError
from helpdesk.policy import SYSTEM
from helpdesk.tables import Case, Message
from tests.conftest import EventLog
from tests.factories import make_agent
from tests.integration.email._mail import (
    add_mailbox,
    all_cases,
    build_mail,
    fetch,
    ledger,
    message_by_external_id,
    new_address,
    new_id,
    wait_until,
)
from tests.mailservers import Dovecot, MailboxUser


async def mailbox_row(mailbox_id: int) -> dict[str, Any]:
    row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
    assert row is not None
    return dict(row)


# --------------------------------------------------------------- 1. mailboxes


async def test_mailbox_is_configured_and_password_never_returned(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    assert box.address == mailbox_user.name
    assert box.has_imap_password
    assert not box.has_smtp_password
    assert box.quarantined == 0
    for shown in (box, await get_mailbox(SYSTEM, box.id), *(await list_mailboxes(SYSTEM))):
        encoded = msgspec.json.encode(shown).decode()
        assert mailbox_user.password not in encoded
        assert "password" not in msgspec.structs.asdict(shown).keys() - {
            "has_imap_password",
            "has_smtp_password",
        }

    # A change that leaves the password out keeps it; a new one is never shown either.
    changed = await update_mailbox(SYSTEM, box.id, MailboxUpdate(smtp_password="bí-mật-smtp"))
    assert changed.has_smtp_password
    assert "bí-mật-smtp" not in msgspec.json.encode(changed).decode()
    row = await mailbox_row(box.id)
    assert row["imap_password"].startswith("sealed:v1:")  # sealed at rest, kept as it was
    assert await mailbox_password(row, "imap_password") == mailbox_user.password

    with pytest.raises(ConflictError):
        await add_mailbox(mailbox_user)
    agent = await make_agent(Role.MANAGER)
    with pytest.raises(PermissionDeniedError):
        await create_mailbox(
            agent,
            MailboxIn(
                name="x", address=new_address(), imap_host="h", imap_user="u", imap_password="p"
            ),
        )


# ---------------------------------------------------------------- 2. ingester


async def test_fetch_once_files_everything_pending_without_touching_seen(
    db: EventLog, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five mails, one already read in webmail (\Seen), batches of three
    # UIDs and downloads of at most two of these mails at once
    box = await add_mailbox(mailbox_user)
    raws = [
        build_mail(sender=new_address(), to=box.address, subject=f"Yêu cầu {n}") for n in range(5)
    ]
    uids = [
        mailbox_user.append(raw, flags=[imapclient.SEEN] if n == 1 else [])
        for n, raw in enumerate(raws)
    ]
    monkeypatch.setattr(imap, "BATCH_SIZE", 3)
    monkeypatch.setattr(imap, "FETCH_BYTES", 2 * max(len(raw) for raw in raws) + 1)
    downloads: list[int] = []
    download = imap.ImapSession.fetch

    def counted(self: imap.ImapSession, uids: list[int]) -> dict[int, bytes]:
        downloads.append(len(uids))
        return download(self, uids)

    monkeypatch.setattr(imap.ImapSession, "fetch", counted)
    # When the mailbox is fetched once
    results = await fetch(box)
    # Then every mail became a case, the read one too
    assert [r.outcome for r in results] == ["message"] * 5
    assert downloads == [2, 1, 2]
    assert sorted(c["subject"] for c in await all_cases()) == [f"Yêu cầu {n}" for n in range(5)]
    # and nothing was marked \Seen by us (BODY.PEEK[], read-only EXAMINE)
    with mailbox_user.connect() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(uids)
    assert [imapclient.SEEN in flags[uid] for uid in uids] == [n == 1 for n in range(5)]
    # and the cursor is UIDVALIDITY + the last UID
    row = await mailbox_row(box.id)
    assert (row["uidvalidity"], row["last_uid"]) == (mailbox_user.uidvalidity(), uids[-1])
    assert row["last_polled_at"] is not None
    # A second fetch finds nothing pending; a new mail is fetched alone
    assert await fetch(box) == []
    mailbox_user.append(build_mail(sender=new_address(), to=box.address))
    assert [r.outcome for r in await fetch(box)] == ["message"]


async def test_the_opening_message_records_its_mailbox_for_routing(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    # Given a mail in a mailbox
    box = await add_mailbox(mailbox_user)
    mailbox_user.append(build_mail(sender=new_address(), to=box.address, subject="Báo giá"))
    # When it is filed
    [result] = await fetch(box)
    # Then the message that opened the case names the mailbox (routing rules read it)
    row = await Message.select(Message.meta).where(Message.id == result.message_id).first()
    assert row is not None
    meta = row["meta"] if isinstance(row["meta"], dict) else msgspec.json.decode(row["meta"])
    assert meta["mailbox_id"] == box.id


async def test_uidvalidity_change_rescans_without_duplicates(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    for _ in range(2):
        mailbox_user.append(build_mail(sender=new_address(), to=box.address))
    await fetch(box)
    # When the server renumbers the folder and a new mail arrives
    new_validity = mailbox_user.reset_uidvalidity()
    mailbox_user.append(build_mail(sender=new_address(), to=box.address))
    results = await fetch(box)
    # Then the old mails are recognised and only the new one is filed
    assert [r.outcome for r in results] == ["duplicate", "duplicate", "message"]
    assert len(await all_cases()) == 3
    assert await Message.count() == 3
    assert (await mailbox_row(box.id))["uidvalidity"] == new_validity
    assert {r["uidvalidity"] for r in await ledger(box.id)} == {
        new_validity,
        (await ledger(box.id))[0]["uidvalidity"],
    }


async def test_idle_files_new_mail_as_it_arrives(
    db: EventLog, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    idling = threading.Event()
    idle = imap.ImapSession.wait_for_news

    def spied(self: imap.ImapSession, *args: Any) -> bool:
        idling.set()
        return idle(self, *args)

    monkeypatch.setattr(imap.ImapSession, "wait_for_news", spied)
    box = await add_mailbox(mailbox_user)
    stop = asyncio.Event()
    # Polling every 60 s: only IDLE can pick the mail up within seconds
    task = asyncio.create_task(imap.run_mailbox(box.id, stop, poll_seconds=60))
    try:
        assert await asyncio.to_thread(idling.wait, 10)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        mailbox_user.append(build_mail(sender=new_address(), to=box.address))
        await wait_until(Case.count, within=8)
        assert time.monotonic() - started < 5  # IDLE_SECONDS is 10
        stopping = time.monotonic()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    assert time.monotonic() - stopping < 3  # stopping does not wait for the IDLE period


async def test_polls_when_the_server_offers_no_idle(
    db: EventLog, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = imap.ImapSession.__init__

    def without_idle(self: imap.ImapSession, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        self.can_idle = False

    monkeypatch.setattr(imap.ImapSession, "__init__", without_idle)
    monkeypatch.setattr(imap.ImapSession, "wait_for_news", _no_idle_expected)
    box = await add_mailbox(mailbox_user)
    stop = asyncio.Event()
    task = asyncio.create_task(imap.run_mailbox(box.id, stop, poll_seconds=0.2))
    try:
        await wait_until(lambda: _polled(box.id))
        mailbox_user.append(build_mail(sender=new_address(), to=box.address))
        await wait_until(Case.count, within=8)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


def _no_idle_expected(self: imap.ImapSession, *args: Any) -> bool:
    raise AssertionError("IDLE used although the server does not offer it")


async def _polled(mailbox_id: int) -> bool:
    return (await mailbox_row(mailbox_id))["last_polled_at"] is not None


async def test_reconnects_with_backoff_when_the_server_goes_away(
    db: EventLog, private_dovecot: Dovecot
) -> None:
    user = private_dovecot.new_user()
    box = await add_mailbox(user)
    stop = asyncio.Event()
    task = asyncio.create_task(imap.run_mailbox(box.id, stop, poll_seconds=1))
    try:
        user.append(build_mail(sender=new_address(), to=box.address))
        await wait_until(Case.count)
        # When the server crashes, the error is recorded and the ingester keeps trying
        private_dovecot.kill()
        await wait_until(lambda: _has_error(box.id), within=15)
        # When it is back, mail that arrives is filed and the error clears
        private_dovecot.start()
        user.append(build_mail(sender=new_address(), to=box.address))
        await wait_until(lambda: _count_is(2), within=20)
        await wait_until(lambda: _has_error(box.id, False), within=5)
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def test_backoff_doubles_and_starts_again_once_connected(
    db: EventLog, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = await add_mailbox(mailbox_user)
    stop = asyncio.Event()
    script = ["down", "down", "bug", "up, then down", "down", "down"]
    waits: list[float] = []

    async def follow(mailbox_id: int, stop_: asyncio.Event, poll: float, connected: Any) -> None:
        step = script.pop(0)
        if step.startswith("up"):
            connected()
        if not script:
            stop.set()
        if step == "bug":
            raise RuntimeError("not a network error")
        raise ConnectionRefusedError("server gone")

    async def sleep(stop_: asyncio.Event, seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:  # what the mailbox shows while it is failing
            assert "RuntimeError: not a network error" in (await mailbox_row(box.id))["last_error"]

    monkeypatch.setattr(imap, "_follow", follow)
    monkeypatch.setattr(imap, "_sleep_unless", sleep)
    await asyncio.wait_for(imap.run_mailbox(box.id, stop), timeout=10)
    assert waits == [1, 2, 4, 1, 2, 4]
    assert "ConnectionRefusedError" in (await mailbox_row(box.id))["last_error"]


async def test_supervisor_follows_mailboxes_added_and_disabled_while_running(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    supervisor = MailSupervisor(refresh_seconds=0.2, poll_seconds=0.5)
    supervisor.start()
    try:
        box = await add_mailbox(mailbox_user)
        mailbox_user.append(build_mail(sender=new_address(), to=box.address))
        await wait_until(Case.count)
        await update_mailbox(SYSTEM, box.id, MailboxUpdate(active=False))
        await wait_until(lambda: _no_tasks(supervisor))
        mailbox_user.append(build_mail(sender=new_address(), to=box.address))
        await asyncio.sleep(1)
        assert await Case.count() == 1
    finally:
        stopping = time.monotonic()
        await supervisor.stop()
    assert time.monotonic() - stopping < 3


async def _no_tasks(supervisor: MailSupervisor) -> bool:
    return not supervisor._tasks


async def _has_error(mailbox_id: int, wanted: bool = True) -> bool:
    return bool((await mailbox_row(mailbox_id))["last_error"]) == wanted


async def _count_is(n: int) -> bool:
    return bool(await Case.count() == n)


# ------------------------------------------------------- 3. exactly once (dedupe)


async def test_same_mail_seen_twice_is_one_message(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    other_user = dovecot.new_user()
    other = await add_mailbox(other_user)
    message_id = new_id()
    raw = build_mail(sender=new_address(), to=box.address, message_id=message_id)
    # Delivered twice to one mailbox, once to another (with an extra trace header)
    mailbox_user.append(raw)
    mailbox_user.append(raw)
    other_user.append(b"Delivered-To: " + other.address.encode() + b"\r\n" + raw)
    first = await fetch(box)
    second = await fetch(other)
    # and re-polled from the start (a lost cursor)
    await Mailbox.update({Mailbox.last_uid: 0}).where(Mailbox.id == box.id)
    again = await fetch(box)

    assert [r.outcome for r in first] == ["message", "duplicate"]
    assert [r.outcome for r in second] == ["duplicate"]
    assert [r.already_done for r in again] == [True, True]
    assert await Message.count() == 1
    stored = await message_by_external_id(message_id)
    assert {r.case_id for r in first + second + again} == {stored["case"]}
    assert len(await ledger()) == 3


async def test_mail_without_message_id_gets_a_deterministic_one(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    raw = build_mail(sender=new_address(), to=box.address, message_id=None)
    mailbox_user.append(raw)
    mailbox_user.append(raw)
    other_user = dovecot.new_user()
    other_user.append(raw)
    outcomes = [r.outcome for r in await fetch(box)]
    outcomes += [r.outcome for r in await fetch(await add_mailbox(other_user))]
    assert outcomes == ["message", "duplicate", "duplicate"]
    expected = parse_mail(raw).message_id
    assert expected.endswith("@helpdesk.invalid>")
    assert expected == parse_mail(raw).message_id
    assert (await message_by_external_id(expected))["kind"] == "customer"
    assert await Message.count() == 1


async def test_mail_without_message_id_through_two_servers_is_one_message(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser
) -> None:
    # The same mail, with the trace headers each delivery adds on top
    raw = build_mail(sender=new_address(), to=mailbox_user.name, message_id=None)
    other_user = dovecot.new_user()
    mailbox_user.append(b"Delivered-To: " + mailbox_user.name.encode() + b"\r\n" + raw)
    other_user.append(b"Delivered-To: " + other_user.name.encode() + b"\r\n" + raw)
    await fetch(await add_mailbox(mailbox_user))
    await fetch(await add_mailbox(other_user))
    assert await Message.count() == 1
