"""Browser tests of the portal on a phone (390×844, touch) and on a desktop
(1280×900): no page scrolls sideways, the header's parts never overlap, "my
requests" are cards on the phone and a table on the desktop, the survey's five
choices are big real radios chosen by tapping them (also without JavaScript), and
the chat widget fills the phone's screen (issue 15, item 3).

Real parts: the seeded ``console`` server for the public pages, the
``portal`` server of :mod:`tests.e2e.test_portal` (with its SMTP sink, for the
sign-in link and the survey mail) for the customer's pages; Debian's Chromium.
Screenshots of every page at both sizes under ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.e2e.conftest import TIMEOUT_MS, Console
from tests.e2e.test_chat import ChatSite, chat_site  # noqa: F401 - fixture
from tests.e2e.test_portal import CUSTOMER, SUBJECT, Portal, portal  # noqa: F401 - fixture

Shot = Callable[[Page, str], None]
Opener = Callable[..., Page]
SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
LOGIN_ARTICLE = "Không đăng nhập được vào tài khoản"
TAP_MIN = 44

# Every visible part of the header, with its box (page coordinates).
HEADER_BOXES = """() => [...document.querySelectorAll(
    'header.top .brand, header.top nav a, header.top nav button')]
  .map(el => el.getBoundingClientRect())
  .filter(box => box.width > 0 && box.height > 0)
  .map(box => ({left: box.left, top: box.top, right: box.right, bottom: box.bottom}))"""


@pytest.fixture(scope="module", autouse=True)
def _servers_first(console: Console, chat_site: ChatSite, portal: Portal) -> None:  # noqa: F811
    """Start the servers (their seeding calls ``asyncio.run``) before Playwright's loop."""


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Opener]:
    """``open_page("phone" | "desktop", state=..., javascript=...)``: a page in a
    fresh context of that size (the phone one is a touch, mobile viewport)."""
    contexts: list[BrowserContext] = []

    def open_(size: str, *, state: Any = None, javascript: bool = True) -> Page:
        phone = size == "phone"
        context = browser.new_context(
            locale="vi-VN", viewport=SIZES[size], is_mobile=phone, has_touch=phone,
            storage_state=state, java_script_enabled=javascript,
        )  # fmt: skip
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def check_layout(page: Page, shot: Shot, name: str) -> None:
    """No sideways scrolling; header parts inside the screen, apart, and tall
    enough to tap; then a screenshot ``<size>-<name>``."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert scroll <= min(inner, width), f"{name}: scrolls sideways ({scroll} > {inner})"
    boxes: list[dict[str, float]] = page.evaluate(HEADER_BOXES)
    assert len(boxes) >= 3, f"{name}: header parts missing"
    for index, box in enumerate(boxes):
        assert box["right"] <= width + 0.5, f"{name}: header part {index} off screen: {box}"
        assert box["bottom"] - box["top"] >= TAP_MIN - 0.5, f"{name}: header part too small"
        for other in boxes[index + 1 :]:
            assert not _overlaps(box, other), f"{name}: header parts overlap: {box} {other}"
    size = "phone" if width < 640 else "desktop"
    shot(page, f"{size}-{name}")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_public_pages_fit_the_screen(
    console: Console, open_page: Opener, shot: Shot, size: str
) -> None:
    page = open_page(size)
    article_id = console.data.articles[LOGIN_ARTICLE]
    pages = {
        "home": "/support/",
        "sign-in": "/support/login",
        "request-form": "/support/request",
        "kb-index": "/support/kb",
        "kb-search": "/support/kb/search?q=dang+nhap",
        "kb-article": f"/support/kb/articles/{article_id}",
        "error": "/support/kb/articles/987654",
    }
    for name, path in pages.items():
        page.goto(console.url(path))
        expect(page.locator("h1")).to_be_visible()
        check_layout(page, shot, name)
    # The request form's suggestions open under the subject without widening the page
    page.goto(console.url("/support/request"))
    page.locator("input[name=subject]").press_sequentially("khong dang nhap duoc", delay=10)
    expect(page.locator("#kb-suggestions a").first).to_be_visible()
    check_layout(page, shot, "request-form-suggestions")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_chat_fills_a_phone_screen_only(
    chat_site: ChatSite,  # noqa: F811
    open_page: Opener,
    shot: Shot,
    size: str,
) -> None:
    # Given the shop's page of test_chat, which embeds the widget
    page = open_page(size)
    page.goto(chat_site.shop + "/index.html")
    launcher = page.locator("[data-helpdesk-chat] button.btn")
    launcher.click()
    panel = page.locator("[data-helpdesk-chat] .panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box
    # (a page without a viewport tag, like this one, is laid out wider than the
    # phone: what the customer sees is the visual viewport)
    seen = page.evaluate("[visualViewport.width, visualViewport.height]")
    wanted = [0, 0, seen[0], seen[1]]
    got = [box["x"], box["y"], box["width"], box["height"]]
    full = all(abs(a - b) <= 1 for a, b in zip(got, wanted, strict=True))
    # Then it fills the phone's screen, with a close button big enough to tap
    assert full == (size == "phone"), box
    close = panel.locator("header button")
    close_box = close.bounding_box()
    assert close_box
    if size == "phone":
        scale = page.evaluate("visualViewport.scale")  # CSS px of the page -> of the phone
        assert min(close_box["height"], close_box["width"]) * scale >= TAP_MIN - 0.5, close_box
        expect(launcher).to_be_hidden()
        foot = panel.locator("form button[type=submit]").bounding_box()
        assert foot
        assert foot["y"] + foot["height"] <= seen[1]
    shot(page, f"{size}-chat-open")
    close.click()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_visible()


def _sign_in_on_a_phone(portal: Portal, page: Page, shot: Shot) -> None:  # noqa: F811
    page.goto(portal.url("/support/login"))
    check_layout(page, shot, "sign-in")
    page.locator("input[name=email]").fill(CUSTOMER)
    page.locator("form.login button[type=submit]").tap()
    expect(page.locator("#login-sent")).to_contain_text(CUSTOMER)
    check_layout(page, shot, "sign-in-sent")
    link = re.search(r"http://\S+/support/login/\S+", portal.mail_to(CUSTOMER, "/support/login/"))
    assert link
    page.goto(link.group(0))
    check_layout(page, shot, "sign-in-confirm")
    page.locator("form.confirm button[type=submit]").tap()
    expect(page.locator("h1")).to_have_text("Yêu cầu của tôi")


def _cells_in_one_line(page: Page) -> bool:
    tops = page.evaluate(
        "[...document.querySelectorAll('tr[data-case]')[0].cells]"
        ".map(cell => Math.round(cell.getBoundingClientRect().top))"
    )
    return len(set(tops)) == 1


def test_the_customer_pages_on_a_phone_and_a_desktop(
    portal: Portal,  # noqa: F811
    open_page: Opener,
    shot: Shot,
) -> None:
    # Given Hoa signed in on her phone, with her request solved (the survey is offered)
    phone = open_page("phone")
    _sign_in_on_a_phone(portal, phone, shot)
    case = portal.api("GET", f"/cases/{portal.case_id}")
    portal.api("PATCH", f"/cases/{portal.case_id}", {"version": case["version"],
                                                     "status": "solved"})  # fmt: skip
    desktop = open_page("desktop", state=phone.context.storage_state())

    # Then "my requests" are cards on the phone and a table on the desktop
    for page in (phone, desktop):
        page.goto(portal.url("/support/requests"))
        expect(page.locator("tr[data-case]")).to_contain_text(SUBJECT)
        check_layout(page, shot, "my-requests")
    assert phone.locator("tr[data-case]").evaluate("row => getComputedStyle(row).display") != (
        "table-row"
    )
    assert not _cells_in_one_line(phone)
    expect(phone.locator("table.requests thead th").first).not_to_be_in_viewport()
    assert _cells_in_one_line(desktop)
    expect(desktop.locator("table.requests thead th").first).to_be_in_viewport()

    # And on the request page the survey's five choices are big and chosen by a tap
    for page in (phone, desktop):
        page.goto(portal.url(f"/support/requests/{portal.case_id}"))
        choices = page.locator("form.survey label.rating")
        expect(choices).to_have_count(5)
        for index in range(5):
            box = choices.nth(index).bounding_box()
            assert box
            assert min(box["height"], box["width"]) >= TAP_MIN, box
        legend_border = page.locator("form.survey fieldset").evaluate(
            "set => getComputedStyle(set).borderTopStyle"
        )
        assert legend_border == "none"
        check_layout(page, shot, "request-survey")
    phone.locator("form.survey label.rating", has_text="4").tap()
    expect(phone.locator("form.survey input[name=rating][value='4']")).to_be_checked()
    expect(phone.get_by_role("radio", name="4")).to_be_checked()
    shot(phone, "phone-request-survey-chosen")

    # And an unknown request is a readable error page
    phone.goto(portal.url("/support/requests/987654"))
    check_layout(phone, shot, "error-signed-in")

    # When she answers from the survey mail's link on a phone without JavaScript
    link = re.search(r"http://\S+/support/survey/\S+", portal.mail_to(CUSTOMER, "/support/survey/"))
    assert link
    plain = open_page("phone", javascript=False)
    plain.goto(link.group(0))
    check_layout(plain, shot, "survey-no-js")
    plain.locator("form.survey label.rating", has_text="5").tap()
    plain.locator("form.survey button[type=submit]").tap()
    # Then her rating is taken
    expect(plain.locator("body")).to_contain_text("5 trên 5")
    check_layout(plain, shot, "survey-answered")
