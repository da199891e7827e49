"""Browser test of notifications: Minh assigns a case to Lan in another browser; Lan's
bell counts it at once, without a reload; opening it marks it read and leads to the case.

Real parts: the session's ``helpdesk run`` (embedded, SQLite) and Debian's Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
LIVE_MS = 15_000
# The browser's Notification API, recording what is shown (headless Chromium shows
# nothing), with the permission granted, and a switch that puts the tab in the background.
RECORD_NOTIFICATIONS = """
window.__shown = [];
window.Notification = class {
  constructor(title, options) { window.__shown.push({ title: title, body: options.body }); }
  close() {}
};
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
Object.defineProperty(document, "hidden", { configurable: true, get: function () {
  return window.__background === true; } });
"""


def _assign(page: Page, name: str) -> None:
    page.locator("select[name=assignee]").select_option(label=name)
    with page.expect_response(lambda r: r.url.endswith("/assign") and r.request.method == "POST"):
        page.locator("form[action$='/assign'] button[type=submit]").click()
    expect(page.locator(".case-head")).to_contain_text(name)


def test_a_case_assigned_by_a_colleague_rings_the_bell_live(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Lan signed in, on her queue, with the bell showing what is unread
    lan = new_page()
    lan.add_init_script(RECORD_NOTIFICATIONS)
    sign_in(lan, console, "lan", then="/console/queues/mine")
    bell = lan.locator("#notification-bell [data-unread]")
    expect(lan.locator("#live-status")).to_have_attribute(
        "data-subscribed", re.compile(r"agent:\d+"), timeout=LIVE_MS
    )
    before = int(bell.inner_text())
    shot(lan, "01-lan-before")

    # When Minh, in another browser, takes the case and then gives it to Lan
    minh = new_page()
    sign_in(minh, console, "minh", then=f"/console/cases/{console.data.cases['reset']}")
    _assign(minh, "Trần Văn Minh")  # his own doing tells nobody
    _assign(minh, "Nguyễn Thị Lan")
    shot(minh, "02-minh-assigned")

    # Then Lan's bell counts one more, without a reload
    expect(bell).to_have_text(str(before + 1), timeout=LIVE_MS)
    expect(lan.locator("#notification-bell")).to_have_class(re.compile("has-unread"))
    expect(lan.locator("#toasts .toast")).to_contain_text("Trần Văn Minh đã phân công")
    shot(lan, "03-lan-bell")

    # When her tab is in the background, the browser shows the next one
    assert lan.evaluate("window.__shown") == []  # in the foreground: the page's toast only
    lan.evaluate("window.__background = true")
    _assign(minh, "Trần Văn Minh")
    _assign(minh, "Nguyễn Thị Lan")
    expect(bell).to_have_text(str(before + 2), timeout=LIVE_MS)
    lan.wait_for_function("window.__shown.length === 1", timeout=LIVE_MS)
    shown = lan.evaluate("window.__shown[0]")
    assert shown["title"] == "Trung tâm hỗ trợ: thông báo mới"
    assert "Trần Văn Minh đã phân công yêu cầu" in shown["body"]
    lan.evaluate("window.__background = false")

    # When she opens her notifications, the newest says who gave her which case
    lan.locator("#notification-bell").click()
    lan.wait_for_url("**/console/notifications")
    newest = lan.locator("ul.notifications li").first
    expect(newest).to_have_class("unread")
    expect(newest).to_contain_text(
        re.compile(r"Trần Văn Minh đã phân công yêu cầu HD-\d+ cho bạn: Cannot reset my password")
    )
    expect(lan.locator("[data-notify-permission]")).to_be_hidden()  # granted already
    shot(lan, "04-lan-list")

    # And opening it leads to the case and marks it read
    newest.locator("a").click()
    lan.wait_for_url(console.case_url("reset"))
    expect(lan.locator("#notification-bell [data-unread]")).to_have_text(str(before + 1))
    lan.goto(console.url("/console/notifications"))
    expect(lan.locator("ul.notifications li").first).to_have_class("read")
    shot(lan, "05-lan-read")
