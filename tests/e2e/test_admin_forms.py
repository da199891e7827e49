"""An administrator fills in the settings forms in a real browser (issue 14):
every bad field is marked at once, in Vietnamese; the country is chosen by
name; times and dates are typed as people write them; the calendar shows its
preview; deletes ask first and say what depends on the thing."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
CALENDARS = "/console/admin/sla/calendars"


def test_an_admin_fills_in_a_calendar_then_deletes_it_after_its_policy(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given An, an administrator, on the business calendars page
    page = new_page()
    sign_in(page, console, "an", then=CALENDARS)
    form = page.locator("form.settings-form")
    expect(form.locator("select[name=country] option:checked")).to_have_text("Việt Nam")

    # When she types a bad period, an impossible date and a bad make-up day
    form.locator("input[name=name]").fill("Văn phòng Hà Nội")
    form.locator("input[name=hours_mon]").fill("8h-25h")
    form.locator("textarea[name=closed_dates]").fill("31/02/2027")
    form.locator("textarea[name=makeup_days]").fill("20/02/2027 sáng")
    form.locator("button[type=submit]").click()

    # Then the three fields are marked at once, in Vietnamese, with what she typed
    expect(page.locator("[data-form-error]")).to_contain_text("Vui lòng kiểm tra lại biểu mẫu")
    expect(page.locator("[data-error-for=hours_mon]")).to_have_text(
        "“8h-25h” không phải là khoảng giờ: hãy viết theo dạng 8:00-12:00 hoặc 8h-12h."
    )
    expect(page.locator("[data-error-for=closed_dates]")).to_contain_text("31/02/2027")
    expect(page.locator("[data-error-for=makeup_days]")).to_be_visible()
    expect(form.locator("input[name=hours_mon]")).to_have_value("8h-25h")
    expect(form.locator("input[name=hours_mon]")).to_have_attribute("aria-invalid", "true")
    shot(page, "01-every-field-marked")

    # When she corrects them, times and dates written the Vietnamese way
    form.locator("input[name=hours_mon]").fill("8h-12h, 13h30-17h30")
    form.locator("textarea[name=closed_dates]").fill("11/02/2027")
    form.locator("textarea[name=makeup_days]").fill("20/02/2027 8h-12h")
    form.locator("select[name=country]").select_option(label="Việt Nam")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-ok, [role=status]").first).to_be_visible()

    # Then the calendar's preview skips Tết 2027 and lists its holidays
    page.locator("table[data-table=calendars] a", has_text="Văn phòng Hà Nội").click()
    page.wait_for_url(re.compile(r"/calendars/\d+$"))
    page.goto(page.url + "?from=01/02/2027")
    preview = page.locator("[data-preview]")
    expect(preview.locator("[data-table=working-days] tbody tr").first).to_contain_text(
        "01/02/2027"
    )
    expect(preview.locator("[data-table=special-days]")).to_contain_text("Tết Nguyên Đán")
    expect(preview.locator("tr[data-kind=makeup]").first).to_contain_text("20/02/2027")
    expect(page.locator("textarea[name=closed_dates]")).to_have_value("11/02/2027")
    shot(page, "02-preview")
    calendar_url = page.url.split("?")[0]

    # Given an SLA policy that uses the calendar
    page.goto(console.url("/console/admin/sla/policies"))
    policy_form = page.locator("form.settings-form")
    policy_form.locator("input[name=name]").fill("Khách hàng VIP")
    policy_form.locator("select[name=calendar]").select_option(label="Văn phòng Hà Nội")
    policy_form.locator("button[type=submit]").click()
    expect(page.locator("table[data-table=policies]")).to_contain_text("Khách hàng VIP")

    # When she asks to delete the calendar, she is told which policy uses it
    page.goto(console.url(CALENDARS))
    row = page.locator("tr", has_text="Văn phòng Hà Nội")
    row.locator("a.danger").click()
    expect(page.locator("[data-dependents]")).to_have_text(
        "1 chính sách SLA đang dùng lịch này: Khách hàng VIP. Hãy đổi chính sách đó trước."
    )
    expect(page.locator("button.danger")).to_have_count(0)
    shot(page, "03-calendar-in-use")

    # When she deletes the policy, confirming it, then the calendar
    page.goto(console.url("/console/admin/sla/policies"))
    page.locator("tr", has_text="Khách hàng VIP").locator("a.danger").click()
    expect(page.locator("[data-confirm=delete]")).to_contain_text("Khách hàng VIP")
    page.locator("button.danger").click()
    expect(page.locator("table[data-table=policies]")).not_to_contain_text("Khách hàng VIP")
    page.goto(calendar_url + "/delete")
    page.locator("button.danger").click()
    page.wait_for_url(re.compile(re.escape(console.url(CALENDARS)) + "$"))

    # Then the calendar is gone
    expect(page.locator("table[data-table=calendars]")).not_to_contain_text("Văn phòng Hà Nội")
    shot(page, "04-deleted")
