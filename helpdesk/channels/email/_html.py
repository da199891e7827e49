"""Plain text from an HTML mail body, for mail that has no text/plain part."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"}
)
_BLOCKS = _PARAGRAPHS | {
    "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "header", "li", "main", "nav", "section", "tbody", "thead",
    "tfoot", "tr",
}  # fmt: skip
_SKIP = frozenset({"script", "style", "title", "template"})
_CELLS = frozenset({"td", "th"})
_TAG = re.compile(r"<[^>]*>")
_BLANK_RUNS = re.compile(r"\n{3,}")
MAX_HTML = 2_000_000
"""Only this many characters of HTML are turned into text (html.parser reads ~1-2 MB/s)."""


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.quote_depth = 0
        self.pre_depth = 0
        self.skip_depth = 0
        self.pending_breaks = 0

    def _break(self, count: int) -> None:
        self.pending_breaks = max(self.pending_breaks, count)

    def _emit(self, text: str) -> None:
        if self.pending_breaks and (self.current or self.lines):
            self._newline()
            for _ in range(self.pending_breaks - 1):
                self.lines.append(self.prefix.rstrip())
        self.pending_breaks = 0
        if not self.current:
            self.prefix = "> " * self.quote_depth
        self.current.append(text)

    def _newline(self) -> None:
        self.lines.append((self.prefix + "".join(self.current)).rstrip())
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            if not self.current:
                self.prefix = "> " * self.quote_depth
            self._newline()
        elif tag in _BLOCKS:
            self._break(2 if tag in _PARAGRAPHS else 1)
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag == "li":
                self._emit("- ")
        elif tag in _CELLS and self.current and not self.pending_breaks:
            self._emit("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCKS:
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._break(2 if tag in _PARAGRAPHS else 1)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            first, *rest = data.split("\n")
            self._emit(first)
            for line in rest:
                self._newline()
                self._emit(line)
            return
        text = " ".join(data.split())
        if not text:
            if data and self.current and not self.current[-1].endswith((" ", "\t")):
                self.current.append(" ")
            return
        if data[:1].isspace() and self.current and not self.current[-1].endswith((" ", "\t")):
            text = " " + text
        if data[-1:].isspace():
            text += " "
        self._emit(text)

    def result(self) -> str:
        if self.current:
            self._newline()
        return "\n".join(self.lines)


def html_to_text(markup: str) -> str:
    """Readable plain text from HTML: paragraphs and line breaks kept, tags dropped.

    Block elements become line breaks, list items start with ``- `` and
    ``<blockquote>`` content is prefixed with ``> `` (so quoted history can be
    split off like in plain text). Scripts, styles and titles are dropped.
    Links keep their text only. This is a reading aid, not a faithful rendering:
    only the first :data:`MAX_HTML` characters are read, and on markup the
    parser chokes on, tags are simply stripped.
    """
    markup = markup[:MAX_HTML]
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
        text = extractor.result()
    except Exception:  # html.parser may raise on odd declarations
        text = html.unescape(_TAG.sub(" ", markup))
    lines = [line.rstrip() for line in text.split("\n")]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return text + "\n" if text else ""
