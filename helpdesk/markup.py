"""Markdown as agents write it: a safe subset rendered to HTML for the thread and the mail.

The subset is bold, italic, lists, links, inline code and code blocks, and
quotes, with line breaks kept as typed. Everything else stays text: raw HTML
is shown as text (``<script>`` reads as ``<script>``), no headings, tables
or images. Links are only ``http``, ``https`` and ``mailto``: markdown-it
refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links (they
stay text), and the output goes through :mod:`nh3` with an allow-list of
tags, attributes and URL schemes as a second fence, so even a bug in the
parser cannot put a script or an event handler into a page or a mail.

The Markdown source is what the message keeps as its text: it reads as
plain text (links keep their address), so it is the mail's ``text/plain``
part and what the API shows; the HTML is the mail's ``text/html`` part and
what the console and the portal show.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Callable, Mapping

import nh3
from markdown_it import MarkdownIt

from helpdesk.schemas import MessageOut

__all__ = [
    "SIGNATURE_SEPARATOR",
    "inline_images",
    "message_html",
    "render_markdown",
    "with_signature",
]

SIGNATURE_SEPARATOR = "-- "
"""The usual mail signature separator ("dash dash space"), on a line of its own."""

_RULES = [
    "emphasis",
    "list",
    "link",
    "backticks",
    "fence",
    "code",
    "blockquote",
    "newline",
    "escape",
    "entity",
    "autolink",
]
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _parser() -> MarkdownIt:
    options = {"breaks": True, "html": False, "linkify": False, "typographer": False}
    return MarkdownIt("zero", options).enable(_RULES)


def render_markdown(source: str) -> str:
    """Safe HTML of ``source`` (see the module for the subset and the fences).

    Empty text gives an empty string. The result may be put in a page as it
    is; it is not guaranteed to match another Markdown renderer's output.
    """
    if not source.strip():
        return ""
    html = _parser().render(source)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def with_signature(body: str, signature: str) -> str:
    """``body`` followed by ``signature`` under the signature separator (``body``
    unchanged when the signature is blank)."""
    if not signature.strip():
        return body
    return f"{body.rstrip()}\n\n{SIGNATURE_SEPARATOR}\n{signature.strip()}"


_PASTED = re.compile(r"\[(pasted-\d{8}-\d{6}-\d{1,4}\.(?:png|jpg|gif|webp))\]")


def inline_images(html: str, urls: Mapping[str, str]) -> str:
    """``html`` (already safe) with each ``[pasted-….png]`` reference to an image
    pasted into the message replaced by that image, from ``urls`` (file name →
    URL of the message's attachment). References to names not in ``urls`` stay
    as they are; only the pasted-image name pattern is ever replaced."""

    def image(match: re.Match[str]) -> str:
        url = urls.get(match.group(1))
        if url is None:
            return match.group(0)
        src, alt = html_lib.escape(url), html_lib.escape(match.group(1))
        return f'<img class="inline-image" src="{src}" alt="{alt}">'

    return _PASTED.sub(image, html)


_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def message_html(message: MessageOut, url_of: Callable[[int], str]) -> str:
    """The message's (safe) HTML with its pasted images shown where they were
    pasted; ``url_of(attachment_id)`` is the face's route to an attachment."""
    urls = {a.filename: url_of(a.id) for a in message.attachments if a.content_type in _IMAGE_TYPES}
    return inline_images(message.body_html, urls) if urls else message.body_html
