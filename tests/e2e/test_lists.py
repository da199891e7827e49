"""Browser test of the lists: tick cases with the keyboard, change them at once, save a view."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
WORD = "maylanh"  # in the subjects of this test's cases only


def open_phone_case(page: Page, console: Console, n: int) -> None:
    """A case for a new customer who phoned, through the console's "New case" page."""
    page.goto(console.url("/console/cases/new"))
    page.locator("form.customer-search input[name=q]").fill(f"ho van lanh {n}")
    page.locator("form.customer-search button[type=submit]").click()
    expect(page.locator("p.empty")).to_be_visible()  # nobody of that name: a new customer
    page.locator("input[name=new_name]").fill(f"Hồ Văn Lạnh {n}")
    page.locator("input[name=new_phone]").fill(f"0912 000 11{n}")
    page.locator("select[name=channel]").select_option("phone")
    page.locator("input[name=subject]").fill(f"Bảo hành {WORD} số {n}")
    page.locator("textarea[name=body]").fill("Máy lạnh không chạy, khách gọi điện.")
    page.locator("select[name=team]").select_option(label="Hỗ trợ kỹ thuật")
    page.locator("form.new-case button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/cases/\d+$"))


def test_an_agent_ticks_cases_with_the_keyboard_changes_them_and_saves_a_view(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    page = new_page()
    sign_in(page, console, "minh")
    for n in (1, 2, 3):
        open_phone_case(page, console, n)

    # Search finds the three; j moves the highlight, x ticks the highlighted row
    page.goto(console.url(f"/console/search?q={WORD}"))
    rows = page.locator("tr[data-row]")
    expect(rows).to_have_count(3)
    page.locator("body").click(position={"x": 5, "y": 5})
    for key in ("j", "x", "j", "x"):
        page.keyboard.press(key)
    expect(page.locator("[data-bulk-count]")).to_have_text("2")
    expect(page.locator("tr.ticked")).to_have_count(2)

    # The bulk bar sets them pending with a tag, in one go
    page.locator("#bulk-form select[name=status]").select_option("pending")
    page.locator("#bulk-form input[name=add_tags]").fill("bao-hanh")
    shot(page, "01-two-ticked")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_have_text("Đã thay đổi 2 yêu cầu.")
    expect(page.locator("tr[data-row] .status-pending")).to_have_count(2)
    expect(page.locator("tr[data-row] .tag", has_text="bao-hanh")).to_have_count(2)

    # The team queue filtered by that tag is kept as a view, and opens again from its link
    page.goto(console.url("/console/queues/team?tag=bao-hanh&status=any"))
    page.locator("details.save-view summary").click()
    page.locator("details.save-view input[name=name]").fill("Bảo hành máy lạnh")
    page.locator("details.save-view button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_have_text("Đã lưu chế độ xem.")
    expect(page.locator("#queue-heading h1")).to_contain_text("Bảo hành máy lạnh")
    page.goto(console.url("/console/queues/mine"))
    page.locator(".saved-views a", has_text="Bảo hành máy lạnh").click()
    expect(page.locator("tr[data-row]")).to_have_count(2)
    shot(page, "02-saved-view")
