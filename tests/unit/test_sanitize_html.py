"""Mail HTML shown to agents: no scripts, no remote images, no ``data:`` links."""

from __future__ import annotations

import pytest

from helpdesk.services.messages import sanitize_html

PIXEL = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("html", "kept", "gone"),
    [
        (f'<img src="{PIXEL}">', PIXEL, None),
        ('<img src="cid:logo@x">', "cid:logo@x", None),
        ('<img src="https://tracker.example/p.gif">', None, "tracker.example"),
        ('<img src="data:text/html;base64,PHNjcmlwdD4=">', None, "data:text/html"),
        ('<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>', None, "data:"),
        ('<a href=" DATA:text/html,x">x</a>', None, "DATA:"),
        ('<a href="https://shop.example/don-hang">đơn hàng</a>', "https://shop.example", None),
        ('<a href="javascript:alert(1)">x</a>', None, "javascript"),
        ("<script>alert(1)</script><p>Chào</p>", "Chào", "alert"),
    ],
)
def test_only_safe_urls_survive(html: str, kept: str | None, gone: str | None) -> None:
    clean = sanitize_html(html)
    if kept is not None:
        assert kept in clean
    if gone is not None:
        assert gone not in clean
