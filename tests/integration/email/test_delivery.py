"""Issue 11, item 5: outbound mail is marked sent with the server's answer at acceptance,
a sender that died is replaced after a short claim by a resend with the same Message-ID,
and each mail's delivery state (queued, sending, unknown, retrying, sent, failed) is kept.

The SMTP server is a real aiosmtpd sink; some tests give it a handler that misbehaves
on purpose (drops the connection at QUIT, or after the data without answering).
"""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from helpdesk.channels.email import _render, _smtp, outbound
from helpdesk.channels.email.delivery import delivery_state, mails_of_case
from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.channels.email.outbound import queue_reply, send_outbound
from helpdesk.channels.email.schemas import DeliveryState, OutboundMailOut
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.db import current_engine
from helpdesk.policy import SYSTEM
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from helpdesk.tables import Job
from tests.conftest import EventLog
from tests.factories import make_agent, make_case
from tests.integration._processes import helpdesk_env
from tests.integration.email._mail import case_messages
from tests.mailservers import SmtpSink, _SinkHandler


class Handler(_SinkHandler):
    """The sink's handler, with a chosen answer to the data and optional faults."""

    def __init__(
        self, sink: SmtpSink, *, answer: str | None = None, drop: str | None = None
    ) -> None:
        super().__init__(sink)
        self.answer = answer
        self.drop = drop  # "quit": drop the connection at QUIT; "data": after the data
        self.status_at_quit: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if self.drop == "data":
            server.transport.abort()  # the server keeps the mail, the client gets no answer
        return self.answer if self.answer and reply.startswith("250") else reply

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        rows = await OutboundMail.select(OutboundMail.status)
        self.status_at_quit.extend(row["status"] for row in rows)
        if self.drop == "quit":
            server.transport.abort()
        return "221 Bye"


class Killer(Handler):
    """Takes the mail, then SIGKILLs the sending process before answering."""

    victim: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
        return reply


SENDER = Path(__file__).with_name("_sender.py")
ROOT = Path(__file__).resolve().parents[3]


def start_sender(outbound_id: int, database_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    """A process that makes one attempt at the mail (``_sender.py``), logging to tmp_path."""
    with (tmp_path / "sender.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(SENDER), str(outbound_id)],
            cwd=ROOT, env=helpdesk_env(database_url, tmp_path / "sender-data"),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def use(sink: SmtpSink, handler: Handler) -> Handler:
    """Make the running sink answer new connections with ``handler``."""
    assert sink._controller is not None
    sink._controller.handler = handler
    return handler


def watch_quit(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Record the error of every failed QUIT of smtplib (it still fails)."""
    errors: list[BaseException] = []
    original = smtplib.SMTP.quit

    def quit_(self: smtplib.SMTP) -> tuple[int, bytes]:
        try:
            return original(self)
        except BaseException as exc:
            errors.append(exc)
            raise

    monkeypatch.setattr(smtplib.SMTP, "quit", quit_)
    return errors


async def reply_mail(sink: SmtpSink) -> tuple[int, int]:
    """A case with an agent's reply queued for mail through ``sink``: (outbound id, case id)."""
    await create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ", address=f"support{time.monotonic_ns()}@helpdesk.test",
            imap_host="127.0.0.1", imap_user="u", imap_password="p",
            smtp_host=sink.host, smtp_port=sink.port, smtp_security="plain",
        ),
    )  # fmt: skip
    case = await make_case()
    reply = await messages.reply(await make_agent(), case.id, MessageIn(body="Chào chị Lan."))
    outbound_id = await queue_reply(reply.id)
    assert outbound_id is not None
    return outbound_id, case.id


async def the_mail(case_id: int) -> OutboundMailOut:
    [mail] = await mails_of_case(case_id)
    return mail


async def send_mail_jobs(outbound_id: int) -> list[dict[str, Any]]:
    """The recorded ``send_mail`` jobs of this mail."""
    rows = await Job.select().where(Job.actor == "send_mail").output(load_json=True)
    return [row for row in rows if row["args"] == [outbound_id]]


async def test_acceptance_is_recorded_with_the_servers_answer_before_quit(
    db: EventLog, smtp_sink: SmtpSink
) -> None:
    # Given a server that answers the data with its queue id
    handler = use(smtp_sink, Handler(smtp_sink, answer="250 2.0.0 Ok: queued as 4XyZ7Q"))
    outbound_id, case_id = await reply_mail(smtp_sink)
    assert (await the_mail(case_id)).state is DeliveryState.QUEUED
    # When the mail is sent
    before = utcnow()
    assert await send_outbound(outbound_id) is True
    # Then the row was already "sent" when QUIT came, with the server's answer and the time
    assert handler.status_at_quit == ["sent"]
    mail = await the_mail(case_id)
    assert mail.state is DeliveryState.SENT
    assert mail.server_reply == "250 2.0.0 Ok: queued as 4XyZ7Q"
    assert mail.sent_at is not None
    assert before <= mail.sent_at <= utcnow()
    assert (mail.attempts, mail.unknown_outcomes, mail.last_error) == (1, 0, "")
    [received] = smtp_sink.messages
    assert received.parsed()["Message-ID"] == mail.internet_message_id


async def test_a_quit_that_fails_after_acceptance_leaves_the_mail_sent(
    db: EventLog, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server that accepts the mail, then drops the connection at QUIT
    handler = use(smtp_sink, Handler(smtp_sink, drop="quit"))
    quit_errors = watch_quit(monkeypatch)
    outbound_id, case_id = await reply_mail(smtp_sink)
    # When the mail is sent, and its job runs again later
    assert await send_outbound(outbound_id) is True
    assert await send_outbound(outbound_id) is False
    # Then QUIT did fail, yet the mail is sent, once, and nothing waits to send it again
    assert [type(e) for e in quit_errors] == [smtplib.SMTPServerDisconnected]
    assert handler.status_at_quit == ["sent"]
    mail = await the_mail(case_id)
    assert (mail.state, mail.server_reply, mail.last_error) == (
        DeliveryState.SENT,
        "250 2.0.0 OK: queued",
        "",
    )
    assert len(smtp_sink.messages) == 1
    assert await send_mail_jobs(outbound_id) == []


async def test_a_sender_that_died_after_acceptance_is_replaced_after_the_short_claim(
    db: EventLog, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbound_id, case_id = await reply_mail(smtp_sink)
    # Given a sender that claimed the mail and handed it to the server, then died
    # before it could record the acceptance
    attempt = await outbound._claim(outbound_id)
    assert attempt is not None
    message, mailbox = await _render.build(outbound_id)
    session = await asyncio.to_thread(_smtp.deliver, mailbox, message, attempt.started)
    await asyncio.to_thread(_smtp.finish, session)
    assert len(smtp_sink.messages) == 1
    # When its job runs again while the claim is live: it waits a moment for the
    # attempt to end, then sends nothing and records a job for the claim's expiry
    monkeypatch.setattr(outbound, "LIVE_CLAIM_WAIT", timedelta(milliseconds=300))
    began = time.monotonic()
    assert await send_outbound(outbound_id) is False
    assert time.monotonic() - began >= 0.3
    assert len(smtp_sink.messages) == 1
    mail = await the_mail(case_id)
    assert mail.state is DeliveryState.SENDING
    assert mail.sending_since is not None
    [job] = await send_mail_jobs(outbound_id)
    expires = mail.sending_since + outbound.CLAIM_TIMEOUT
    assert expires <= job["run_at"] <= expires + timedelta(seconds=2)
    # (the real claim is a few minutes, never the old ten)
    assert timedelta(seconds=_smtp.SEND_LIMIT) < outbound.CLAIM_TIMEOUT <= timedelta(minutes=3)
    # and once the (here shortened) claim has expired
    monkeypatch.setattr(outbound, "CLAIM_TIMEOUT", timedelta(milliseconds=300))
    await asyncio.sleep(0.4)
    assert (await the_mail(case_id)).state is DeliveryState.UNKNOWN
    assert await send_outbound(outbound_id) is True
    # Then the mail went again with the same Message-ID, recorded as a resend after
    # an attempt whose outcome was unknown
    first, second = smtp_sink.messages
    assert first.parsed()["Message-ID"] == second.parsed()["Message-ID"]
    assert first.parsed()["Message-ID"] == mail.internet_message_id
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts, mail.unknown_outcomes) == (DeliveryState.SENT, 2, 1)
    assert mail.last_error == outbound.DIED_MID_SEND
    # and a mail marked sent is never sent again, however old its claim
    await asyncio.sleep(0.4)
    assert await send_outbound(outbound_id) is False
    assert len(smtp_sink.messages) == 2


async def test_a_worker_killed_as_the_server_takes_the_mail_is_replaced(
    db: EventLog,
    smtp_sink: SmtpSink,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outbound_id, case_id = await reply_mail(smtp_sink)
    # Given a real sending process, SIGKILLed the moment the server has the whole mail
    killer = use(smtp_sink, Killer(smtp_sink))
    process = start_sender(outbound_id, database_url, tmp_path)
    killer.victim = process.pid
    try:
        code = await asyncio.to_thread(process.wait, 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert code == -signal.SIGKILL, (tmp_path / "sender.log").read_text()
    # Then the server has the mail and the row still says "sending"
    assert len(smtp_sink.messages) == 1
    assert (await the_mail(case_id)).state is DeliveryState.SENDING
    # When the (here shortened) claim expires and the job runs again
    killer.victim = None
    monkeypatch.setattr(outbound, "CLAIM_TIMEOUT", timedelta(milliseconds=300))
    await asyncio.sleep(0.4)
    assert await send_outbound(outbound_id) is True
    # Then the same mail went again, with the same Message-ID, counted as an unknown outcome
    first, second = smtp_sink.messages
    assert first.parsed()["Message-ID"] == second.parsed()["Message-ID"]
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts, mail.unknown_outcomes) == (DeliveryState.SENT, 2, 1)


async def test_a_job_that_meets_a_running_attempt_waits_for_it_and_leaves_no_job(
    db: EventLog, smtp_sink: SmtpSink
) -> None:
    # Given a server that takes a second to answer the data
    class Slow(Handler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            await asyncio.sleep(1)
            return await super().handle_DATA(server, session, envelope)

    use(smtp_sink, Slow(smtp_sink))
    outbound_id, case_id = await reply_mail(smtp_sink)
    # When the mail's job runs twice at once
    results = await asyncio.gather(send_outbound(outbound_id), send_outbound(outbound_id))
    # Then one run sent it, the other waited for that and found it sent: no job is left
    assert sorted(results) == [False, True]
    assert len(smtp_sink.messages) == 1
    assert (await the_mail(case_id)).state is DeliveryState.SENT
    assert await send_mail_jobs(outbound_id) == []


async def test_a_database_error_while_recording_the_acceptance_is_retried(
    db: EventLog, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that fails the first time the acceptance is written
    outbound_id, case_id = await reply_mail(smtp_sink)
    engine = current_engine()
    original = engine.run_querystring
    failed: list[str] = []

    async def flaky(querystring: Any, *args: Any, **kwargs: Any) -> Any:
        sql = str(querystring)
        if not failed and sql.startswith('UPDATE "outbound_mail"') and "server_reply" in sql:
            failed.append(sql)
            raise ConnectionError("connection to the database lost")
        return await original(querystring, *args, **kwargs)

    monkeypatch.setattr(engine, "run_querystring", flaky)
    # When the mail is sent
    assert await send_outbound(outbound_id) is True
    # Then the acceptance was recorded on the second try, and the mail went once
    assert len(failed) == 1
    mail = await the_mail(case_id)
    assert (mail.state, mail.server_reply) == (DeliveryState.SENT, "250 2.0.0 OK: queued")
    assert len(smtp_sink.messages) == 1


async def test_a_connection_lost_after_the_data_is_an_unknown_outcome_sent_again(
    db: EventLog, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound, "RETRY_DELAYS", (timedelta(0),))
    # Given a server that takes the whole mail, then drops the connection unanswered
    handler = use(smtp_sink, Handler(smtp_sink, drop="data"))
    outbound_id, case_id = await reply_mail(smtp_sink)
    # When the mail is sent
    assert await send_outbound(outbound_id) is False
    # Then its outcome is unknown: it waits to be sent again, and says why
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts, mail.unknown_outcomes) == (DeliveryState.RETRYING, 1, 1)
    assert mail.last_error.startswith("the message was sent but no answer came")
    assert [job["run_at"] for job in await send_mail_jobs(outbound_id)] == [mail.next_attempt_at]
    # and the next attempt sends the same mail again
    handler.drop = None
    assert await send_outbound(outbound_id) is True
    first, second = smtp_sink.messages
    assert first.parsed()["Message-ID"] == second.parsed()["Message-ID"]
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts, mail.unknown_outcomes) == (DeliveryState.SENT, 2, 1)


async def test_a_temporary_failure_is_retrying_then_sent(db: EventLog, smtp_sink: SmtpSink) -> None:
    outbound_id, case_id = await reply_mail(smtp_sink)
    # Given a server that refuses the first attempt for now
    smtp_sink.fail_next(1, 451, "4.7.1 Greylisted, try again later")
    # When the mail is sent
    began = utcnow()
    assert await send_outbound(outbound_id) is False
    # Then it is retrying: one attempt, the server's answer, the next try and its job
    mail = await the_mail(case_id)
    assert mail.state is DeliveryState.RETRYING
    assert (mail.attempts, mail.last_error) == (1, "451 4.7.1 Greylisted, try again later")
    assert mail.next_attempt_at is not None
    delay = outbound.RETRY_DELAYS[0]
    assert began + delay <= mail.next_attempt_at <= utcnow() + delay
    [job] = await send_mail_jobs(outbound_id)
    assert job["run_at"] == mail.next_attempt_at
    # and a job that runs early sends nothing
    assert await send_outbound(outbound_id) is False
    assert smtp_sink.messages == []
    # When the next attempt is due and runs
    await OutboundMail.update({OutboundMail.next_attempt_at: utcnow()}).where(
        OutboundMail.id == outbound_id
    )
    assert await send_outbound(outbound_id) is True
    # Then it is sent
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts, mail.server_reply) == (
        DeliveryState.SENT,
        2,
        "250 2.0.0 OK: queued",
    )
    assert mail.next_attempt_at is None
    assert len(smtp_sink.messages) == 1


async def test_a_permanent_failure_is_failed_with_the_servers_answer_and_a_note(
    db: EventLog, smtp_sink: SmtpSink
) -> None:
    outbound_id, case_id = await reply_mail(smtp_sink)
    smtp_sink.fail_next(1, 554, "5.7.1 Message rejected as spam")
    assert await send_outbound(outbound_id) is False
    mail = await the_mail(case_id)
    assert (mail.state, mail.attempts) == (DeliveryState.FAILED, 1)
    assert mail.last_error == "554 5.7.1 Message rejected as spam"
    assert mail.failed_at is not None
    assert mail.next_attempt_at is None
    assert await send_mail_jobs(outbound_id) == []
    note = (await case_messages(case_id))[-1]
    assert note["kind"] == "note"
    assert "554 5.7.1 Message rejected as spam" in note["body_text"]
    assert mail.to_address in note["body_text"]
    # and it is not tried again
    assert await send_outbound(outbound_id) is False
    assert smtp_sink.messages == []


async def test_the_session_is_cut_at_the_send_limit_and_data_never_starts_late(
    db: EventLog, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbound_id, _ = await reply_mail(smtp_sink)
    message, mailbox = await _render.build(outbound_id)
    # A session that could only reach DATA after the setup limit sends nothing
    late = time.monotonic() - _smtp.SETUP_LIMIT - 1
    with pytest.raises(_smtp.TooSlow):
        await asyncio.to_thread(_smtp.deliver, mailbox, message, late)
    assert smtp_sink.messages == []
    assert not _smtp.is_permanent(_smtp.TooSlow())

    # A server that never answers the data is cut off at the send limit, not after
    # the 30 s socket timeout, and the outcome is reported as unknown
    class Silent(Handler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            await asyncio.sleep(3)
            return "250 2.0.0 too late"

    use(smtp_sink, Silent(smtp_sink))
    monkeypatch.setattr(_smtp, "SEND_LIMIT", 0.5)
    began = time.monotonic()
    with pytest.raises(_smtp.OutcomeUnknown):
        await asyncio.to_thread(_smtp.deliver, mailbox, message, began)
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(
    ("status", "attempts", "claimed_ago", "state"),
    [
        ("pending", 0, None, DeliveryState.QUEUED),
        ("pending", 2, None, DeliveryState.RETRYING),
        ("sending", 1, timedelta(seconds=5), DeliveryState.SENDING),
        ("sending", 1, outbound.CLAIM_TIMEOUT + timedelta(seconds=1), DeliveryState.UNKNOWN),
        ("sent", 1, timedelta(seconds=5), DeliveryState.SENT),
        ("failed", 3, None, DeliveryState.FAILED),
    ],
)
def test_the_delivery_state_of_a_row(
    status: str, attempts: int, claimed_ago: timedelta | None, state: DeliveryState
) -> None:
    now = utcnow()
    row = {"status": status, "attempts": attempts,
           "claimed_at": now - claimed_ago if claimed_ago else None}  # fmt: skip
    assert delivery_state(row, now) is state


def test_the_api_shape_of_a_mail_is_plain_json() -> None:
    mail = OutboundMailOut(
        id=1, case_id=2, case_message_id=3, kind="reply", to_address="lan@example.vn",
        internet_message_id="<hd.reply.3.x@helpdesk.test>", state=DeliveryState.SENT,
        attempts=1, created_at=utcnow(), sent_at=utcnow(), server_reply="250 ok",
    )  # fmt: skip
    data = msgspec.json.decode(msgspec.json.encode(mail))
    assert data["state"] == "sent"
    assert data["server_reply"] == "250 ok"
