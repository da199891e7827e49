"""Every string of the agent console has a Vietnamese translation, and macros fill placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from helpdesk.i18n import LOCALE_DIR, translator
from helpdesk.services.macros import render_macro

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("agent_console/**.py", "python"),
    ("agent_console/templates/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "N_": None}


def console_msgids() -> set[str]:
    found = extract_from_dir(str(ROOT), method_map=METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def test_the_console_has_strings_to_translate() -> None:
    msgids = console_msgids()
    assert {"Sign in", "Internal note", "My cases", "Take"} <= msgids
    # the manager and admin pages: templates under console/manage/ and their modules
    assert {"SLA dashboard", "Save routing rule", "Agent saved.", "under %(high)s h"} <= msgids


def test_every_console_string_has_a_vietnamese_translation() -> None:
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing = sorted(m for m in console_msgids() if m not in catalog or not catalog[m].string)
    assert missing == []


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        ("Internal note", "Ghi chú nội bộ"),
        ("Take", "Nhận xử lý"),
        ("Unassigned", "Chưa phân công"),
        ("Macros", "Mẫu trả lời"),
        ("Pending", "Chờ khách hàng phản hồi"),
        ("Urgent", "Khẩn cấp"),
        ("Away", "Tạm vắng"),
        ("Queues", "Hàng đợi"),
        ("Routing rules", "Quy tắc phân bổ"),
        ("Round-robin", "Phân bổ xoay vòng"),
        ("Least loaded", "Phân bổ theo khối lượng công việc"),
        ("Maximum cases", "Số yêu cầu tối đa"),
        ("Make-up working days", "Ngày làm bù"),
        ("Export CSV", "Xuất CSV"),
        ("Mailboxes", "Hộp thư"),
    ],
)
def test_glossary_terms(english: str, vietnamese: str) -> None:
    assert translator("vi")(english) == vietnamese
    assert translator("en")(english) == english


def test_placeholders_are_filled_and_unknown_ones_stay_visible() -> None:
    values = {"customer_name": "Lê Thị Hoa", "case_number": "HD-000042", "agent_name": "Lan"}
    body = "Chào {{customer_name}}, mã {{ case_number }}. {{agent_name}} {{nope}} {{ customer_name"
    expected = "Chào Lê Thị Hoa, mã HD-000042. Lan {{nope}} {{ customer_name"
    assert render_macro(body, values) == expected
    # values are inserted as they are, never expanded again
    sneaky = {"customer_name": "{{agent_name}}", "agent_name": "Lan"}
    assert render_macro("{{customer_name}}", sneaky) == "{{agent_name}}"
