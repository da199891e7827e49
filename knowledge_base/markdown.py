"""Markdown of articles to safe HTML, and to plain text for search and snippets.

Articles are CommonMark with tables and strikethrough, parsed by
``markdown-it-py``. Authors may mix in HTML (``<kbd>``, ``<details>``, …);
whatever the renderer produces is then cleaned by ``nh3`` (an allow-list
sanitizer): scripts and styles are removed with their content, event
handlers and ``javascript:`` links are dropped, links get
``rel="noopener noreferrer"``. Only the cleaned HTML is ever stored or served.
"""

from __future__ import annotations

import html
import unicodedata

import msgspec
import nh3
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "style"},
    "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "style"},
    "img": {*nh3.ALLOWED_ATTRIBUTES["img"], "title"},
    "a": {*nh3.ALLOWED_ATTRIBUTES["a"], "title"},
}


class Rendered(msgspec.Struct, frozen=True):
    """An article body rendered: sanitised ``html`` and the ``text`` a reader sees."""

    html: str
    text: str


def sanitize(markup: str) -> str:
    """HTML safe to show: only allow-listed tags, attributes and URL schemes.

    Table cells keep their ``text-align`` style and nothing else of ``style``.
    """
    return nh3.clean(
        markup,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
    )


def html_to_text(markup: str) -> str:
    """The text of (sanitised) HTML: tags removed, entities decoded, one line per block."""
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def render(source: str) -> Rendered:
    """Render Markdown ``source`` (normalised to NFC first) to safe HTML and plain text.

    Pure and deterministic: the same source always gives the same result.
    """
    source = unicodedata.normalize("NFC", source)
    clean = sanitize(_PARSER.render(source))
    return Rendered(html=clean, text=html_to_text(clean))
