"""Walking the MIME tree of a mail: choosing the body parts, collecting the attachments."""

from __future__ import annotations

import re

from helpdesk.channels.email._charset import (
    codec_for,
    decode_bytes,
    normalize_newlines,
    scrub,
    sniff_html_charset,
)
from helpdesk.channels.email._mime import (
    Headers,
    Msg,
    content_id,
    content_type,
    decode_transfer,
    disposition,
    extension_for,
    filename,
    flatten,
    param,
    payload_bytes,
    safe_filename,
    subparts,
    transfer_encoding,
)
from helpdesk.channels.email.schemas import ParsedAttachment

MAX_DEPTH = 30
MAX_PARTS = 1000
_BODY_TYPES = ("text/plain", "text/html")
_MESSAGE_TYPES = ("message/rfc822", "message/global")
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*]')


class Body:
    """The text parts of the body, in order, and every other part as an attachment."""

    def __init__(self, linesep: str) -> None:
        self.linesep = linesep
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.defects: list[str] = []
        self.count = 0

    def defect(self, note: str) -> None:
        """Record an oddity once."""
        if note not in self.defects:
            self.defects.append(note)

    def visit(self, part: Msg, depth: int = 0, body_ok: bool = True) -> None:
        """Take in ``part`` and everything below it.

        A text/plain or text/html part is body when it is not marked as an
        attachment and has no filename; every other leaf is an attachment. Each
        part is handled on its own: one broken part does not lose the others.
        """
        self.count += 1
        if self.count > MAX_PARTS:
            self.defect(f"more than {MAX_PARTS} MIME parts: the rest was ignored")
            return
        if depth > MAX_DEPTH:
            self.defect(f"MIME nesting deeper than {MAX_DEPTH}: the rest was ignored")
            return
        for found in getattr(part, "defects", ()):
            self.defect(type(found).__name__)
        try:
            self._visit(part, depth, body_ok)
        except Exception as exc:  # keep the other parts
            self.defect(f"internal: part {self.count}: {type(exc).__name__}")

    def _visit(self, part: Msg, depth: int, body_ok: bool) -> None:
        ctype = content_type(part)
        children = subparts(part)
        if children is not None:
            if not ctype.startswith("multipart/"):
                self._attach_message(part, ctype, children)
            elif ctype == "multipart/alternative":
                self._alternative(children, depth, body_ok)
            elif ctype == "multipart/related":
                self._related(part, children, depth, body_ok)
            else:
                for child in children:
                    self.visit(child, depth + 1, body_ok)
            return
        if ctype.startswith("multipart/"):
            self.defect(f"{ctype} without a usable boundary: read as text")
            ctype = "text/plain"
        kind = disposition(part)
        name = filename(part)
        if body_ok and ctype in _BODY_TYPES and kind != "attachment" and name is None:
            self._body_text(part, ctype)
            return
        self._attach(part, ctype, name, kind, payload_bytes(part))

    def _alternative(self, children: list[Msg], depth: int, body_ok: bool) -> None:
        saved_plain, saved_html = self.plain, self.html
        chosen_plain: list[str] = []
        chosen_html: list[str] = []
        for child in children:
            self.plain, self.html = [], []
            self.visit(child, depth + 1, body_ok)
            if not chosen_plain and any(text.strip() for text in self.plain):
                chosen_plain = self.plain
            if self.html:
                chosen_html = self.html
        self.plain, self.html = saved_plain, saved_html
        self.plain.extend(chosen_plain)
        self.html.extend(chosen_html)

    def _related(self, part: Msg, children: list[Msg], depth: int, body_ok: bool) -> None:
        start = (param(part, "start") or "").strip("<> ")
        root = next((c for c in children if start and content_id(c) == start), None)
        root = root or (children[0] if children else None)
        for child in children:
            self.visit(child, depth + 1, body_ok and child is root)

    def _body_text(self, part: Msg, ctype: str) -> None:
        data = payload_bytes(part)
        charset = param(part, "charset")
        if charset is None and ctype == "text/html":
            charset = sniff_html_charset(data)
        if charset is not None and codec_for(charset) is None and not data.isascii():
            self.defect(f"unknown charset {charset[:40]!r}: guessed")
        text = scrub(normalize_newlines(decode_bytes(data, charset)))
        (self.plain if ctype == "text/plain" else self.html).append(text)

    def _attach_message(self, part: Msg, ctype: str, children: list[Msg]) -> None:
        chunks = [flatten(child, self.linesep) for child in children]
        content = b"".join(chunks[:1] if ctype in _MESSAGE_TYPES else chunks)
        cte = transfer_encoding(part)
        if cte in ("base64", "quoted-printable"):
            content = decode_transfer(content.lstrip(b"\r\n"), cte)
        name = filename(part)
        if name is None and ctype in _MESSAGE_TYPES and children:
            subject = Headers(children[0]).text("subject")
            name = safe_filename(_UNSAFE_NAME.sub("_", subject[:80])) if subject else None
        self._attach(part, ctype, name, disposition(part), content)

    def _attach(
        self, part: Msg, ctype: str, name: str | None, kind: str | None, content: bytes
    ) -> None:
        if not name:
            name = f"attachment-{len(self.attachments) + 1}{extension_for(ctype)}"
        if ctype in _MESSAGE_TYPES and not name.lower().endswith(".eml"):
            name += ".eml"
        cid = content_id(part)
        self.attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=ctype,
                content=content,
                inline=kind == "inline" or (kind is None and cid is not None),
                content_id=cid,
            )
        )

    def text(self) -> str:
        """The text/plain body parts joined, each ending with a line break but the last."""
        return _join(self.plain)

    def html_text(self) -> str | None:
        """The text/html body parts joined, or None when there is none."""
        return _join(self.html) if self.html else None


def _join(parts: list[str]) -> str:
    out = [p if p.endswith("\n") or i == len(parts) - 1 else p + "\n" for i, p in enumerate(parts)]
    return "".join(out)
