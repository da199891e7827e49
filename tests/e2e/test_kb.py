"""The knowledge base in a real browser: suggestions on the request form,
"Was this helpful?", and inserting an article link into a reply."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
LOGIN_ARTICLE = "Không đăng nhập được vào tài khoản"


def test_a_customer_finds_an_answer_while_typing(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given a customer on the request form
    page = new_page()
    page.goto(console.url("/support/request"))
    # When she types her problem without diacritics
    page.locator("input[name=subject]").press_sequentially("khong dang nhap duoc", delay=20)
    # Then an article about it is suggested
    link = page.locator("#kb-suggestions a", has_text=LOGIN_ARTICLE)
    expect(link).to_be_visible()
    shot(page, "01-suggestions")
    # When she opens it (in a new tab) and says it helped
    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    expect(article.locator("h1")).to_have_text(LOGIN_ARTICLE)
    expect(article.locator(".kb-body strong")).to_have_text("Quên mật khẩu")
    article.locator("button[name=helpful][value=yes]").click()
    # Then she is thanked
    expect(article.locator("#feedback")).to_contain_text("Cảm ơn")
    shot(article, "02-helpful")


def test_an_agent_inserts_an_article_link(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Lan on the case of a customer who cannot sign in
    page = new_page()
    sign_in(page, console, "lan", then=f"/console/cases/{console.data.cases['login']}")
    panel = page.locator(".kb-panel")
    # Then the login article is suggested
    suggested = panel.locator("#kb-suggested .kb-hit", has_text=LOGIN_ARTICLE)
    expect(suggested).to_be_visible()
    # When she searches the knowledge base and inserts a link to an article
    page.locator("#kb-q").fill("hoa don")
    hit = panel.locator("#kb-results .kb-hit", has_text="Xuất hóa đơn điện tử")
    expect(hit).to_be_visible()
    hit.get_by_role("button", name="Chèn liên kết").click()
    # Then the reply box holds the article's public address
    article_id = console.data.articles["Xuất hóa đơn điện tử"]
    expect(page.locator("#reply-body")).to_have_value(
        re.compile(rf"/support/kb/articles/{article_id}\b")
    )
    shot(page, "01-link-inserted")
