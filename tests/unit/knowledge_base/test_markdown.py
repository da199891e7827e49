"""Markdown rendering: CommonMark to HTML that is safe to show, and its plain text."""

from __future__ import annotations

import pytest

from knowledge_base.markdown import render, sanitize


def test_markdown_becomes_html_and_text():
    out = render(
        "# Đổi mật khẩu\n\nBấm **Quên mật khẩu** rồi [xem](https://hotro.vn).\n\n- một\n- hai"
    )
    assert out.html == (
        "<h1>Đổi mật khẩu</h1>\n"
        '<p>Bấm <strong>Quên mật khẩu</strong> rồi <a href="https://hotro.vn" '
        'rel="noopener noreferrer">xem</a>.</p>\n'
        "<ul>\n<li>một</li>\n<li>hai</li>\n</ul>\n"
    )
    assert out.text == "Đổi mật khẩu\nBấm Quên mật khẩu rồi xem.\nmột\nhai"


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "alert"),
        ("Xin chào <script>document.cookie</script> bạn", "cookie"),
        ("<style>body { display: none }</style>", "display"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">bấm</a>', "javascript"),
        ("[bấm](javascript:alert(1))", 'href="javascript'),
        ('<div onclick="steal()">x</div>', "onclick"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ('<form action="/x"><input name="p"></form>', "<input"),
        ('<p style="position:fixed">x</p>', "position"),
    ],
)
def test_dangerous_markup_is_removed(source, forbidden):
    assert forbidden not in render(source).html


def test_script_tags_are_removed_with_their_content_but_the_text_around_stays():
    out = render("Trước <script>alert('x')</script> sau")
    assert "<script" not in out.html
    assert "Trước" in out.html
    assert "sau" in out.html
    assert out.text == "Trước sau"


def test_harmless_html_and_table_alignment_are_kept():
    out = render("Nhấn <kbd>Ctrl</kbd>.\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert "<kbd>Ctrl</kbd>" in out.html
    assert '<td style="text-align:right">2</td>' in out.html
    cleaned = sanitize('<table><tr><td style="text-align:left;color:red">x</td></tr></table>')
    assert '<td style="text-align:left">x</td>' in cleaned


def test_text_decodes_entities_and_keeps_code():
    out = render("Dùng `<b>` & `a < b`\n\n```\nprint('xin chào')\n```")
    assert out.text == "Dùng <b> & a < b\nprint('xin chào')"
    assert "&lt;b&gt;" in out.html


def test_decomposed_vietnamese_is_normalised():
    decomposed = "Kho\u0302ng"  # "Không" with a combining circumflex
    assert render(decomposed).text == "Không"
