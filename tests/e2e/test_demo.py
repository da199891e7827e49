"""The demo data in a real browser: what testers found empty now shows content.

A server of its own (``helpdesk migrate``, ``helpdesk demo --cases 12``, then
``helpdesk run``), signed into with the published demo credentials.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from helpdesk.demo._people import ADMIN_PASSWORD, AGENT_PASSWORD, MANAGER_PASSWORD
from tests.integration._processes import Daemons, free_port, helpdesk_env

Shot = Callable[[Page, str], None]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``helpdesk run`` on a fresh database holding a small demo."""
    root = tmp_path_factory.mktemp("demo")
    env = helpdesk_env(f"sqlite:///{root / 'helpdesk.db'}", root / "data")
    for args in (["migrate"], ["demo", "--cases", "12"]):
        done = subprocess.run(
            [sys.executable, "-m", "helpdesk.cli", *args], env=env, capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    daemons = Daemons(Path(root))
    server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)],
                           {**env, "HELPDESK_BASE_URL": base_url})  # fmt: skip
    try:
        daemons.wait_healthy(server, base_url)
        yield base_url
    finally:
        daemons.assert_all_stopped_cleanly()


def _sign_in(page: Page, base: str, email: str, password: str, then: str) -> None:
    page.goto(base + then)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(base + then.split("?")[0])))


def test_staff_see_macros_chats_ratings_and_rules(
    demo_url: str, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given the demo manager signed in
    page = new_page()
    _sign_in(page, demo_url, "hanh.bui@hotro.example", MANAGER_PASSWORD, "/console/macros")
    # Then the macro list holds canned replies in both languages
    rows = page.locator("table.macros tbody tr")
    expect(rows.filter(has_text="Xin mã đơn hàng")).to_have_count(1)
    expect(rows.filter(has_text="Refund timeline (English)")).to_have_count(1)
    assert rows.count() >= 8
    shot(page, "01-macros")
    # and a chat waits in her teams
    page.goto(demo_url + "/console/chats")
    expect(page.locator(".chat-waiting", has_text="Phiên đăng nhập đã hết hạn")).to_be_visible()
    shot(page, "02-waiting-chat")
    # and the report shows satisfaction answers
    page.goto(demo_url + "/console/reports?period=90")
    section = page.locator("section[aria-labelledby=satisfaction-heading]")
    expect(section.locator("table.report")).to_be_visible()
    shot(page, "03-satisfaction")

    # Given the billing agent: her chat goes on, with its lines
    agent = new_page()
    _sign_in(agent, demo_url, "mai.nguyen@hotro.example", AGENT_PASSWORD, "/console/chats")
    panel = agent.locator(".chat-panel").first
    expect(panel).to_contain_text("DH482913")
    expect(panel).to_contain_text("chị cập nhật giúp em luôn nhé")
    shot(agent, "04-ongoing-chat")

    # Given the admin: the routing rules are there, the billing one first
    admin = new_page()
    _sign_in(admin, demo_url, "quantri@hotro.example", ADMIN_PASSWORD, "/console/admin/rules")
    rules = admin.locator("table[data-table=rules] tbody tr[data-rule]")
    expect(rules.first).to_contain_text("nhóm Thanh toán")
    assert rules.count() >= 3
    shot(admin, "05-rules")


def test_the_help_centre_has_articles_in_both_languages(
    demo_url: str, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given a Vietnamese visitor on the help centre
    page = new_page()
    page.goto(demo_url + "/support/kb")
    expect(
        page.get_by_role("link", name="Yêu cầu xuất hoá đơn VAT (hoá đơn điện tử)")
    ).to_be_visible()
    shot(page, "01-kb-vi")
    # When she opens the article on refunds
    page.get_by_role("link", name="Chính sách hoàn tiền và thời gian nhận tiền").click()
    # Then it has steps, a table, and a link to its English translation
    expect(page.locator(".kb-body ol li").first).to_be_visible()
    expect(page.locator(".kb-body table")).to_be_visible()
    english = page.locator("a[hreflang=en]")
    expect(english).to_have_text("English: Refund policy and how long refunds take")
    shot(page, "02-kb-article")
    # Given an English-speaking visitor
    visitor = new_page(locale="en-US")
    visitor.goto(demo_url + "/support/kb")
    expect(visitor.get_by_role("link", name="Fixing 401 errors from the API")).to_be_visible()
    shot(visitor, "03-kb-en")
