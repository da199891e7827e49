"""Every string of the customer portal and its mails has a Vietnamese translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from helpdesk.channels.email.system_mail import render_system_mail
from helpdesk.i18n import LOCALE_DIR, translator

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("portal/**.py", "python"),
    ("portal/templates/**.html", "jinja2"),
    ("helpdesk/channels/email/templates/*.txt", "jinja2"),  # every automatic mail
]
KEYWORDS = {"_": None, "N_": None}


def portal_msgids() -> set[str]:
    found = extract_from_dir(str(ROOT), method_map=METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def test_the_portal_has_strings_to_translate() -> None:
    msgids = portal_msgids()
    assert {"Sign in", "My requests", "Send me a sign-in link", "Send my rating"} <= msgids
    assert {"Your sign-in link", "Solved"} <= msgids
    assert {"We received your request", "Your email was not accepted"} <= msgids


def test_every_portal_string_has_a_vietnamese_translation() -> None:
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing = sorted(m for m in portal_msgids() if m not in catalog or not catalog[m].string)
    assert missing == []


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        ("My requests", "Yêu cầu của tôi"),
        ("Sign out", "Đăng xuất"),
        ("Customer satisfaction", "Mức độ hài lòng của khách hàng"),
        ("Pending", "Chờ khách hàng phản hồi"),
        ("Solved", "Đã giải quyết"),
    ],
)
def test_glossary_terms(english: str, vietnamese: str) -> None:
    assert translator("vi")(english) == vietnamese
    assert translator("en")(english) == english


def test_the_sign_in_mail_speaks_the_customers_language() -> None:
    subject, text = render_system_mail(
        "portal_login", "vi", name="Lê Thị Hoa", link="https://hd.test/x", minutes=15
    )
    assert subject == "Liên kết đăng nhập của Quý khách"
    assert "Kính gửi Quý khách Lê Thị Hoa," in text
    assert "Liên kết có hiệu lực trong 15 phút và chỉ dùng được một lần." in text
    assert "https://hd.test/x" in text
    subject, text = render_system_mail(
        "portal_login", "en", name="Hoa", link="https://hd.test/x", minutes=15
    )
    assert subject == "Your sign-in link"
    assert "can be used only once" in text
