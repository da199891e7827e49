"""parse_mail over the real-world-like .eml fixtures in tests/fixtures/email, table-driven.

Each case names a fixture, the fields it must produce exactly, and optional
extra checks. Every committed fixture must have a case, and the committed
bytes must be what make_fixtures.py writes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.channels.email import (
    Bounce,
    BouncedRecipient,
    ParsedAttachment,
    ParsedMail,
    parse_mail,
)
from tests.unit.channels._support import FIXTURES, fixture_bytes, load_generator

gen = load_generator()
SUPPORT = ("support@helpdesk.example.vn",)
HTML_VISIBLE = "Xin chào,\n\nĐơn hàng #123 & C:\\temp\n\n- một\n- hai\n\nCảm ơn\nAn\n\n"


@dataclass(frozen=True)
class Case:
    fixture: str
    fields: dict[str, Any]
    check: Callable[[ParsedMail], None] | None = None
    loop: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _windows1258(mail: ParsedMail) -> None:
    # windows-1258 writes tone marks as combining characters; the text is
    # decoded as sent (not normalised), and reads right once composed.
    assert unicodedata.normalize("NFC", mail.text) == (
        "Tôi cần hóa đơn VAT cho đơn hàng tháng Hai.\nTrân trọng.\n"
    )
    assert mail.text != unicodedata.normalize("NFC", mail.text)


def _nested(mail: ParsedMail) -> None:
    (eml,) = mail.attachments
    raw = fixture_bytes("nested_rfc822.eml")
    start = raw.index(b"From: =?utf-8?q?Kh")
    assert eml.content == raw[start : raw.index(b"--outer-b--")]
    inner = parse_mail(eml.content)
    assert inner.message_id == "<inner.original@example.org>"
    assert inner.text == "Sản phẩm bị lỗi. C:\\path\\x"
    assert [(a.filename, a.content) for a in inner.attachments] == [("loi.png", gen.PNG_1PX)]


def _header_injection(mail: ParsedMail) -> None:
    for value in (mail.subject, mail.from_name or "", *(a.filename for a in mail.attachments)):
        assert "\r" not in value
        assert "\n" not in value
    assert all("attacker.example" not in address for address in mail.cc)
    assert "<hidden@example.com>" not in mail.in_reply_to


def _qp(mail: ParsedMail) -> None:
    raw = fixture_bytes("qp_soft_breaks.eml")
    assert b"=5C" in raw  # the fixture really has an encoded backslash
    assert b"=\r\n" in raw  # and soft line breaks
    assert "\\Users\\an\\Documents\\" in mail.text


CASES = [
    Case(
        "plain_utf8_vi.eml",
        {
            "message_id": "<CAF8x=QmZ7Lw9+a1@mail.gmail.com>",
            "message_id_generated": False,
            "subject": "Đơn hàng bị giao trễ",
            "from_address": "an.nguyen@example.com",
            "from_name": "Nguyễn Văn An",
            "to": SUPPORT,
            "cc": ("ke.toan@example.com", "binh@example.com"),
            "delivered_to": SUPPORT,
            "x_original_to": SUPPORT,
            "reply_to": (),
            "date": datetime(2024, 3, 5, 2, 14, 58, tzinfo=UTC),
            "text": f"{gen.VI_TEXT}\n\nNguyễn Văn An\n0903 123 456\n",
            "html": None,
            "quoted_text": "",
            "attachments": (),
            "case_reference": None,
            "forwarded": False,
            "bounce": None,
            "defects": (),
        },
    ),
    Case(
        "latin1_en.eml",
        {
            "subject": "Café order – naïve question",
            "from_name": "Renée Müller",
            "text": "The café charged me £12 – twice. Naïve of me?\nRenée\n",
            "date": datetime(2024, 3, 4, 17, 2, 11, tzinfo=UTC),
        },
    ),
    Case("windows1258_vi.eml", {"subject": "Hóa đơn VAT"}, check=_windows1258),
    Case(
        "undeclared_8bit_backslashes.eml",
        {
            "text": "Lỗi khi mở C:\\new\\table\\test.txt và \\\\server\\share\\x\n"
            "Regex: ^\\d+\\s*$ and a trailing backslash \\\n"
            "Literal \\n is not a newline; \\\\ is two.\n",
            "from_name": None,
        },
    ),
    Case(
        "qp_soft_breaks.eml",
        {
            "subject": "Báo cáo",
            "text": "Đường dẫn: C:\\Users\\an\\Documents\\báo cáo tháng 3.xlsx — kiểm tra giúp tôi "
            "với, file này rất quan trọng cho cuộc họp ngày mai. a=b \n"
            "Dòng có khoảng trắng cuối   \n",
        },
        check=_qp,
    ),
    Case(
        "base64_text.eml",
        {
            "subject": "Xác nhận đơn hàng",
            "from_name": "Lê Thị Cúc",
            "text": f"{gen.VI_TEXT}\nC:\\temp\\a.txt\n",
        },
    ),
    Case(
        "multipart_alternative.eml",
        {
            "text": "Xin chào, tôi cần hỗ trợ.\n",
            "html": '<div dir="ltr">Xin chào, <b>tôi</b> cần hỗ trợ.</div>\n',
            "attachments": (),
        },
    ),
    Case(
        "mixed_txt_attachment.eml",
        {
            "text": "Please see the log.\n",
            "attachments": (
                ParsedAttachment(
                    filename="server.log.txt",
                    content_type="text/plain",
                    content=b"2024-03-09 ERROR C:\\app\\run.exe failed",
                    inline=False,
                ),
                ParsedAttachment(
                    filename="notes.txt",
                    content_type="text/plain",
                    content="Ghi chú: không gộp vào thân thư\n".encode(),
                    inline=True,
                ),
            ),
        },
    ),
    Case(
        "inline_image_cid.eml",
        {
            "text": "See the screenshot: [cid:image001.png@01DA7123.ABCDEF00]\n",
            "attachments": (
                ParsedAttachment(
                    filename="image001.png",
                    content_type="image/png",
                    content=gen.PNG_1PX,
                    inline=True,
                    content_id="image001.png@01DA7123.ABCDEF00",
                ),
                ParsedAttachment(
                    filename="attachment-2.png",
                    content_type="image/png",
                    content=gen.PNG_1PX,
                    inline=True,
                    content_id="noname@x",
                ),
            ),
        },
        extra={"html_contains": 'src="cid:image001.png@01DA7123.ABCDEF00"'},
    ),
    Case(
        "encoded_filenames.eml",
        {
            "text": "Ba tệp đính kèm.",
            "attachments": (
                ParsedAttachment(
                    filename="Báo cáo.pdf",
                    content_type="application/pdf",
                    content=gen.PDF_BYTES,
                    inline=False,
                ),
                ParsedAttachment(
                    filename="Hợp đồng.pdf",
                    content_type="application/pdf",
                    content=gen.PDF_BYTES,
                    inline=False,
                ),
                ParsedAttachment(
                    filename="Bảng kê tháng 3.xlsx",
                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    content=b"PK\x03\x04fake-xlsx",
                    inline=False,
                ),
                ParsedAttachment(
                    filename="attachment-4.bin",
                    content_type="application/octet-stream",
                    content=b"\x00\x01\x02 no name",
                    inline=False,
                ),
            ),
        },
    ),
    Case(
        "nested_rfc822.eml",
        {
            "subject": "Fwd: Khiếu nại",
            "forwarded": True,
            "text": "Chuyển tiếp khiếu nại của khách.",
        },
        check=_nested,
        extra={"attachment_names": ["Khiếu nại.eml"]},
    ),
    Case(
        "dsn_bounce.eml",
        {
            "from_address": "mailer-daemon@mx.helpdesk.example.vn",
            "bounce": Bounce(
                recipients=(
                    BouncedRecipient(
                        address="khach.hang@example.com",
                        action="failed",
                        status="5.1.1",
                        diagnostic="550 5.1.1 <khach.hang@example.com>: Recipient address "
                        "rejected: User unknown in virtual mailbox table",
                    ),
                ),
                original_message_id="<reply-42.HD-000042@helpdesk.example.vn>",
                reporting_mta="mx.helpdesk.example.vn",
                standard=True,
            ),
            "case_reference": None,
        },
        loop=True,
        extra={
            "attachment_types": ["message/delivery-status", "message/rfc822"],
            "failed": ("khach.hang@example.com",),
            "permanent": True,
        },
    ),
    Case(
        "dsn_delay_headers_only.eml",
        {
            "bounce": Bounce(
                recipients=(
                    BouncedRecipient(
                        address="slow@example.net",
                        action="delayed",
                        status="4.4.1",
                        diagnostic="The recipient server did not accept our requests",
                    ),
                ),
                original_message_id="<reply-43.HD-000043@helpdesk.example.vn>",
                reporting_mta="googlemail.com",
            ),
        },
        loop=True,
        extra={"failed": (), "permanent": False},
    ),
    Case(
        "bounce_exim.eml",
        {
            "bounce": Bounce(
                recipients=(
                    BouncedRecipient(address="nobody@example.org", action="failed", status="5.1.1"),
                ),
                original_message_id="<reply-77@helpdesk.example.vn>",
                standard=False,
            ),
            "loop_reason": "auto-submitted: auto-replied",
        },
        loop=True,
    ),
    Case(
        "autoreply_auto_submitted.eml",
        {"loop_reason": "auto-submitted: auto-replied", "bounce": None},
        loop=True,
    ),
    Case("autoreply_x_autoreply.eml", {"loop_reason": "x-autoreply"}, loop=True),
    Case("autoreply_x_autorespond.eml", {"loop_reason": "x-autorespond"}, loop=True),
    Case("autoreply_precedence_junk.eml", {"loop_reason": "precedence: junk"}, loop=True),
    Case(
        "autoreply_outlook_oof.eml",
        {"loop_reason": "x-auto-response-suppress: DR, RN, NRN, OOF, AutoReply"},
        loop=True,
    ),
    Case("autoreply_not_auto.eml", {"loop_reason": None, "auto_submitted": False}),
    Case(
        "mailing_list.eml",
        {"loop_reason": "precedence: list", "subject": "Khuyến mãi tháng 3"},
        loop=True,
    ),
    Case(
        "reply_vi_gmail.eml",
        {
            "subject": "Re: [HD-000123] Đơn hàng bị giao trễ",
            "case_reference": 123,
            "in_reply_to": ("<reply-1.HD-000123@helpdesk.example.vn>",),
            "references": (
                "<CAF8x=QmZ7Lw9+a1@mail.gmail.com>",
                "<reply-1.HD-000123@helpdesk.example.vn>",
            ),
            "visible_text": "Cảm ơn anh, tôi đã nhận được hàng.\n\n",
            "quoted_text": "Vào Th 6, 15 thg 3, 2024 vào lúc 10:00 Hỗ trợ <\n"
            "support@helpdesk.example.vn> đã viết:\n\n"
            "> Chào anh,\n>\n> Đơn hàng của anh đã được giao lại.\n>\n",
            "forwarded": False,
        },
    ),
    Case(
        "reply_outlook_en.eml",
        {
            "case_reference": 456,
            "from_address": "john.smith@contoso.example",
            "references": ("<first@contoso.example>", "<reply-9.HD-000456@helpdesk.example.vn>"),
            "visible_text": "Thanks, that answers it.\n\nRegards,\nJohn\n\n",
        },
        extra={"quoted_starts": "________________________________\nFrom: Support"},
    ),
    Case(
        "reply_original_message.eml",
        {
            "case_reference": 789,
            "subject": "TL: [HD-789] Bảo hành",
            "visible_text": "Vâng, tôi đồng ý.\n",
        },
        extra={"quoted_starts": "-- \nPhạm Dũng\n\n-----Original Message-----\n"},
    ),
    Case(
        "forward_inline_gmail.eml",
        {"forwarded": True, "visible_text": "Nhờ bên hỗ trợ xem giúp.\n\n"},
        extra={"quoted_starts": "---------- Forwarded message ---------\n"},
    ),
    Case(
        "missing_message_id.eml",
        {
            "message_id": "<"
            + hashlib.sha256(fixture_bytes("missing_message_id.eml")).hexdigest()
            + "@helpdesk.invalid>",
            "message_id_generated": True,
        },
    ),
    Case(
        "broken_no_closing_boundary.eml",
        {"text": "Tệp bị cắt ngang.", "defects": ("CloseBoundaryNotFoundDefect",)},
        extra={"attachment_names": ["cut.pdf"]},
    ),
    Case(
        "broken_no_boundary_param.eml",
        {"attachments": ()},
        extra={"text_contains": "Nội dung vẫn phải đọc được."},
    ),
    Case(
        "nul_bytes.eml",
        {
            "subject": "Null bytes",
            "text": "Trướcsau  hết.",
            "attachments": (
                ParsedAttachment(
                    filename="blob.bin",
                    content_type="application/octet-stream",
                    content=b"\x00\x01\x00binary\x00",
                    inline=False,
                ),
            ),
        },
    ),
    Case(
        "unknown_charsets.eml",
        {
            "from_name": "Ngô Bảo",
            "subject": "Lỗi font",
            "text": "Lỗi phông chữ (x-unknown, thật ra là UTF-8).\n"
            "Ghi nhãn latin-1 nhưng là UTF-8.\n"
            "Labelled utf-8 but cp1252: café “quoted”\n"
            "TCVN label, bytes are cp1252: naïve",
        },
    ),
    Case(
        "header_injection.eml",
        {
            "subject": "Hello Bcc: victim@example.com",
            "from_address": "attacker@example.com",
            "from_name": "Evil Bcc: victim@example.com",
            "reply_to": ("reply@example.com",),
            "cc": ("ok@example.com",),
            "in_reply_to": ("<a@example.com>",),
        },
        check=_header_injection,
        extra={"attachment_names": ["passwd X-Evil: 1"]},
    ),
    Case(
        "html_only.eml",
        {
            "text": f"{HTML_VISIBLE}> Tin cũ\n",
            "visible_text": HTML_VISIBLE,
            "quoted_text": "> Tin cũ\n",
        },
        extra={"html_contains": "<script>alert(1)</script>"},  # raw: sanitising is for display
    ),
    Case(
        "bad_base64.eml",
        {
            "text": "Nội dung base64 hỏng một chút.\n",
            "attachments": (
                ParsedAttachment(
                    filename="x.bin",
                    content_type="application/octet-stream",
                    content=b"\x00\x01\x02\x03\x04",
                    inline=False,
                ),
                ParsedAttachment(
                    filename="qp.txt",
                    content_type="text/plain",
                    content=b"broken =ZZ escape and ",
                    inline=False,
                ),
            ),
        },
    ),
    Case(
        "lf_only_outlook_vi.eml",
        {
            "subject": "TT: Hợp đồng",
            "forwarded": True,
            "date": datetime(2024, 3, 18, 9, 0, tzinfo=UTC),
            "visible_text": "Em gửi lại hợp đồng.\n\n",
        },
        extra={"quoted_starts": "Từ: Nguyễn Văn An <an@example.com>\nĐã gửi:"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.fixture)
def test_fixture(case: Case) -> None:
    # Given a committed fixture, When it is parsed
    mail = parse_mail(fixture_bytes(case.fixture))

    # Then every listed field is exactly as expected
    for name, expected in case.fields.items():
        assert getattr(mail, name) == expected, name
    # and the invariants hold for every mail
    assert mail.visible_text + mail.quoted_text == mail.text
    assert mail.auto_submitted is case.loop
    assert (mail.loop_reason is not None) is case.loop
    assert not [d for d in mail.defects if d.startswith("internal")]
    assert mail.message_id.startswith("<")
    assert mail.message_id.endswith(">")
    assert mail.date is None or mail.date.tzinfo is UTC
    for text in (mail.text, mail.subject, mail.html or ""):
        assert "\x00" not in text
        assert "\r" not in text
        text.encode("utf-8")  # no lone surrogates
    extra = case.extra
    if "attachment_names" in extra:
        assert [a.filename for a in mail.attachments] == extra["attachment_names"]
    if "attachment_types" in extra:
        assert [a.content_type for a in mail.attachments] == extra["attachment_types"]
    if "html_contains" in extra:
        assert extra["html_contains"] in (mail.html or "")
    if "text_contains" in extra:
        assert extra["text_contains"] in mail.text
    if "quoted_starts" in extra:
        assert mail.quoted_text.startswith(extra["quoted_starts"])
    if "failed" in extra:
        assert mail.bounce is not None
        assert mail.bounce.failed == extra["failed"]
        assert mail.bounce.permanent is extra["permanent"]
    if case.check is not None:
        case.check(mail)


def test_every_fixture_has_a_case() -> None:
    on_disk = {path.name for path in FIXTURES.glob("*.eml")}
    assert on_disk == {case.fixture for case in CASES}


def test_committed_fixtures_match_the_generator() -> None:
    built = gen.build()
    assert set(built) == {path.name for path in FIXTURES.glob("*.eml")}
    for name, data in built.items():
        assert fixture_bytes(name) == data, f"{name}: run tests/fixtures/email/make_fixtures.py"
