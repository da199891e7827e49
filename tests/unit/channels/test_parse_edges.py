"""parse_mail at its edges: size and line limits, non-mail, ids, references, odd MIME."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from helpdesk.channels.email import (
    DEFAULT_MAX_BYTES,
    UnparseableMail,
    parse_mail,
)
from helpdesk.channels.email.parse import identity_bytes
from helpdesk.errors import HelpdeskError
from tests.unit.channels._support import fixture_bytes


def mail(headers: str, body: str = "Hello\n", *, newline: str = "\r\n") -> bytes:
    """A small mail from header lines (LF-separated) and a body, with CRLF line ends."""
    text = headers.strip("\n") + "\n\n" + body
    return text.replace("\n", newline).encode("utf-8")


BASIC = "From: a@example.com\nTo: support@example.vn\nSubject: Hi\nMessage-ID: <m@example.com>"


def test_a_25_mb_single_line_body_is_refused_quickly() -> None:
    # Given a 25 MB body on one line (generated here, never committed)
    raw = mail(BASIC).replace(b"Hello\r\n", b"x" * (25 * 1024 * 1024) + b"\r\n")

    # When it is parsed with the default limits, Then it is refused at once
    started = time.perf_counter()
    with pytest.raises(UnparseableMail) as caught:
        parse_mail(raw)
    assert caught.value.reason == "line_too_long"
    assert time.perf_counter() - started < 2.0

    # and with a smaller size limit it is refused for its size, before anything else
    with pytest.raises(UnparseableMail) as caught:
        parse_mail(raw, max_bytes=10 * 1024 * 1024)
    assert caught.value.reason == "too_large"


def test_limits_are_parameters() -> None:
    raw = mail(BASIC, "y" * 5000 + "\n")
    assert parse_mail(raw).text == "y" * 5000 + "\n"
    with pytest.raises(UnparseableMail, match="line_too_long"):
        parse_mail(raw, max_line_length=998)
    with pytest.raises(UnparseableMail, match="too_large"):
        parse_mail(raw, max_bytes=1000)
    assert DEFAULT_MAX_BYTES >= 35 * 1024 * 1024  # a 25 MiB attachment, base64-encoded, fits


def test_bare_cr_line_ends_count_as_line_ends() -> None:
    raw = mail(BASIC, "line\n" * 400, newline="\r")
    parsed = parse_mail(raw, max_line_length=100)
    assert parsed.text == "line\n" * 400
    assert parsed.subject == "Hi"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b" \r\n\t\r\n", "empty"),
        (b"hello world, this is not a mail\n", "not_a_message"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_message"),
        (b"X-Only-Custom: 1\r\n\r\nbody", "not_a_message"),
        (b"\x00" * 100, "not_a_message"),
    ],
)
def test_what_is_not_a_mail_is_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(UnparseableMail) as caught:
        parse_mail(raw)
    assert caught.value.reason == reason
    assert isinstance(caught.value, HelpdeskError)
    assert caught.value.code == "unparseable_mail"


def test_a_mail_without_message_id_gets_a_deterministic_one() -> None:
    raw = fixture_bytes("missing_message_id.eml")
    first, second = parse_mail(raw), parse_mail(bytes(raw))
    other = parse_mail(raw + b"\r\n")
    assert first.message_id == second.message_id
    assert first.message_id == f"<{hashlib.sha256(raw).hexdigest()}@helpdesk.invalid>"
    assert other.message_id != first.message_id
    assert first.message_id_generated
    assert other.message_id_generated


TRACE = (
    b"Return-Path: <legacy-app@example.com>\r\n"
    b"Delivered-To: support@helpdesk.example.vn\r\n"
    b"Received: from mx1.example.vn (mx1.example.vn [192.0.2.1])\r\n"
    b"\tby imap.example.vn (Postfix) with ESMTPS id 4F2A1;\r\n"
    b"\tSat, 16 Mar 2024 01:00:02 +0000 (UTC)\r\n"
    b"X-Original-To: support@helpdesk.example.vn\r\n"
    b"Envelope-To: support@helpdesk.example.vn\r\n"
    b"X-Delivered-To: help@example.vn\r\n"
    b"X-Spam-Status: No, score=-0.1\r\n"
    b"Authentication-Results: mx1.example.vn; spf=pass smtp.mailfrom=example.com\r\n"
    b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.vn; s=arc; b=AbC\r\n"
)


@pytest.mark.parametrize(
    "extra",
    [
        TRACE,
        b"Delivered-To: other@example.vn\r\nReceived: by mx2.example.net; Sun, 17 Mar 2024\r\n",
        b"From legacy-app@example.com Sat Mar 16 01:00:02 2024\r\nX-Envelope-To: a@b.c\r\n",
        b"\xef\xbb\xbf\r\nRECEIVED: from somewhere\r\n",
    ],
    ids=["many", "another-server", "mbox", "bom-odd-case"],
)
def test_the_generated_message_id_ignores_the_trace_fields_servers_add_on_top(
    extra: bytes,
) -> None:
    # Given the same mail as delivered through other servers to other mailboxes
    raw = fixture_bytes("missing_message_id.eml")
    # Then it gets the id of the mail as sent: the hash of those bytes exactly
    assert parse_mail(extra + raw).message_id == parse_mail(raw).message_id
    assert parse_mail(raw).message_id == f"<{hashlib.sha256(raw).hexdigest()}@helpdesk.invalid>"
    assert parse_mail(extra + raw).message_id_generated


@pytest.mark.parametrize(
    "change",
    [
        # a trace field after the first header of the sender's: hashed
        lambda raw: raw.replace(b"To:", b"Received: by relay.example.vn\r\nTo:", 1),
        # a DKIM signature on top: part of the mail as sent
        lambda raw: b"DKIM-Signature: v=1; d=example.com; b=abc\r\n" + raw,
        # an unknown field on top
        lambda raw: b"X-Mailer: legacy-app 1.0\r\n" + raw,
        # one byte of the body
        lambda raw: raw.replace(b"All jobs OK.", b"All jobs OK!"),
        # a trace field without a line end is not a header section
        lambda raw: b"Received: x",
    ],
    ids=["trace-below", "dkim", "unknown-field", "body", "no-line-end"],
)
def test_the_generated_message_id_covers_everything_else(
    change: Callable[[bytes], bytes],
) -> None:
    raw = fixture_bytes("missing_message_id.eml")
    changed = change(raw)
    assert identity_bytes(TRACE + changed) == changed
    if changed != b"Received: x":
        assert parse_mail(TRACE + changed).message_id != parse_mail(raw).message_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@b>", "<a@b>"),
        ("  <a@b>  (comment)", "<a@b>"),
        ("a@b", "<a@b>"),
        ("<>", None),
        ("", None),
        ("no id here", None),
    ],
)
def test_message_id_is_normalised(value: str, expected: str | None) -> None:
    parsed = parse_mail(mail(f"From: a@example.com\nMessage-ID: {value}"))
    if expected is None:
        assert parsed.message_id_generated
    else:
        assert (parsed.message_id, parsed.message_id_generated) == (expected, False)


def test_references_keep_their_order_and_drop_duplicates() -> None:
    parsed = parse_mail(
        mail(
            "From: a@example.com\nIn-Reply-To: <c@x> (John's message)\n"
            "References: <a@x>\n <b@x> <a@x>\n\t<c@x>"
        )
    )
    assert parsed.in_reply_to == ("<c@x>",)
    assert parsed.references == ("<a@x>", "<b@x>", "<c@x>")


@pytest.mark.parametrize(
    ("subject", "case_id"),
    [
        ("Re: [#HD-000123] Đơn hàng", 123),
        ("Re: [HD-123] x", 123),
        ("#HD-42 follow-up", 42),
        ("[ hd-7 ] lower case", 7),
        ("HD-55 without a mark", None),
        ("[HD-0] zero", None),
        ("[HD-1234567890123] too long", None),
        ("Invoice 2024-03", None),
    ],
)
def test_case_reference_from_the_subject(subject: str, case_id: int | None) -> None:
    parsed = parse_mail(mail(f"From: a@example.com\nSubject: {subject}"))
    assert parsed.case_reference == case_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 5 Mar 2024 09:14:58 +0700", datetime(2024, 3, 5, 2, 14, 58, tzinfo=UTC)),
        ("5 Mar 2024 09:14:58 -0000", datetime(2024, 3, 5, 9, 14, 58, tzinfo=UTC)),
        ("Tue, 5 Mar 2024 09:14:58 GMT", datetime(2024, 3, 5, 9, 14, 58, tzinfo=UTC)),
        ("yesterday", None),
        ("Mon, 99 Foo 99999 99:99:99 +9999", None),
    ],
)
def test_date_is_aware_utc_or_none(value: str, expected: datetime | None) -> None:
    assert parse_mail(mail(f"From: a@example.com\nDate: {value}")).date == expected


def test_from_is_never_taken_from_reply_to() -> None:
    parsed = parse_mail(mail("Reply-To: r@example.com\nSubject: no sender"))
    assert (parsed.from_address, parsed.from_name) == (None, None)
    assert parsed.reply_to == ("r@example.com",)


def test_raw_utf8_headers_are_read() -> None:
    raw = mail("From: Nguyễn Văn An <an@example.com>\nSubject: Xin chào  \n  các bạn")
    parsed = parse_mail(raw)
    assert (parsed.from_name, parsed.subject) == ("Nguyễn Văn An", "Xin chào các bạn")


def test_a_character_split_across_encoded_words_survives() -> None:
    encoded = "Tiếng Việt".encode()
    first, second = base64.b64encode(encoded[:5]).decode(), base64.b64encode(encoded[5:]).decode()
    raw = mail(f"From: a@example.com\nSubject: =?utf-8?b?{first}?=\n =?utf-8?b?{second}?=")
    assert parse_mail(raw).subject == "Tiếng Việt"


def test_base64_message_rfc822_part_is_decoded_into_the_eml() -> None:
    inner = b"From: x@example.com\r\nSubject: inner\r\n\r\nbody\r\n"
    raw = mail(
        BASIC + '\nContent-Type: multipart/mixed; boundary="b"',
        "--b\nContent-Type: text/plain\n\nsee\n--b\nContent-Type: message/rfc822\n"
        f"Content-Transfer-Encoding: base64\n\n{base64.b64encode(inner).decode()}\n--b--\n",
    )
    (eml,) = parse_mail(raw).attachments
    assert (eml.filename, eml.content_type, eml.content) == (
        "attachment-1.eml",
        "message/rfc822",
        inner,
    )


def test_many_parts_and_deep_nesting_are_cut_off_not_fatal() -> None:
    many = "".join(f"--b\nContent-Type: application/x-{i}\n\n{i}\n" for i in range(1500))
    wide = parse_mail(
        mail(BASIC + '\nContent-Type: multipart/mixed; boundary="b"', many + "--b--\n")
    )
    assert 900 <= len(wide.attachments) < 1000
    assert any("MIME parts" in d for d in wide.defects)

    body = "deep\n"
    for depth in reversed(range(60)):
        body = f'--d{depth}\nContent-Type: multipart/mixed; boundary="d{depth + 1}"\n\n{body}'
    deep = parse_mail(mail(BASIC + '\nContent-Type: multipart/mixed; boundary="d0"', body))
    assert any("nesting" in d for d in deep.defects)


def test_bytes_like_input_is_accepted() -> None:
    raw = fixture_bytes("plain_utf8_vi.eml")
    assert parse_mail(bytearray(raw)) == parse_mail(memoryview(raw))  # type: ignore[arg-type]


def test_the_result_is_frozen() -> None:
    parsed = parse_mail(fixture_bytes("plain_utf8_vi.eml"))
    with pytest.raises(AttributeError):
        parsed.subject = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    "cte",
    ["base64 ", " Base64\t", "base64 (encoded by the gateway)", "\r\n base64", "BASE64"],
)
def test_a_transfer_encoding_with_spaces_or_a_comment_is_still_decoded(cte: str) -> None:
    data = "Hóa đơn C:\\temp\\n\n".encode() + bytes(range(256))
    raw = (
        mail(BASIC + '\nContent-Type: multipart/mixed; boundary="b"', "")
        + b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + base64.b64encode("Chào bạn\n".encode())
        + b"\r\n--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n"
        + f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + base64.encodebytes(data).replace(b"\n", b"\r\n")
        + b"--b--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "Chào bạn\n"
    assert [(a.filename, a.content) for a in parsed.attachments] == [("x.bin", data)]
