"""Customer-facing Vietnamese says "Quý khách", never "bạn" (issue 15, item 5)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from helpdesk.i18n import LOCALE_DIR
from helpdesk.web.errors import DEFAULT_TEXT, ERROR_TEXTS

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("portal/**.py", "python"),  # the portal, the web form and the chat widget's texts
    ("portal/templates/**.html", "jinja2"),
    ("helpdesk/channels/email/templates/notification.txt", "ignore"),  # agents' mail
    ("helpdesk/channels/email/templates/*.txt", "jinja2"),  # every customer mail
]
KEYWORDS = {"_": None, "N_": None}
INFORMAL = re.compile(r"\bbạn\b", re.IGNORECASE)


def customer_msgids() -> set[str]:
    """Every msgid a customer can read: portal, customer mails, customer error texts."""
    found = extract_from_dir(str(ROOT), method_map=METHODS, keywords=KEYWORDS)
    msgids = {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}
    return msgids | {text.customer for text in [*ERROR_TEXTS.values(), DEFAULT_TEXT]}


def test_customer_strings_say_quy_khach_never_ban() -> None:
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    msgids = customer_msgids()
    assert {"Chat with us", "This was already done.", "Sign in"} <= msgids
    informal = sorted(
        f"{m!r}: {catalog[m].string!r}"
        for m in msgids
        if m in catalog and INFORMAL.search(str(catalog[m].string))
    )
    assert informal == []


def test_the_check_catches_informal_wording() -> None:
    assert INFORMAL.search("Cảm ơn Bạn đã liên hệ")
    assert not INFORMAL.search("Cảm ơn Quý khách đã liên hệ")
