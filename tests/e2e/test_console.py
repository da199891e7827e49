"""The agent console in a real browser against a real server.

Given/When/Then in the test bodies; texts are checked in Vietnamese (the
default language) unless the test is about the English console.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]


def test_an_agent_works_a_case(console: Console, new_page: Callable[..., Page], shot: Shot) -> None:
    # Given Lan, an agent of the technical support team, signed in
    page = new_page()
    sign_in(page, console, "lan")
    expect(page.locator("nav.queues")).to_contain_text("Yêu cầu của tôi")
    # who says she is available (the select submits itself)
    page.locator("#availability").select_option("available")
    expect(page.locator(".flash-ok")).to_have_text("Đã cập nhật tình trạng làm việc.")
    expect(page.locator("#availability")).to_have_value("available")
    shot(page, "01-my-cases")

    # When she opens her team's queue
    page.locator("a[data-queue=team]").click()
    page.wait_for_url("**/console/queues/team")
    rows = page.locator("tr[data-row]")
    # Then she sees her team's cases and not the billing team's
    expect(rows.filter(has_text=console.data.subjects["login"])).to_have_count(1)
    expect(page.locator("table.cases")).not_to_contain_text(console.data.subjects["invoice"])
    shot(page, "02-team-queue")

    # When she picks the case with the keyboard (j/k to move, o to open)
    index = _row_index(page, console.data.subjects["login"])
    for _ in range(index + 1):
        page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(console.case_url("login"))

    # Then the whole conversation is there, the internal note set apart
    conversation = page.locator("section.conversation")
    expect(conversation.locator(".msg-customer")).to_contain_text("không đăng nhập được")
    expect(conversation.locator(".msg-note")).to_contain_text("Khách hàng VIP.")
    expect(conversation.locator(".msg-note .kind")).to_have_text("Ghi chú nội bộ")
    expect(page.locator(".customer")).to_contain_text("hoa@khach.vn")
    expect(conversation.locator("a[download]")).to_have_text("ảnh chụp lỗi.txt")
    shot(page, "03-case")

    # When she takes it (t), replies with a macro (r) and adds a note (n)
    page.keyboard.press("t")
    expect(page.locator(".flash-ok")).to_have_text("Bạn đã nhận xử lý yêu cầu này.")
    expect(page.locator(".case-head")).to_contain_text("Nguyễn Thị Lan")
    page.locator("#macro-select").select_option(label="Lời chào")
    reply_box = page.locator("#reply-body")
    expect(reply_box).to_have_value(
        re.compile(r"^Chào Lê Thị Hoa,\n.*HD-0+\d+.*Nguyễn Thị Lan", re.S)
    )
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(reply_box).to_be_focused()
    reply_box.press("End")
    reply_box.press_sequentially("\nBạn thử xóa bộ nhớ đệm trình duyệt nhé.")
    page.locator("form.reply button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_have_text("Đã gửi trả lời.")
    # Then the reply shows in the conversation
    expect(conversation.locator(".msg-reply")).to_contain_text("xóa bộ nhớ đệm")
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
    page.locator("#note-body").fill("Đã hướng dẫn khách xóa bộ nhớ đệm.")
    page.locator("form.note button[type=submit]").click()
    expect(conversation.locator(".msg-note").last).to_contain_text("Đã hướng dẫn khách")
    shot(page, "04-replied")

    # When she sets the case to pending
    page.locator("#status-select").select_option("pending")
    page.get_by_role("button", name="Lưu thay đổi").click()
    # Then the case says so
    expect(page.locator(".flash-ok")).to_have_text("Đã cập nhật yêu cầu.")
    expect(page.locator(".case-head [data-status]")).to_have_text("Chờ khách hàng phản hồi")
    shot(page, "05-pending")

    # And the attachment downloads through the console
    with page.expect_download() as download:
        conversation.locator("a[download]").click()
    assert download.value.suggested_filename == "ảnh chụp lỗi.txt"


def _row_index(page: Page, subject: str) -> int:
    subjects = page.locator("tr[data-row] td.subject a").all_inner_texts()
    return next(i for i, text in enumerate(subjects) if subject in text)


def test_sign_in_is_rate_limited(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given someone guessing passwords for one address
    page = new_page()
    page.goto(console.url("/console/login"))
    error = page.locator("p.error")
    # When they fail ten times, they are told the password is wrong
    for attempt in range(10):
        page.locator("input[name=email]").fill("doan-mat-khau@support.test")
        page.locator("input[name=password]").fill(f"sai-{attempt}")
        page.locator("form[action='/console/login'] button[type=submit]").click()
        expect(error).to_have_text("Email hoặc mật khẩu không đúng.")
        error.evaluate("element => element.remove()")
    # Then the eleventh attempt is refused with a clear message, not an error page
    with page.expect_response("**/console/login") as response:
        page.locator("input[name=password]").fill("sai-11")
        page.locator("form[action='/console/login'] button[type=submit]").click()
    assert response.value.status == 429
    expect(error).to_have_text(
        "Bạn đã thử đăng nhập quá nhiều lần. Vui lòng đợi vài phút rồi thử lại."
    )
    shot(page, "rate-limited")


def test_a_forged_post_is_rejected(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Minh, who opened a link to a case and was asked to sign in first
    page = new_page()
    sign_in(page, console, "minh", then=f"/console/cases/{console.data.cases['forged']}")
    expect(page.locator("h1")).to_have_text(console.data.subjects["forged"])  # back where he was
    reply_url = console.case_url("forged") + "/reply"

    # When a request with his cookie but without (or with a wrong) CSRF token posts a reply
    missing = page.request.post(reply_url, form={"body": "forged without token"})
    wrong = page.request.post(reply_url, form={"body": "forged wrong token", "_csrf": "0" * 64})
    # Then both are refused
    assert missing.status == 403
    assert wrong.status == 403
    assert "Biểu mẫu này đã hết hạn" in missing.text()

    # When another site makes his browser submit a form to the console
    attacker = "http://attacker.invalid/"
    page.route(
        attacker,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id="f" method="post" action="{reply_url}">'
            '<input name="body" value="forged cross-site"></form>'
            "<script>document.getElementById('f').submit()</script>",
        ),
    )
    with page.expect_response(reply_url) as forged:
        page.goto(attacker)
    # Then the session cookie is not sent (SameSite=Lax): the post only leads to sign-in
    assert forged.value.status == 302
    assert forged.value.headers["location"].startswith("/console/login")
    assert "set-cookie" not in forged.value.headers  # and does not sign Minh out either
    page.goto(console.case_url("forged"))
    expect(page.locator("section.conversation")).not_to_contain_text("forged")
    expect(page.locator(".msg-reply")).to_have_count(0)
    shot(page, "no-forged-reply")


def test_the_console_speaks_vietnamese_and_english(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given a browser that asks for nothing in particular: Vietnamese, the default
    vietnamese = new_page(locale="fr-FR")
    vietnamese.goto(console.url("/console/login"))
    expect(vietnamese.locator("h1")).to_have_text("Đăng nhập trang nhân viên hỗ trợ")
    expect(vietnamese.locator("html")).to_have_attribute("lang", "vi")

    # Given a browser that prefers English
    english = new_page(locale="en-US")
    sign_in(english, console, "huy")
    # Then the console is in English
    expect(english.locator("html")).to_have_attribute("lang", "en")
    expect(english.locator("nav.queues")).to_contain_text("My cases")
    expect(english.locator("nav.queues")).to_contain_text("Macros")  # a manager manages macros
    english.locator("a[data-queue=all]").click()
    expect(english.locator("h1")).to_contain_text("All cases")
    expect(english.locator("table.cases")).to_contain_text("Hóa đơn tháng 10 bị sai")
    shot(english, "english")

    # When the manager adds a macro
    english.get_by_role("link", name="Macros").click()
    english.locator("input[name=name]").fill("Closing")
    english.locator("textarea[name=body]").fill("Best regards,\n{{agent_name}}")
    english.get_by_role("button", name="Save macro").click()
    # Then it is listed
    expect(english.locator(".flash-ok")).to_have_text("Macro saved.")
    expect(english.locator("table.macros")).to_contain_text("Closing")
    shot(english, "macros")
    english.locator("a[data-queue=all]").click()
    expect(english.locator("h1")).to_contain_text("All cases")  # navigated before switching

    # When the manager switches to Vietnamese
    english.get_by_role("link", name="Tiếng Việt").first.click()
    expect(english.locator("h1")).to_contain_text("Tất cả yêu cầu")
    # Then the choice sticks, whatever the browser asks for
    english.goto(console.case_url("reset"))
    expect(english.locator(".case-head")).to_contain_text("Mã yêu cầu:")
    expect(english.get_by_role("button", name="Gửi trả lời")).to_be_visible()
    shot(english, "vietnamese-after-switch")
