"""The people pages in a real browser: a phone case for a new customer, then the customer's page.

Given/When/Then in the test body; texts are checked in Vietnamese (the default).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
SUBJECT = "Mất kết nối internet từ sáng"


def test_an_agent_opens_a_phone_case_for_a_new_customer_and_edits_her(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Lan, an agent of the technical support team, signed in
    page = new_page()
    sign_in(page, console, "lan")

    # When a customer nobody knows phones, and Lan opens a new case from the header
    page.locator("header.top a[data-new-case]").click()
    page.wait_for_url("**/console/cases/new")
    page.locator("form.customer-search input[name=q]").fill("ly ngoc bich")
    page.locator("form.customer-search button[type=submit]").click()
    expect(page.locator("p.empty")).to_have_text(
        "Không tìm thấy khách hàng. Hãy nhập thông tin bên dưới."
    )
    shot(page, "01-no-customer-found")
    page.locator("input[name=new_name]").fill("Lý Ngọc Bích")
    page.locator("input[name=new_phone]").fill("0987 654 321")
    page.locator("select[name=channel]").select_option("phone")
    page.locator("input[name=subject]").fill(SUBJECT)
    page.locator("textarea[name=body]").fill("Chị Bích gọi: mạng nhà chị mất từ 7 giờ sáng.")
    page.locator("select[name=team]").select_option(label="Hỗ trợ kỹ thuật")
    shot(page, "02-new-case-form")
    page.locator("form.new-case button[type=submit]").click()

    # Then the case is opened on the phone channel, her words as the customer's message
    page.wait_for_url(re.compile(r"/console/cases/\d+$"))
    expect(page.locator(".flash-ok")).to_have_text("Đã tạo yêu cầu.")
    expect(page.locator(".case-head h1")).to_have_text(SUBJECT)
    expect(page.locator(".case-head .meta")).to_contain_text("Điện thoại")
    expect(page.locator(".msg-customer")).to_contain_text("mạng nhà chị mất")
    shot(page, "03-case")

    # When Lan opens the customer's page from the case
    page.locator("a[data-customer-link]").click()
    page.wait_for_url(re.compile(r"/console/customers/\d+$"))

    # Then it shows Bích, her phone, and the case with its status
    expect(page.locator("h1")).to_have_text("Lý Ngọc Bích")
    expect(page.locator("[data-field=phone]")).to_have_text("Điện thoại: 0987 654 321")
    row = page.locator("tr[data-case-row]").filter(has_text=SUBJECT)
    expect(row).to_have_count(1)
    expect(page.locator(".people-head .meta")).to_contain_text(
        re.compile(r"Khách hàng từ \d{2}/\d{2}/\d{4}")
    )
    shot(page, "04-customer")

    # When she corrects the phone number and writes a note
    page.locator(".customer-form input[name=phone]").fill("0987 000 111")
    page.locator(".customer-form textarea[name=notes]").fill("Thích được gọi lại sau 17h.")
    page.locator(".customer-form button[type=submit]").click()

    # Then the page shows the new number and the note, and still the case
    expect(page.locator(".flash-ok")).to_have_text("Đã lưu thông tin khách hàng.")
    expect(page.locator("[data-field=phone]")).to_have_text("Điện thoại: 0987 000 111")
    expect(page.locator(".customer-form textarea[name=notes]")).to_have_value(
        "Thích được gọi lại sau 17h."
    )
    expect(page.locator("tr[data-case-row]").filter(has_text=SUBJECT)).to_have_count(1)
    shot(page, "05-customer-edited")
