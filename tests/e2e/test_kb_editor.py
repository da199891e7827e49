"""The knowledge-base editor in a real browser: a manager writes an article with
a preview, publishes it, reads it on the portal, and restores an older version.

Given/When/Then in the test body; texts are checked in Vietnamese (the default).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]
TITLE = "Cách đổi địa chỉ email đăng nhập"
FIRST = "Vào **Cài đặt**, chọn _Email_ rồi bấm Lưu.\n\n<script>document.title='x'</script>"
SECOND = "Vào **Hồ sơ cá nhân** rồi đổi email."


def test_a_manager_writes_publishes_and_restores_an_article(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Huy, a manager, on the knowledge base's list, reached from the menu
    page = new_page()
    sign_in(page, console, "huy")
    page.locator("nav.queues a[href='/console/kb/articles']").click()
    expect(page.locator("h1")).to_have_text("Cơ sở tri thức")

    # When he writes a new article and previews it
    page.locator(".kb-tabs a[href='/console/kb/articles/new']").click()
    expect(page.locator("h1")).to_have_text("Bài viết mới")
    page.locator("input[name=title]").fill(TITLE)
    page.locator("textarea[name=body]").fill(FIRST)
    page.locator("button[data-action=preview]").click()

    # Then the preview shows the Markdown rendered, without the script, and nothing is saved
    preview = page.locator("#kb-preview")
    expect(preview.locator("strong")).to_have_text("Cài đặt")
    expect(preview.locator("em")).to_have_text("Email")
    expect(preview.locator("script")).to_have_count(0)
    expect(page.locator("textarea[name=body]")).to_have_value(FIRST)
    shot(page, "01-preview")

    # When he saves and publishes it in one click
    page.locator("button[data-action=save]").click()
    expect(page.locator(".flash")).to_have_text("Đã lưu bài viết.")
    actions = page.locator("section.kb-actions")
    article_id = actions.get_attribute("data-article")
    page.locator("button[data-action=publish]").click()
    expect(page.locator(".flash")).to_contain_text("Đã xuất bản bài viết")
    expect(page.locator("section.kb-actions [data-status]").first).to_have_text("Đã xuất bản")

    # And changes its text
    page.locator("textarea[name=body]").fill(SECOND)
    page.locator("button[data-action=save]").click()
    expect(page.locator(".flash")).to_have_text("Đã lưu bài viết.")
    shot(page, "02-published")

    # Then customers read the new text on the portal
    portal = new_page()
    portal.goto(console.url(f"/support/kb/articles/{article_id}"))
    expect(portal.locator("h1")).to_have_text(TITLE)
    expect(portal.locator(".kb-body strong")).to_have_text("Hồ sơ cá nhân")
    shot(portal, "03-portal")

    # When he restores the version he published first, from the history
    page.locator("section.kb-actions a[href$='/history']").click()
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator("tr.current")).to_contain_text("Phạm Quốc Huy")
    expect(page.locator("table.kb-history td").nth(3)).to_have_text(
        re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$")
    )
    page.locator("tr[data-version='2'] a").click()
    expect(page.locator(".kb-old strong")).to_have_text("Cài đặt")
    shot(page, "04-old-version")
    page.locator("button[data-action=restore]").click()
    expect(page.locator(".flash")).to_contain_text("Đã khôi phục phiên bản trước")
    expect(page.locator("textarea[name=body]")).to_have_value(re.compile(r"^Vào \*\*Cài đặt\*\*"))

    # Then the portal shows the restored text
    portal.reload()
    expect(portal.locator(".kb-body strong")).to_have_text("Cài đặt")
    shot(portal, "05-portal-restored")

    # When he adds the English translation, the original beside the form
    page.locator("a[data-add-translation]").click()
    expect(page.locator("h1")).to_have_text("Thêm bản dịch")
    expect(page.locator(".kb-original strong")).to_have_text("Cài đặt")
    expect(page.locator("select[name=locale]")).to_have_value("en")
    page.locator("input[name=title]").fill("Changing your sign-in email")
    page.locator("textarea[name=body]").fill("Open **Settings**, then choose _Email_.")
    shot(page, "06-translation")
    page.locator("button[data-action=save]").click()

    # Then both articles name each other as translations
    expect(page.locator(".flash")).to_have_text("Đã lưu bài viết.")
    expect(page.locator(f"a[data-translation='vi'][href$='/{article_id}']")).to_be_visible()
