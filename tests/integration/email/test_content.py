"""Issue 3, item 5: parsing mangles nothing between the IMAP server and the database.

Mails go through a real Dovecot, ``fetch_once``, the parser and the services
into SQLite and PostgreSQL; what is stored is compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from helpdesk.channels.email.filing import case_language
from helpdesk.channels.email.ingest import NO_BODY
from helpdesk.channels.email.parse import parse_mail
from helpdesk.domain import Status
from helpdesk.i18n import translator
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate
from helpdesk.services import cases
from helpdesk.storage import blob_store
from tests.conftest import EventLog
from tests.integration.email._mail import (
    add_mailbox,
    all_cases,
    attachments_of,
    build_mail,
    case_messages,
    fetch,
    ledger,
    message_by_external_id,
    new_address,
    new_id,
    server_copies,
)
from tests.mailservers import MailboxUser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"

BODY = (
    "Chào anh,\n"
    "Đường dẫn lỗi: C:\\Users\\khách\\new\\table.txt và \\\\server\\share\\n"
    " (không phải xuống dòng).\n"
    'Regex: ^\\d{3}-\\w+$ và JSON {"a": "\\u0041"}; dấu: Đặng Thị Hồng Nhung – ưu đãi 50%.\n'
    "\n"
    "Trân trọng,\n"
    "Khách\n"
)
NOTE = "Ghi chú: C:\\temp\\x.log\r\nDòng hai – tiếng Việt.\r\n".encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
HTML = (
    "<p>Xin chào <b>anh</b>, xem ảnh: <img src=\"cid:anh-chup@khach\" alt='ảnh'></p>"
    '<img src="https://tracker.example/pixel.gif?u=1">'
    "<script>alert('xss')</script>"
    '<a href="https://example.vn/don-hang" onclick="steal()">đơn hàng</a>'
)


async def test_text_attachments_inline_images_html_and_raw_survive(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    # Given a mail with a Vietnamese body full of backslashes, a .txt file next
    # to the text/plain body, an inline image and hostile HTML
    box = await add_mailbox(mailbox_user)
    message_id = new_id()
    raw = build_mail(
        sender=new_address(),
        to=box.address,
        subject="Lỗi đường dẫn C:\\new",
        body=BODY,
        message_id=message_id,
        html=HTML,
        inline_images=[("anh-chup@khach", "image/png", PNG)],
        attachments=[("ghi-chú.txt", "text/plain", NOTE)],
    )
    mailbox_user.append(raw)
    # When it is fetched
    [result] = await fetch(box)
    # Then the text is stored exactly (line ends normalised to \n only)
    message = await message_by_external_id(message_id)
    assert result.message_id == message["id"]
    assert message["body_text"] == BODY
    # the .txt stays an attachment and the image is kept, flagged inline
    store = blob_store()
    files = {a["filename"]: a for a in await attachments_of(message["id"])}
    assert set(files) == {"ghi-chú.txt", *(n for n in files if n != "ghi-chú.txt")}
    assert len(files) == 2
    assert store.get(files["ghi-chú.txt"]["sha256"]) == NOTE
    assert files["ghi-chú.txt"]["content_type"] == "text/plain"
    assert not files["ghi-chú.txt"]["inline"]
    [image] = [a for n, a in files.items() if n != "ghi-chú.txt"]
    assert store.get(image["sha256"]) == PNG
    assert image["inline"]
    assert image["size"] == len(PNG)
    meta = message["meta"]
    assert meta["content_ids"] == {"anh-chup@khach": image["filename"]}
    # the HTML is sanitised: no script, no handler, no remote image; cid: kept
    html = message["body_html"]
    assert "<script" not in html
    assert "alert(" not in html
    assert "onclick" not in html
    assert "tracker.example" not in html
    assert 'src="cid:anh-chup@khach"' in html
    assert "đơn hàng" in html
    # and the raw .eml is kept byte for byte
    [row] = await ledger(box.id)
    assert row["raw_sha256"] == meta["raw_sha256"]
    assert store.get(row["raw_sha256"]) == raw
    assert row["size"] == len(raw)


def _fixture_mails() -> dict[str, bytes]:
    """The committed fixtures a person could have sent (no auto-replies or bounces)."""
    mails = {}
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        parsed = parse_mail(raw)
        if parsed.loop_reason is None and parsed.case_reference is None:
            mails[path.name] = raw
    return mails


async def test_real_world_fixtures_are_stored_as_parsed(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    # Given the odd real-world mails of tests/fixtures/email (charsets, broken
    # MIME, NUL bytes, bad base64, encoded file names, nested messages…)
    box = await add_mailbox(mailbox_user)
    mails = _fixture_mails()
    assert len(mails) >= 15
    uids = {name: mailbox_user.append(raw) for name, raw in mails.items()}
    served = server_copies(mailbox_user)
    results = await fetch(box)
    assert [r.outcome for r in results] == ["message"] * len(mails)
    store = blob_store()
    for name in mails:
        # (Dovecot hands out CRLF for bare LF and 0x80 for NUL: parse what it served.)
        parsed = parse_mail(served[uids[name]])
        message = await message_by_external_id(parsed.message_id)
        # Then the stored text is the parsed text, unchanged by the database
        empty = translator(await case_language(message["case"]))(NO_BODY)
        expected = parsed.text if parsed.text.strip() or parsed.html else empty
        assert message["body_text"] == expected, name
        stored = [
            (a["filename"], store.get(a["sha256"])) for a in await attachments_of(message["id"])
        ]
        assert stored == [(a.filename, a.content) for a in parsed.attachments], name
        assert store.get(message["meta"]["raw_sha256"]) == served[uids[name]], name


async def test_vietnamese_with_nul_bytes_survives_the_imap_server(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    box = await add_mailbox(mailbox_user)
    mailbox_user.append((FIXTURES / "nul_bytes.eml").read_bytes())
    [result] = await fetch(box)
    assert result.outcome == "message"
    message = await message_by_external_id("<nul@example.com>")
    assert message["body_text"].startswith("Trước")


async def test_texts_we_write_are_in_the_language_of_the_case(
    db: EventLog, mailbox_user: MailboxUser
) -> None:
    # Given empty mails, one with a Vietnamese subject, one English, one without subject
    box = await add_mailbox(mailbox_user)
    viet, english = new_address(), new_address()
    first_id = new_id()
    for sender, subject, message_id in (
        (viet, "Đơn hàng bị lỗi", first_id), (english, "Order problem", None), (english, "", None),
    ):  # fmt: skip
        mailbox_user.append(
            build_mail(sender=sender, to=box.address, subject=subject, body="",
                       message_id=message_id or "")
        )  # fmt: skip
    await fetch(box)
    # Then "(empty message)" is written in the customer's language, like a missing subject
    rows = await all_cases()
    bodies = [(await case_messages(c["id"]))[0]["body_text"] for c in rows]
    assert bodies == ["(email không có nội dung)", "(empty message)", "(empty message)"]
    assert [c["subject"] for c in rows] == ["Đơn hàng bị lỗi", "Order problem", "(no subject)"]
    # and the note of a follow-up of a closed Vietnamese case is in Vietnamese
    await cases.update_case(SYSTEM, rows[0]["id"], CaseUpdate(version=1, status=Status.CLOSED))
    mailbox_user.append(
        build_mail(sender=viet, to=box.address, subject="Re: Đơn hàng bị lỗi", in_reply_to=first_id)
    )
    [follow_up] = await fetch(box)
    assert follow_up.new_case
    note = (await case_messages(follow_up.case_id or 0))[-1]
    assert note["body_text"] == f"Yêu cầu tiếp nối của yêu cầu đã đóng HD-{rows[0]['id']:06d}"
