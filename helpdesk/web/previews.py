"""Attachments shown in the browser (images inline, PDFs in the browser's viewer), safely.

Only types a browser shows without running anything of ours are shown
inline: PNG, JPEG, GIF and WebP images, and PDF. Anything else (SVG, HTML,
text, unknown types) is sent as a download by :func:`helpdesk.web.downloads.download`.
The stored content type decides, exactly as stored; with ``nosniff`` the
browser never guesses another one, so a file that claims to be a PNG but
holds HTML is shown as a broken image, never run as a page.

Headers: ``Content-Disposition: inline`` with the exact file name, ``nosniff``,
``Cache-Control: private, max-age=0``, and a Content-Security-Policy that
loads nothing else (images are also sandboxed; a PDF is not, because
Chromium's viewer refuses sandboxed documents, and a PDF cannot run script
in our origin). The caller checks the permission before it gets the bytes.
"""

from __future__ import annotations

from litestar import Response

from helpdesk.web.downloads import content_disposition, download

__all__ = ["IMAGE_TYPES", "PDF_TYPE", "is_previewable", "preview"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PDF_TYPE = "application/pdf"
_IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"


def _kind(content_type: str) -> str:
    value = content_type.split(";")[0].strip().lower()
    if value in IMAGE_TYPES:
        return "image"
    return "pdf" if value == PDF_TYPE else ""


def is_previewable(content_type: str) -> bool:
    """True when :func:`preview` shows a file of this type inline."""
    return bool(_kind(content_type))


def preview(content: bytes, filename: str, content_type: str) -> Response[bytes]:
    """``content`` shown inline when its type is an image or PDF (see the module),
    else the same download as :func:`helpdesk.web.downloads.download`."""
    kind = _kind(content_type)
    if not kind:
        return download(content, filename, content_type)
    disposition = "inline" + content_disposition(filename).removeprefix("attachment")
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _IMAGE_CSP if kind == "image" else _PDF_CSP,
        "Cache-Control": "private, max-age=0",
    }
    media_type = content_type.split(";")[0].strip().lower()
    return Response(content, media_type=media_type, headers=headers)
