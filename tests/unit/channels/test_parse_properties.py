"""Properties of parse_mail: total on any bytes, and exact on what the email package builds."""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpdesk.channels.email import ParsedMail, UnparseableMail, parse_mail
from tests.unit.channels._support import FIXTURES

SEEDS = sorted(path.read_bytes() for path in FIXTURES.glob("*.eml"))
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_total(raw: bytes) -> None:
    """parse_mail gives a clean ParsedMail or refuses with a known reason; nothing else."""
    refused: UnparseableMail | None = None
    try:
        parsed = parse_mail(raw, max_line_length=5000)
    except UnparseableMail as exc:
        refused = exc
    if refused is not None:
        assert refused.reason in ("too_large", "line_too_long", "empty", "not_a_message")
        return
    assert isinstance(parsed, ParsedMail)
    assert not [d for d in parsed.defects if d.startswith("internal")], parsed.defects
    assert parsed.visible_text + parsed.quoted_text == parsed.text
    for text in (parsed.text, parsed.subject, parsed.html or "", parsed.from_name or ""):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates
    for attachment in parsed.attachments:
        assert attachment.filename
        for bad in ("/", "\\", "\n", "\r", "\x00"):
            assert bad not in attachment.filename


@PROPERTY
@given(st.binary(max_size=3000))
@example(b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n")
@example(b'To: "\r\n\r\nx')
@example(b"To: a@[\r\n\r\nx")
@example(b"From: =?utf-7?q?+2AA-?= <a@b.c>\r\nSubject: =?utf-7?b?K2RnQS0=?=\r\n\r\n")
@example(b"Content-Type: charset=\x00\r\n\r\n\x83")  # found by the header fuzzing below
def test_any_bytes_parse_or_are_refused(raw: bytes) -> None:
    _check_total(raw)


HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
    "References", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
    "Auto-Submitted", "MIME-Version", "Return-Path",
]  # fmt: skip
VALUE_PIECES = [
    "=?utf-8?b?", "=?utf-8?q?", "?=", "=?x-unknown?q?=C3=A0?=", "=?utf-7?b?K2RnQS0=?=", "<",
    ">", "@", '"', "\\", ";", "boundary=", "charset=", "filename*=utf-8''%C3%A1", "multipart/",
    "text/html", "base64", "quoted-printable", "(", ")", ",", ":", "\r\n ", "\r\n", "\x00",
    "Nguyễn", "a@b.c", "<id@x>",
]  # fmt: skip
header_value = st.lists(st.sampled_from(VALUE_PIECES) | st.text(max_size=8), max_size=8).map(
    "".join
)
header_line = st.tuples(st.sampled_from(HEADER_NAMES), header_value).map(
    lambda pair: f"{pair[0]}: {pair[1]}"
)


@PROPERTY
@given(st.lists(header_line, min_size=1, max_size=8), st.binary(max_size=500))
def test_hostile_headers_parse_or_are_refused(lines: list[str], body: bytes) -> None:
    _check_total("\r\n".join(lines).encode("utf-8", "surrogatepass") + b"\r\n\r\n" + body)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "flip", "truncate", "duplicate"]))
        if action == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif action == "insert":
            data[at:at] = draw(
                st.sampled_from([b"\r\n", b"--", b"\x00", b"=", b"\xff\xfe", b"=?", b"\r\n\r\n"])
                | st.binary(max_size=20)
            )
        elif action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 300))]
    return bytes(data)


@PROPERTY
@given(mutated_fixture())
def test_damaged_real_mail_parses_or_is_refused(raw: bytes) -> None:
    _check_total(raw)


# --- round trip ------------------------------------------------------------------

body_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"),
    max_size=600,
) | st.sampled_from(["C:\\new\\table\n", "\\\\server\\share \\n \\t \\\\\n", "Đơn hàng\\n\n"])
name_chars = st.sampled_from(
    list("abcxyzABCXYZ0123456789 ._-()")
    + list("àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵĐ")
)
filename = (
    st.text(alphabet=name_chars, min_size=1, max_size=40)
    .map(lambda name: " ".join(name.split()))
    .filter(lambda name: name not in ("", ".", ".."))
)
content_type = st.sampled_from(
    [("application", "pdf"), ("image", "png"), ("text", "plain"), ("application", "octet-stream")]
)
attachment = st.tuples(filename, content_type, st.binary(max_size=2000), st.booleans())
subject = st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"]), max_size=120)


@settings(max_examples=200, deadline=None)
@given(body_text, st.lists(attachment, max_size=4), subject)
def test_round_trip_of_built_mail_is_exact(
    text: str, attachments: list[tuple[str, tuple[str, str], bytes, bool]], title: str
) -> None:
    # Given a mail built by the email package, with a body and attachments
    message = EmailMessage()
    message["From"] = "Nguyễn Văn An <an@example.com>"
    message["To"] = "support@example.vn"
    message["Subject"] = title
    message.set_content(text)
    for name, (maintype, subtype), content, inline in attachments:
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype,
            filename=name,
            disposition="inline" if inline else "attachment",
        )

    # When it is serialised and parsed
    parsed = parse_mail(message.as_bytes())

    # Then the body text and every attachment come back identical
    assert parsed.text == (text if text.endswith("\n") else text + "\n")
    assert parsed.subject == " ".join(title.split())
    assert (parsed.from_address, parsed.from_name) == ("an@example.com", "Nguyễn Văn An")
    assert [(a.filename, a.content_type, a.content, a.inline) for a in parsed.attachments] == [
        (unicodedata.normalize("NFC", name), f"{maintype}/{subtype}", content, inline)
        for name, (maintype, subtype), content, inline in attachments
    ]
