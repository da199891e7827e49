"""Issue 3, item 7: no mail loops.

No acknowledgement to machine-sent mail or to our own addresses, bounces end
as notes, one automatic mail per sender per mailbox per window, new cases per
sender rate-limited, and two auto-responders talking to each other stop.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Literal

import pytest

from helpdesk.channels.email.loop_guard import LIMITS
from helpdesk.channels.email.outbound import pending_outbound_ids, queue_reply, send_outbound
from helpdesk.channels.email.tables import AutoReplyLog, OutboundMail
from helpdesk.clock import utcnow
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from helpdesk.tables import Case, CustomerEmail
from tests.conftest import EventLog
from tests.factories import make_agent
from tests.integration.email._mail import (
    MB,
    add_mailbox,
    all_cases,
    build_dsn,
    build_mail,
    case_messages,
    fetch,
    new_address,
    new_id,
    outbound_rows,
)
from tests.mailservers import Dovecot, MailboxUser, SmtpSink

MACHINE_HEADERS = {
    "auto-submitted": {"Auto-Submitted": "auto-replied"},
    "auto-generated": {"Auto-Submitted": "auto-generated"},
    "precedence bulk": {"Precedence": "bulk"},
    "precedence list": {"Precedence": "list"},
    "precedence junk": {"Precedence": "junk"},
    "x-autoreply": {"X-Autoreply": "yes"},
    "list-id": {"List-Id": "Tin khuyến mãi <news.shop.example.vn>"},
}


async def send_pending() -> int:
    """Send every queued mail now (what the mail actor does); how many went out."""
    return sum([await send_outbound(i) for i in await pending_outbound_ids()])


async def test_no_acknowledgement_to_machines_or_to_ourselves(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    other = await add_mailbox(dovecot.new_user(), smtp_sink)
    for headers in MACHINE_HEADERS.values():
        mailbox_user.append(build_mail(sender=new_address(), to=box.address, headers=headers))
    mailbox_user.append(build_mail(sender=box.address, to=box.address))
    mailbox_user.append(build_mail(sender=other.address.upper(), to=box.address))
    person = new_address()
    mailbox_user.append(build_mail(sender=person, to=box.address))

    results = await fetch(box)

    # Machine mail still opens cases (a person may be behind it) but gets no answer
    assert [r.outcome for r in results] == ["message"] * len(MACHINE_HEADERS) + [
        "ignored",
        "ignored",
        "message",
    ]
    assert "our own" in results[-2].reason
    [ack] = await outbound_rows()
    assert (ack["kind"], ack["to_address"]) == ("acknowledgement", person)
    assert await send_pending() == 1
    [sent] = smtp_sink.messages
    assert sent.parsed()["Auto-Submitted"] == "auto-replied"
    assert sent.rcpt_tos == (person,)


async def test_one_automatic_mail_per_sender_per_mailbox_per_window(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    other_user = dovecot.new_user()
    other = await add_mailbox(other_user, smtp_sink, auto_acknowledge=True)
    sender = new_address()
    for n in range(3):
        mailbox_user.append(build_mail(sender=sender, to=box.address, subject=f"Việc {n}"))
    await fetch(box)
    assert len(await all_cases()) == 3
    assert [r["to_address"] for r in await outbound_rows()] == [sender]
    # Another mailbox answers on its own account
    other_user.append(build_mail(sender=sender, to=other.address))
    await fetch(other)
    assert [r["mailbox"] for r in await outbound_rows()] == [box.id, other.id]
    # Once the window has passed, the sender is acknowledged again
    await AutoReplyLog.update(
        {AutoReplyLog.sent_at: utcnow() - LIMITS.auto_reply_window - timedelta(minutes=1)}
    ).where(AutoReplyLog.mailbox == box.id)
    mailbox_user.append(build_mail(sender=sender, to=box.address, subject="Việc mới"))
    await fetch(box)
    assert [r["mailbox"] for r in await outbound_rows()] == [box.id, other.id, box.id]


async def test_new_cases_per_sender_are_rate_limited(
    db: EventLog, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LIMITS, "new_cases_per_hour", 3)
    box = await add_mailbox(mailbox_user)
    flood = new_address()
    first_id = new_id()
    mailbox_user.append(build_mail(sender=flood, to=box.address, message_id=first_id))
    for n in range(4):
        mailbox_user.append(build_mail(sender=flood, to=box.address, subject=f"Spam {n}"))
    # A reply in an existing case is still taken, and other senders are not affected
    mailbox_user.append(
        build_mail(sender=flood, to=box.address, in_reply_to=first_id, references=[first_id])
    )
    mailbox_user.append(build_mail(sender=new_address(), to=box.address))
    results = await fetch(box)
    assert [r.outcome for r in results] == [
        *["message"] * 3,
        *["ignored"] * 2,
        "message",
        "message",
    ]
    assert "too many new cases" in results[3].reason
    assert len(await all_cases()) == 4
    assert len(await case_messages(results[0].case_id or 0)) == 2


async def test_bounce_attaches_to_the_case_and_flags_the_address(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given a case and our reply to the customer
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    customer = new_address()
    mailbox_user.append(build_mail(sender=customer, to=box.address))
    [opened] = await fetch(box)
    assert opened.case_id is not None
    agent = await make_agent()
    reply = await messages.reply(agent, opened.case_id, MessageIn(body="Chào anh, đã xử lý."))
    outbound_id = await queue_reply(reply.id)
    assert outbound_id is not None
    assert await send_pending() == 2  # the acknowledgement and the reply
    sent_reply = smtp_sink.messages[-1]
    # When the customer's server bounces it
    mailbox_user.append(build_dsn(sent_reply.data, failed=customer, to=box.address))
    [bounce] = await fetch(box)
    # Then the report is a note in that case, no case is opened and nobody is answered
    assert (bounce.outcome, bounce.case_id) == ("bounce", opened.case_id)
    assert len(await all_cases()) == 1
    note = (await case_messages(opened.case_id))[-1]
    assert note["kind"] == "note"
    assert note["body_text"].startswith(f"Không gửi được email đến: {customer}")  # as the case
    assert bounce.reason == f"Delivery failed: {customer}"  # the ledger's, in English
    assert len(await outbound_rows()) == 2
    row = await CustomerEmail.select().where(CustomerEmail.address == customer).first()
    assert row is not None
    assert row["bounced_at"] is not None
    # and replies no longer go to the dead address
    again = await messages.reply(agent, opened.case_id, MessageIn(body="Anh còn đó không?"))
    assert await queue_reply(again.id) is None


async def test_a_bounce_of_unknown_mail_opens_nothing(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user, auto_acknowledge=True)
    stranger = build_mail(sender=box.address, to="ai.do@example.vn", message_id=new_id())
    mailbox_user.append(build_dsn(stranger, failed="ai.do@example.vn", to=box.address))
    [result] = await fetch(box)
    assert (result.outcome, result.case_id) == ("bounce", None)
    assert await Case.count() == 0
    assert await OutboundMail.count() == 0


Style = Literal["bare", "same subject", "threaded"]


class AutoResponder:
    """A careless external auto-responder: it answers every mail it receives (at
    the SMTP sink) by putting a reply into our inbox, and ignores Auto-Submitted.

    * ``bare``: a new subject and no threading headers (the worst case);
    * ``same subject``: "Auto: <subject>" (our [#HD-…] stays), no threading;
    * ``threaded``: In-Reply-To/References and its own Auto-Submitted.
    """

    def __init__(self, address: str, sink: SmtpSink, inbox: MailboxUser, style: Style) -> None:
        self.address, self.sink, self.inbox, self.style = address, sink, inbox, style
        self.answered = 0
        self.sent = 0

    def write(self, subject: str = "Hỏi thông tin") -> None:
        self.inbox.append(build_mail(sender=self.address, to=self.inbox.name, subject=subject))
        self.sent += 1

    def answer_new_mail(self) -> int:
        received = self.sink.messages[self.answered :]
        for mail in received:
            self._answer(mail.parsed())
        self.answered += len(received)
        return len(received)

    def _answer(self, mail: EmailMessage) -> None:
        parent = str(mail["Message-ID"])
        subject = str(mail["Subject"])
        kwargs: dict[str, object] = {"subject": "Thư trả lời tự động: tôi đang nghỉ phép"}
        if self.style == "same subject":
            kwargs = {"subject": f"Auto: {subject}"}
        elif self.style == "threaded":
            kwargs = {
                "subject": f"Re: {subject}",
                "in_reply_to": parent,
                "references": [parent],
                "headers": {"Auto-Submitted": "auto-replied"},
            }
        raw = build_mail(sender=self.address, to=self.inbox.name, **kwargs)  # type: ignore[arg-type]
        self.inbox.append(raw)
        self.sent += 1


@pytest.mark.parametrize("style", ["bare", "same subject", "threaded"])
async def test_two_auto_responders_stop_talking(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink, style: Style
) -> None:
    # Given our mailbox (acknowledging every new case) and an external auto-responder
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    responder = AutoResponder(new_address("tu-dong"), smtp_sink, mailbox_user, style)
    responder.write()
    # When they answer each other for several rounds
    activity = []
    for _ in range(6):
        filed = len(await fetch(box))
        sent = await send_pending()
        answered = responder.answer_new_mail()
        activity.append((filed, sent, answered))
    # Then the exchange dies out after one acknowledgement and one auto-reply
    assert len(smtp_sink.messages) == 1
    assert responder.sent == 2
    assert activity[2:] == [(0, 0, 0)] * 4
    assert len(await all_cases()) <= 2


async def test_oversized_mail_gets_at_most_one_notice(
    db: EventLog, dovecot: Dovecot, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    # Given a mailbox that takes mails up to 2 MB (the db fixture's 1 MB attachments)
    box = await add_mailbox(mailbox_user, smtp_sink)
    other = await add_mailbox(dovecot.new_user(), smtp_sink)
    video = [("video.mp4", "video/mp4", b"\x00" * (2 * MB))]
    sender, machine, viet = new_address("gui.lai"), new_address("he.thong"), new_address()
    # When one sender sends three oversized mails, a machine one, and we one ourselves
    for n in range(3):
        mailbox_user.append(
            build_mail(sender=sender, to=box.address, subject=f"Scans {n}", attachments=video)
        )
    mailbox_user.append(
        build_mail(sender=machine, to=box.address, attachments=video,
                   headers={"Auto-Submitted": "auto-generated"})
    )  # fmt: skip
    mailbox_user.append(build_mail(sender=other.address, to=box.address, attachments=video))
    # and another sender a Vietnamese mail under 2 MB whose attachment is over 1 MB
    scan = [("scan.pdf", "application/pdf", b"%PDF" * (300 * 1024))]
    mailbox_user.append(
        build_mail(sender=viet, to=box.address, subject="Gửi hồ sơ", attachments=scan)
    )
    results = await fetch(box)
    assert [r.outcome for r in results] == ["rejected"] * 6
    assert await send_pending() == 2
    # Then the sender got one notice in English, the Vietnamese sender one in Vietnamese
    notices = {m.rcpt_tos: m.parsed() for m in smtp_sink.messages}
    assert set(notices) == {(sender,), (viet,)}
    english, vietnamese = notices[(sender,)], notices[(viet,)]
    assert english["Subject"] == "Your email was not accepted"
    assert english["Auto-Submitted"] == "auto-replied"
    text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert '"Scans 0"' in text
    assert "(1.91 MB)" in text
    assert vietnamese["Subject"] == "Email chưa được tiếp nhận"
    assert "HD-" not in vietnamese["Subject"]
    assert [(r["case"], r["kind"], r["status"]) for r in await outbound_rows()] == [
        (None, "too_large", "sent")
    ] * 2
    assert await Case.count() == 0
    # and a copy fetched again (new UIDVALIDITY) is a duplicate, with no new notice
    mailbox_user.reset_uidvalidity()
    assert {r.outcome for r in await fetch(box)} == {"duplicate"}
    assert await send_pending() == 0
