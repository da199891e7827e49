"""Issue 3, item 8: outbound mail over SMTP, through the Dramatiq actor, never twice.

The SMTP server is a real aiosmtpd sink; the actor path runs on the
in-process (Stub) broker with worker threads, as the embedded mode does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import dramatiq
import pytest

from helpdesk import jobs
from helpdesk.channels.email import outbound
from helpdesk.channels.email.outbound import (
    pending_outbound_ids,
    queue_reply,
    send_outbound,
)
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.db import current_engine, transaction
from helpdesk.events import MessageAdded
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import messages
from helpdesk.tasks import setup_broker, start_worker
from tests.conftest import EventLog
from tests.factories import make_agent
from tests.integration.email._mail import (
    add_mailbox,
    build_mail,
    case_messages,
    fetch,
    new_address,
    new_id,
    outbound_rows,
)
from tests.mailservers import MailboxUser, SmtpSink

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
REPLY_TEXT = "Chào anh Nam,\n\nHoá đơn đã được gửi lại: C:\\hoa-don\\2024\\03.pdf\n\nTrân trọng\n"
REPLY_HTML = "<p>Chào anh Nam,</p><p>Hoá đơn đã được gửi lại.</p>"


@pytest.fixture
def worker(db: EventLog) -> Iterator[dramatiq.Broker]:
    """The embedded broker with two worker threads consuming it, and the job dispatcher."""
    broker = setup_broker(None, current_engine())
    running = start_worker(broker, 2)
    jobs.start_dispatcher(broker)
    yield broker
    jobs.stop_dispatcher()
    running.stop()


async def open_case_by_mail(user: MailboxUser, sink: SmtpSink, **kwargs: Any) -> tuple[int, str]:
    """A case opened by a customer's mail; its id and the mail's Message-ID."""
    box = await add_mailbox(user, sink, auto_acknowledge=kwargs.pop("auto_acknowledge", False))
    message_id = new_id()
    kwargs.setdefault("sender", new_address())
    user.append(build_mail(to=box.address, message_id=message_id, **kwargs))
    [result] = await fetch(box)
    assert result.case_id is not None
    return result.case_id, message_id


def parts(mail: EmailMessage) -> dict[str, Any]:
    """Text and HTML (line ends as \\n) and attachments of a sent mail."""
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    return {
        "text": text.get_content().replace("\r\n", "\n") if text else None,
        "html": html.get_content().replace("\r\n", "\n") if html else None,
        "files": [(a.get_filename(), a.get_content()) for a in mail.iter_attachments()],
    }


async def test_agent_reply_is_sent_by_the_actor_once_with_retries(
    db: EventLog,
    worker: dramatiq.Broker,
    mailbox_user: MailboxUser,
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "RETRY_DELAYS", (timedelta(milliseconds=300),))  # quick retry
    # Given a case opened by mail and an agent's reply with HTML and a file
    customer = new_address()
    case_id, customer_mid = await open_case_by_mail(
        mailbox_user, smtp_sink, sender=customer, subject="Xin gửi lại hoá đơn"
    )
    agent = await make_agent()
    # and an SMTP server that fails the first attempt (451), set before the reply: the
    # reply's own mail job may reach the worker at once
    smtp_sink.fail_next(1)
    await messages.reply(
        agent,
        case_id,
        MessageIn(
            body=REPLY_TEXT,
            html=REPLY_HTML,
            attachments=[AttachmentIn("hoá-đơn.pdf", PDF, "application/pdf")],
        ),
    )
    # When the reply event reaches the reactor three times (three mail jobs)
    from helpdesk.channels.email.actors import enqueue_on_reply

    [event] = [e for e in db.events if isinstance(e, MessageAdded) and e.kind == "reply"]
    async with transaction():
        for _ in range(3):
            await enqueue_on_reply(event)
    await asyncio.to_thread(worker.join, "mail", timeout=30_000)

    # Then exactly one mail went out, after one refused attempt
    assert len(smtp_sink.rejected) == 1
    [sent] = smtp_sink.messages
    [row] = await outbound_rows()
    assert (row["status"], row["attempts"], row["kind"]) == ("sent", 2, "reply")
    assert row["last_error"] == "451 4.3.0 Temporary failure (SmtpSink.fail_next)"
    assert row["server_reply"] == "250 2.0.0 OK: queued"
    mail = sent.parsed()
    assert sent.rcpt_tos == (customer,)
    assert mail["Message-ID"] == row["message_id"]
    assert mail["In-Reply-To"] == customer_mid
    assert customer_mid in str(mail["References"]).split()
    assert mail["Subject"] == f"Re: Xin gửi lại hoá đơn [#HD-{case_id:06d}]"
    assert mail["From"].addresses[0].addr_spec == mailbox_user.name
    assert mail["Auto-Submitted"] is None
    assert parts(mail) == {
        "text": REPLY_TEXT,
        "html": REPLY_HTML + "\n",
        "files": [("hoá-đơn.pdf", PDF)],
    }
    # and a customer reply to it comes back into the same case
    mailbox_user.append(
        build_mail(sender=customer, to=mailbox_user.name, in_reply_to=row["message_id"])
    )
    [back] = await fetch(row["mailbox"])
    assert back.case_id == case_id


async def test_sending_twice_or_concurrently_sends_once(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    case_id, _ = await open_case_by_mail(mailbox_user, smtp_sink)
    reply = await messages.reply(await make_agent(), case_id, MessageIn(body="Đã nhận."))
    # Queuing twice gives one row
    outbound_id = await queue_reply(reply.id)
    assert outbound_id is not None
    assert await queue_reply(reply.id) == outbound_id
    # Four concurrent senders in this loop and two on loops of their own (other workers)
    in_loop = [send_outbound(outbound_id) for _ in range(4)]
    elsewhere = [asyncio.to_thread(asyncio.run, send_outbound(outbound_id)) for _ in range(2)]
    results = await asyncio.gather(*in_loop, *elsewhere)
    assert sorted(results) == [False] * 5 + [True]
    # and the actor body run again afterwards does nothing
    assert await queue_reply(reply.id) == outbound_id
    assert await send_outbound(outbound_id) is False
    assert len(smtp_sink.messages) == 1
    assert await pending_outbound_ids() == []


async def test_temporary_failure_is_retried_permanent_failure_gives_up(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    case_id, _ = await open_case_by_mail(mailbox_user, smtp_sink)
    agent = await make_agent()
    first = await queue_reply((await messages.reply(agent, case_id, MessageIn(body="Một"))).id)
    second = await queue_reply((await messages.reply(agent, case_id, MessageIn(body="Hai"))).id)
    assert first is not None
    assert second is not None
    # A 4xx: the row goes back to pending, due again after the first retry delay
    smtp_sink.fail_next(1, 451)
    assert await send_outbound(first) is False
    row = await OutboundMail.select().where(OutboundMail.id == first).first()
    assert row is not None
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] > utcnow() + outbound.RETRY_DELAYS[0] - timedelta(seconds=10)
    assert await send_outbound(first) is False  # not due yet: nothing is sent early
    await OutboundMail.update({OutboundMail.next_attempt_at: utcnow()}).where(
        OutboundMail.id == first
    )
    assert await send_outbound(first) is True
    # A 5xx: no retry helps; the mail is marked failed and the agents are told
    smtp_sink.fail_next(1, 550)
    assert await send_outbound(second) is False
    row = await OutboundMail.select().where(OutboundMail.id == second).first()
    assert row is not None
    assert row["status"] == "failed"
    assert "550" in row["last_error"]
    assert await pending_outbound_ids() == []
    note = (await case_messages(case_id))[-1]
    assert note["kind"] == "note"
    assert "Không gửi được email đến" in note["body_text"]  # the case is in Vietnamese
    assert len(smtp_sink.messages) == 1
    # The last attempt also gives up instead of leaving the mail pending forever
    third = await queue_reply((await messages.reply(agent, case_id, MessageIn(body="Ba"))).id)
    assert third is not None
    await OutboundMail.update({OutboundMail.attempts: outbound.MAX_ATTEMPTS - 1}).where(
        OutboundMail.id == third
    )
    smtp_sink.fail_next(1, 421)
    assert await send_outbound(third) is False
    assert (await outbound_rows())[-1]["status"] == "failed"


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("Cannot log in", "Hello, I cannot log in to my account since yesterday.\n", "en"),
        ("Không đăng nhập được", "Chào anh, tôi không đăng nhập được vào tài khoản.\n", "vi"),
    ],
    ids=["en", "vi"],
)
async def test_acknowledgement_is_in_the_customers_language(
    db: EventLog,
    mailbox_user: MailboxUser,
    smtp_sink: SmtpSink,
    subject: str,
    body: str,
    language: str,
) -> None:
    outbound.configure("test-secret-key-0123456789", "helpdesk.test")
    case_id, customer_mid = await open_case_by_mail(
        mailbox_user,
        smtp_sink,
        subject=subject,
        body=body,
        sender_name="Nam Trần",
        auto_acknowledge=True,
    )
    [ack_id] = await pending_outbound_ids()
    assert await send_outbound(ack_id) is True
    [sent] = smtp_sink.messages
    mail = sent.parsed()
    reference = f"HD-{case_id:06d}"
    expected = {
        "en": ("We received your request", "Dear Nam Trần,", f"Case number: {reference}"),
        "vi": ("Đã tiếp nhận yêu cầu hỗ trợ", "Kính gửi Quý khách Nam Trần,", reference),
    }[language]
    assert mail["Subject"] == f"{expected[0]} [#{reference}]"
    text = parts(mail)["text"]
    assert text.startswith(expected[1])
    assert expected[2] in text
    assert subject in text
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == customer_mid
    assert str(mail["Message-ID"]).endswith("@helpdesk.test>")
    [row] = await outbound_rows()
    assert (row["kind"], row["status"], row["message"]) == ("acknowledgement", "sent", None)
