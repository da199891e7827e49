"""Threat: a visitor who writes CR/LF into a one-line field (a name, a subject, a
file name) to add lines to our mails, or to break the mails of a case.

Header-like values are made one line where they come in (the Structs of
:mod:`helpdesk.schemas` and the web form's: control characters become spaces)
and again where mail headers are built (:func:`helpdesk.channels.email.compose.build`),
so a value stored before the input was cleaned cannot break a mail either.
Checked end to end over SMTP (aiosmtpd): the stored case and customer, the
acknowledgement's headers and text, and an agent's later reply, which is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from helpdesk.channels.email.compose import Attachment, Outgoing, build
from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.channels.email.outbound import queue_reply, send_outbound
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseCreate, CaseUpdate, CustomerIn
from helpdesk.tables import Case
from helpdesk.text import clean_line
from tests.integration.api.conftest import Api
from tests.mailservers import SmtpSink

NAME = "Lan\r\nBcc: attacker@evil.test"
SUBJECT = "Hóa đơn\r\nBcc: attacker@evil.test\r\n\r\nDòng giả mạo\u2028\x85\tcuối"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


async def _mailbox(port: int) -> None:
    await create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ", address="support@helpdesk.test", imap_host="127.0.0.1",
            imap_user="u", imap_password="p", smtp_host="127.0.0.1", smtp_port=port,
            smtp_security="plain",
        ),
    )  # fmt: skip


async def _outbound(case_id: int, kind: str) -> list[int]:
    rows = await OutboundMail.select(OutboundMail.id).where(
        (OutboundMail.case == case_id) & (OutboundMail.kind == kind)
    )
    return [int(r["id"]) for r in rows]


def _one_line_headers(message: EmailMessage) -> None:
    for name, value in message.items():
        assert clean_line(str(value)) == str(value), (name, value)
    assert message.get_all("Bcc") is None
    assert "attacker@evil.test" not in message.get("To", "")


def _submit_page(api: Api, email: str) -> str:
    page = api.client.get("/support/request")
    key = KEY.search(page.text)
    form = {"name": NAME, "email": email, "subject": SUBJECT, "message": "Xin kiểm tra giúp.",
            "idempotency_key": key.group(1) if key else ""}  # fmt: skip
    response = api.client.post("/support/request", data=form)
    assert response.status_code == 200, response.text[:500]
    found = re.search(r"HD-\d+", response.text)
    assert found, response.text[:500]
    return found.group(0)


def _submit_json(api: Api, email: str) -> str:
    form = {"name": NAME, "email": email, "subject": SUBJECT, "message": "Xin kiểm tra giúp."}
    response = api.post("/api/v1/public/webform", role="anonymous", json=form)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


@pytest.mark.parametrize("submit", [_submit_page, _submit_json], ids=["page", "json"])
def test_crlf_in_the_web_form_reaches_no_header_and_replies_still_go_out(
    api: Api, smtp_sink: SmtpSink, submit: Any
) -> None:
    # Given a sending mailbox, when a visitor sends the form with CR/LF in name and subject
    api.run(_mailbox, smtp_sink.port)
    reference = submit(api, "lan@example.vn")
    found = api.get("/api/v1/cases", params={"text": reference}).json()["items"]
    [case] = [c for c in found if c["reference"] == reference]

    # then the case and the customer are stored with one-line values
    assert case["subject"] == clean_line(SUBJECT).strip()
    customer = api.get(f"/api/v1/customers/{case['customer_id']}").json()
    assert customer["name"] == clean_line(NAME).strip()

    # and the acknowledgement has its own headers only, and no line of the visitor's
    [ack] = api.run(_outbound, case["id"], "acknowledgement")
    assert api.run(send_outbound, ack) is True
    [sent] = smtp_sink.wait_for(1)
    assert sent.rcpt_tos == ("lan@example.vn",)
    message = sent.parsed()
    _one_line_headers(message)
    assert reference in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not [line for line in text.splitlines() if line.startswith(("Bcc:", "Dòng giả mạo"))]
    assert clean_line(SUBJECT).strip() in text

    # and an agent's later reply is sent, with the subject on one line
    reply = api.post(f"/api/v1/cases/{case['id']}/messages", json={"body": "Đã kiểm tra."})
    assert reply.status_code == 201, reply.text
    outbound_id = api.run(queue_reply, reply.json()["id"])
    assert outbound_id is not None
    assert api.run(send_outbound, outbound_id) is True
    replied = smtp_sink.wait_for(2)[1].parsed()
    _one_line_headers(replied)
    assert replied["Subject"] == f"Re: {clean_line(SUBJECT).strip()} [#{reference}]"


async def _store_raw_subject(case_id: int, subject: str) -> None:
    await Case.update({Case.subject: subject}).where(Case.id == case_id)


def test_a_subject_stored_with_crlf_before_the_fix_still_gets_its_reply_sent(
    api: Api, smtp_sink: SmtpSink
) -> None:
    """Rows written before input was cleaned: the mail's headers are cleaned again."""
    api.run(_mailbox, smtp_sink.port)
    case = api.make_case(api.team_a, customer_email="hoa@example.vn")
    api.run(_store_raw_subject, case.id, SUBJECT)
    reply = api.post(f"/api/v1/cases/{case.id}/messages", json={"body": "Chào chị."})
    assert reply.status_code == 201, reply.text
    outbound_id = api.run(queue_reply, reply.json()["id"])
    assert outbound_id is not None
    assert api.run(send_outbound, outbound_id) is True
    [sent] = smtp_sink.wait_for(1)
    message = sent.parsed()
    _one_line_headers(message)
    assert "Dòng giả mạo" in message["Subject"]


def test_the_input_structs_make_header_like_fields_one_line() -> None:
    """Construction, decoding and conversion all clean (msgspec's __post_init__)."""
    import msgspec

    case = msgspec.json.decode(
        msgspec.json.encode({"subject": SUBJECT, "body": "a\r\nb", "customer_name": NAME}),
        type=CaseCreate,
    )
    assert (case.subject, case.customer_name) == (clean_line(SUBJECT), clean_line(NAME))
    assert case.body == "a\r\nb"  # bodies keep their lines
    update = msgspec.convert({"version": 1, "subject": "a\nb"}, CaseUpdate)
    assert update.subject == "a b"
    assert CustomerIn(name=NAME, emails=["a@b.vn"]).name == clean_line(NAME)
    file = AttachmentIn(filename="x\r\n.txt", content=b"\r\n", content_type="text/plain\r\nX: 1")
    assert (file.filename, file.content, file.content_type) == (
        "x  .txt",
        b"\r\n",
        "text/plain  X: 1",
    )


def test_build_cleans_every_header_it_writes() -> None:
    mail = Outgoing(
        message_id="<a@b>\r\nBcc: x@evil.test", from_address="support@helpdesk.test",
        from_name="Hỗ trợ\r\nBcc: x@evil.test", to_address="lan@example.vn",
        subject=SUBJECT, text="Xin chào\r\nBcc: in the body is fine\r\n",
        in_reply_to="<c@d>\nX: 1", references=("<e@f>\r\nX: 2",),
        attachments=(Attachment("a\r\nb.txt", "text/plain\r\nX-Evil: 1", b"\x00\r\n\xff"),),
    )  # fmt: skip
    message = build(mail)
    _one_line_headers(message)
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw.split(b"\n\n", 1)[0]
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_content() == b"\x00\r\n\xff"
    assert part.get_filename() == "a  b.txt"
