"""decode_bytes: which charset damaged or unlabelled body bytes are read in."""

from __future__ import annotations

import pytest

from helpdesk.channels.email._charset import decode_bytes
from helpdesk.channels.email.parse import parse_mail
from tests.unit.channels._support import fixture_bytes

NUL_AS_0X80 = "Trước\x00sau \x00\x00 hết.".encode().replace(b"\x00", b"\x80")


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        # NULs served as 0x80 (Dovecot): 8 bytes of valid sequences against 3 bad ones
        (NUL_AS_0X80, "utf-8", "Trước\ufffdsau \ufffd\ufffd hết."),
        (NUL_AS_0X80, None, "Trước\ufffdsau \ufffd\ufffd hết."),
        (NUL_AS_0X80, "us-ascii", "Trước\ufffdsau \ufffd\ufffd hết."),
        # one stray byte in a longer UTF-8 text
        ("Xin chào, cảm ơn".encode() + b"\xff", None, "Xin chào, cảm ơn\ufffd"),
        # cp1252 text: lone high bytes, no valid sequence
        ("café naïve à côté".encode("cp1252"), None, "café naïve à côté"),
        ("Grüße, Ärger".encode("cp1252"), "utf-8", "Grüße, Ärger"),
        # more bad bytes than good ones: not UTF-8
        ("ư".encode() + b"\xe9\xe8\xe0", None, "Æ°éèà"),
    ],
)
def test_mostly_utf8_text_is_read_as_utf8_counting_bytes(
    data: bytes, label: str | None, expected: str
) -> None:
    assert decode_bytes(data, label) == expected


def test_the_nul_fixture_as_dovecot_serves_it_is_read_as_utf8() -> None:
    raw = fixture_bytes("nul_bytes.eml").replace(b"\x00", b"\x80")
    parsed = parse_mail(raw)
    assert parsed.text == "Trước\ufffdsau \ufffd\ufffd hết."
    assert parsed.attachments[0].content == b"\x80\x01\x80binary\x80"
