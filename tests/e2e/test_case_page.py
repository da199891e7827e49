"""The case page in a real browser: send and solve from the reply box, the Markdown
preview with the signature, attachment thumbnails, and the history panel."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]

# Pastes a one-pixel PNG into the text box with the given id, as the clipboard would.
PASTE_IMAGE = """id => {
  const bytes = Uint8Array.from(atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4DwAAAQEABRjYTgAAAABJRU5ErkJggg=="
  ), c => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "image.png", { type: "image/png" }));
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  document.getElementById(id).dispatchEvent(new ClipboardEvent("paste", init));
}"""


def test_an_agent_previews_signs_sends_and_solves_and_sees_the_history(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Lan, signed in, with a signature saved on her profile
    page = new_page()
    sign_in(page, console, "lan", then="/console/profile")
    page.locator("#signature-body").fill("Trân trọng,\n**Nguyễn Thị Lan**")
    page.get_by_role("button", name="Lưu chữ ký").click()
    expect(page.locator(".flash-ok")).to_have_text("Đã lưu chữ ký của bạn.")
    shot(page, "01-signature")

    # When she opens a case with a picture from the customer
    page.goto(console.case_url("case_page"))
    # Then the picture shows as a thumbnail, through the console's checked route
    thumb = page.locator(".files .thumb img")
    expect(thumb).to_have_attribute("alt", "may in.png")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1", arg=thumb.element_handle()
    )
    # and the history tells how the case came in
    history = page.locator("#history")
    expect(history).to_contain_text("đã tạo yêu cầu")
    shot(page, "02-case")

    # When she writes Markdown and asks for a preview
    box = page.locator("#reply-body")
    box.fill("**Đã sửa** máy in\n\n- khởi động lại\n- in thử\n\n<script>alert(1)</script>")
    page.locator("button.preview-toggle[data-preview-kind=reply]").click()
    # Then she sees it rendered, safe, and signed; the box is hidden meanwhile
    preview = page.locator("#reply-preview")
    expect(preview.locator("strong").first).to_have_text("Đã sửa")
    expect(preview.locator("li")).to_have_count(2)
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, not run
    expect(preview.locator("strong").last).to_have_text("Nguyễn Thị Lan")
    expect(box).to_be_hidden()
    shot(page, "03-preview")
    # and "Edit" brings the box back as she left it
    page.locator("button.preview-toggle[data-preview-kind=reply]").click()
    expect(box).to_be_visible()
    expect(preview).to_be_hidden()

    # When she pastes a screenshot into the box
    box.evaluate("box => box.setSelectionRange(box.value.length, box.value.length)")
    page.evaluate(PASTE_IMAGE, "reply-body")
    # Then it joins the reply's files and a reference to it is typed where she was
    expect(box).to_have_value(re.compile(r"\[pasted-\d{8}-\d{6}-1\.png\]$"))
    files = page.locator("form.reply input[name=attachments]")
    assert files.evaluate("input => input.files.length") == 1

    # When she sends it and sets the case to solved in one go
    page.locator("#reply-then").select_option("solved")
    expect(page.locator("#send-reply")).to_have_text("Gửi và chuyển sang: Đã giải quyết")
    page.locator("#send-reply").click()
    # Then the reply is sent, rendered, and the case is solved
    expect(page.locator(".flash-ok")).to_have_text(
        "Đã gửi câu trả lời; yêu cầu đã được giải quyết."
    )
    expect(page.locator(".case-head [data-status]")).to_have_text("Đã giải quyết")
    reply = page.locator(".msg-reply").last
    expect(reply.locator(".body-md strong").first).to_have_text("Đã sửa")
    expect(reply).to_contain_text("Nguyễn Thị Lan")
    pasted = reply.locator("img.inline-image")  # shown where it was pasted
    expect(pasted).to_have_attribute("alt", re.compile(r"^pasted-.*\.png$"))
    page.wait_for_function("img => img.naturalWidth === 1", arg=pasted.element_handle())
    # and the history names her for the reply and the status change, newest first
    expect(history.locator("li").first).to_contain_text(
        "Nguyễn Thị Lan đã đổi trạng thái từ Đang xử lý sang Đã giải quyết"
    )
    expect(history).to_contain_text("Nguyễn Thị Lan đã trả lời khách hàng")
    expect(history.locator("time").first).to_have_text(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    shot(page, "04-solved")
