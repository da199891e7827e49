"""Browser test of an agent's own profile: display name, console language, picture."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]


def one_pixel_png() -> bytes:
    """A real 1×1 PNG (the desk checks the bytes, not the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x0b\x6b\xcb")  # filter byte, then one blue pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_agent_renames_themselves_switches_language_and_adds_a_picture(
    console: Console, new_page: Callable[..., Page], shot: Shot, tmp_path: Path
) -> None:
    page = new_page("vi-VN")
    sign_in(page, console, "thu", then="/console/profile")

    page.locator("#details-form input[name=name]").fill("Ngô Thu")
    page.locator("#details-form select[name=locale]").select_option("en")
    page.locator("#details-form button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("Your name and language were saved.")
    expect(page.locator("header.top a.me")).to_contain_text("Ngô Thu")
    expect(page.locator("main h1").first).to_have_text("My profile")

    picture = tmp_path / "thu.png"
    picture.write_bytes(one_pixel_png())
    page.locator("input[name=avatar]").set_input_files(str(picture))
    page.locator(".avatar-form button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("Your picture was saved.")
    header_picture = page.locator("header.top a.me img.avatar")
    expect(header_picture).to_have_count(1)
    loaded = header_picture.evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 1
    shot(page, "profile-with-picture")

    # Back to Vietnamese for the next tests of the session
    page.locator("#details-form select[name=locale]").select_option("vi")
    page.locator("#details-form button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("Đã lưu tên và ngôn ngữ của bạn.")
