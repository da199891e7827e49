"""File downloads: one safe response for an attachment, a report, an export.

Always a download (``Content-Disposition: attachment`` with the exact name in
``filename*``), with ``nosniff``, a sandboxing Content-Security-Policy and
``Cache-Control: private, max-age=0``, so a stored HTML file can never run
in the helpdesk's origin, and a stored content type can never inject a header.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from litestar import Response

__all__ = ["content_disposition", "download", "safe_content_type"]

_SAFE_CONTENT_TYPE = re.compile(
    r"[A-Za-z0-9][\w.+-]{0,126}/[A-Za-z0-9][\w.+-]{0,126}(; ?charset=[A-Za-z0-9_-]{1,40})?"
)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the exact name in
    ``filename*`` (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{encoded}"


def safe_content_type(content_type: str) -> str:
    """The stored content type when it is a plain ``type/subtype`` (with a
    charset at most), else
    ``application/octet-stream`` (never lets a stored value inject headers)."""
    value = content_type.strip().lower()
    return value if _SAFE_CONTENT_TYPE.fullmatch(value) else "application/octet-stream"


def download(content: bytes | str, filename: str, content_type: str) -> Response[bytes]:
    """``content`` (text is sent as UTF-8) as a download named ``filename``
    (see the module for the headers)."""
    data = content.encode() if isinstance(content, str) else content
    headers = {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=0",
    }
    return Response(data, media_type=safe_content_type(content_type), headers=headers)
