"""Issue 3, item 6: poison mail never blocks a mailbox.

Unreadable mail is quarantined with its raw bytes kept, the rest of the batch
is filed, the quarantine is counted per mailbox and can be reprocessed;
oversized mail is rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpdesk.channels.email import ingest
from helpdesk.channels.email import threading as mail_threading
from helpdesk.channels.email.mailboxes import get_mailbox, quarantined_count
from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import InboundMail, Mailbox
from helpdesk.policy import SYSTEM
from helpdesk.storage import blob_store
from helpdesk.tables import Case, Message
from tests.conftest import EventLog
from tests.integration.email._mail import (
    MB,
    add_mailbox,
    build_mail,
    fetch,
    ledger,
    new_address,
    server_copies,
    use_blob_store,
)
from tests.mailservers import MailboxUser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


def single_line_mail(size: int) -> bytes:
    """A mail whose body is one line of ``size`` bytes (no line break at all)."""
    head = (
        "From: Khách <khach.dai@example.vn>\r\nTo: support@helpdesk.test\r\n"
        "Subject: Một dòng rất dài\r\nMessage-ID: <mot.dong@example.vn>\r\n\r\n"
    ).encode()
    return head + b"x" * size + b"\r\n"


async def test_poison_is_quarantined_and_the_batch_goes_on(
    db: EventLog, mailbox_user: MailboxUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_blob_store(tmp_path)  # 25 MB attachments, 50 MB mails
    box = await add_mailbox(mailbox_user)
    first = build_mail(sender=new_address(), to=box.address, subject="Trước")

    # A mail whose filing fails for a reason of its own (a bug, a bad row…)
    find_case = mail_threading.find_case

    async def failing_find_case(parsed: ParsedMail) -> int | None:
        if "hỏng" in parsed.subject:
            raise RuntimeError("filing bug")
        return await find_case(parsed)

    monkeypatch.setattr(mail_threading, "find_case", failing_find_case)
    batch: list[tuple[str, bytes, str]] = [
        ("first", first, "message"),
        ("broken MIME", (FIXTURES / "broken_no_closing_boundary.eml").read_bytes(), "message"),
        ("NUL bytes", (FIXTURES / "nul_bytes.eml").read_bytes(), "message"),
        ("unknown charset", (FIXTURES / "unknown_charsets.eml").read_bytes(), "message"),
        ("bad base64", (FIXTURES / "bad_base64.eml").read_bytes(), "message"),
        ("25 MB on one line", single_line_mail(25 * MB), "quarantined"),
        ("not a mail", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "quarantined"),
        ("no body", build_mail(sender=new_address(), to=box.address, body=""), "message"),
        ("filing fails", build_mail(sender=new_address(), subject="Thư hỏng"), "quarantined"),
        ("last", build_mail(sender=new_address(), to=box.address, subject="Sau"), "message"),
    ]
    uids = [mailbox_user.append(raw) for _, raw, _ in batch]
    served = server_copies(mailbox_user)

    results = await fetch(box)

    assert [(name, r.outcome) for (name, _, _), r in zip(batch, results, strict=True)] == [
        (name, outcome) for name, _, outcome in batch
    ]
    assert "line_too_long" in results[5].reason
    assert "not_a_message" in results[6].reason
    assert "RuntimeError: filing bug" in results[8].reason
    # The rest of the batch was filed and the cursor moved past every mail
    assert await Case.count() == 7
    row = await Mailbox.select(Mailbox.last_uid).where(Mailbox.id == box.id).first()
    assert row is not None
    assert row["last_uid"] == uids[-1]
    # The raw bytes of every mail are kept, filed or quarantined; the quarantine is counted
    rows = await ledger(box.id)
    assert {r["uid"]: blob_store().get(r["raw_sha256"]) for r in rows} == served
    quarantined = [r["uid"] for r in rows if r["outcome"] == "quarantined"]
    assert quarantined == [uids[5], uids[6], uids[8]]
    assert await quarantined_count() == 3
    assert (await get_mailbox(SYSTEM, box.id)).quarantined == 3
    # A fetch finds nothing new: quarantined mail is not retried by the ingester
    assert await fetch(box) == []

    # When the cause is fixed, reprocessing files what can be filed now
    monkeypatch.setattr(mail_threading, "find_case", find_case)
    retried = await ingest.reprocess_quarantined()
    assert sorted(r.outcome for r in retried) == ["message", "quarantined", "quarantined"]
    assert await quarantined_count() == 2
    assert (await get_mailbox(SYSTEM, box.id)).quarantined == 2
    assert await Case.count() == 8
    attempts = {r["uid"]: r["attempts"] for r in await ledger(box.id)}
    assert attempts[uids[5]] == attempts[uids[6]] == attempts[uids[8]] == 2
    fixed = await InboundMail.select().where(InboundMail.uid == uids[8]).first()
    assert fixed is not None
    assert fixed["outcome"] == "message"
    assert fixed["case"] is not None
    assert fixed["message"] is not None


async def test_oversized_mail_is_rejected(db: EventLog, mailbox_user: MailboxUser) -> None:
    # The db fixture's blob store takes 1 MB attachments, so mails up to 2 MB
    box = await add_mailbox(mailbox_user)
    too_big = build_mail(
        sender=new_address(),
        to=box.address,
        attachments=[("video.mp4", "video/mp4", b"\x00" * (2 * MB))],
    )
    big_attachment = build_mail(
        sender=new_address(),
        to=box.address,
        attachments=[("scan.pdf", "application/pdf", b"%PDF" * (300 * 1024))],
    )
    assert len(big_attachment) < 2 * MB < len(too_big)
    for raw in (too_big, big_attachment, build_mail(sender=new_address(), to=box.address)):
        mailbox_user.append(raw)
    results = await fetch(box)
    assert [r.outcome for r in results] == ["rejected", "rejected", "message"]
    assert "too_large" in results[0].reason
    assert "scan.pdf" in results[1].reason
    # Rejected mail keeps its raw bytes but is not quarantine to be retried
    rows = await ledger(box.id)
    assert blob_store().get(rows[0]["raw_sha256"]) == too_big
    assert await quarantined_count() == 0
    assert await Message.count() == 1


async def test_quarantine_is_not_doubled_by_a_new_uidvalidity(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    mailbox_user.append(b"not a mail at all, just text without any header line\r\n")
    assert [r.outcome for r in await fetch(box)] == ["quarantined"]
    mailbox_user.reset_uidvalidity()
    results: list[Any] = await fetch(box)
    assert [r.outcome for r in results] == ["duplicate"]
    assert await quarantined_count() == 1
    assert len(await ingest.reprocess_quarantined()) == 1
